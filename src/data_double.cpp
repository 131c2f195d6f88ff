// onestone's compiled part: the data layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_DATA_DOUBLE 1
#include "onestone/onestone.hpp"
