// onestone's compiled part: the train layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_TRAIN_FLOAT 1
#include "onestone/onestone.hpp"
