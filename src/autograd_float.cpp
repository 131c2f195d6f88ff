// onestone's compiled part: the autograd layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_AUTOGRAD_FLOAT 1
#include "onestone/onestone.hpp"
