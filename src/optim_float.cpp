// onestone's compiled part: the optim layer's templates for float (see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_OPTIM_FLOAT 1
#include "onestone/onestone.hpp"
