// onestone's compiled part: the weighting layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_WEIGHTING_FLOAT 1
#include "onestone/onestone.hpp"
