// onestone's compiled part: the nn layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_NN_DOUBLE 1
#include "onestone/onestone.hpp"
