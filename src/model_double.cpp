// onestone's compiled part: the model layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_MODEL_DOUBLE 1
#include "onestone/onestone.hpp"
