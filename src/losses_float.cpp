// onestone's compiled part: the losses layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_LOSSES_FLOAT 1
#include "onestone/onestone.hpp"
