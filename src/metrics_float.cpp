// onestone's compiled part: the metrics layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_METRICS_FLOAT 1
#include "onestone/onestone.hpp"
