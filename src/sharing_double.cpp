// onestone's compiled part: the sharing layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_SHARING_DOUBLE 1
#include "onestone/onestone.hpp"
