// onestone's compiled part: the model layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_MODEL_FLOAT 1
#include "onestone/onestone.hpp"
