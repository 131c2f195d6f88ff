// onestone's compiled part: the train layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_TRAIN_DOUBLE 1
#include "onestone/onestone.hpp"
