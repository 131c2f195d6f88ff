// onestone's compiled part: the metrics layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_METRICS_DOUBLE 1
#include "onestone/onestone.hpp"
