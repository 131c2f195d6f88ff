// onestone's compiled part: the templates of the nn, optim, losses, metrics, data, model, sharing,
// train and io layers for float, in one translation unit (each of these layers alone compiles in
// 7 - 16 s, of which ~4.5 s is reading onestone.hpp; see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_NN_FLOAT 1
#define ONESTONE_INSTANTIATE_OPTIM_FLOAT 1
#define ONESTONE_INSTANTIATE_LOSSES_FLOAT 1
#define ONESTONE_INSTANTIATE_METRICS_FLOAT 1
#define ONESTONE_INSTANTIATE_DATA_FLOAT 1
#define ONESTONE_INSTANTIATE_MODEL_FLOAT 1
#define ONESTONE_INSTANTIATE_SHARING_FLOAT 1
#define ONESTONE_INSTANTIATE_TRAIN_FLOAT 1
#define ONESTONE_INSTANTIATE_IO_FLOAT 1
#include "onestone/onestone.hpp"
