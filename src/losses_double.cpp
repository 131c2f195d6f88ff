// onestone's compiled part: the losses layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_LOSSES_DOUBLE 1
#include "onestone/onestone.hpp"
