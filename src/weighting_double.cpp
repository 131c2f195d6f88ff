// onestone's compiled part: the weighting layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_WEIGHTING_DOUBLE 1
#include "onestone/onestone.hpp"
