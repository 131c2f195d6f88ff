// onestone's compiled part: the data layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_DATA_FLOAT 1
#include "onestone/onestone.hpp"
