// onestone's compiled part: the optim layer's templates for double (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_OPTIM_DOUBLE 1
#include "onestone/onestone.hpp"
