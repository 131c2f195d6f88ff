// onestone's compiled part: the nn layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_NN_FLOAT 1
#include "onestone/onestone.hpp"
