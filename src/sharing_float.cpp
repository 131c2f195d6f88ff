// onestone's compiled part: the sharing layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_SHARING_FLOAT 1
#include "onestone/onestone.hpp"
