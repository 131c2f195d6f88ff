// onestone's compiled part: the autograd layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_AUTOGRAD_DOUBLE 1
#include "onestone/onestone.hpp"
