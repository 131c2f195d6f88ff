// onestone's compiled part: the templates of the nn, optim, losses, metrics, data, model, sharing,
// train and io layers for double, in one translation unit (each of these layers alone compiles in
// 7 - 16 s, of which ~4.5 s is reading onestone.hpp; see onestone/config.hpp).
#define ONESTONE_INSTANTIATE_NN_DOUBLE 1
#define ONESTONE_INSTANTIATE_OPTIM_DOUBLE 1
#define ONESTONE_INSTANTIATE_LOSSES_DOUBLE 1
#define ONESTONE_INSTANTIATE_METRICS_DOUBLE 1
#define ONESTONE_INSTANTIATE_DATA_DOUBLE 1
#define ONESTONE_INSTANTIATE_MODEL_DOUBLE 1
#define ONESTONE_INSTANTIATE_SHARING_DOUBLE 1
#define ONESTONE_INSTANTIATE_TRAIN_DOUBLE 1
#define ONESTONE_INSTANTIATE_IO_DOUBLE 1
// The non-template functions of the headers (file readers and writers, logs), once.
#define ONESTONE_INSTANTIATE_FUNCTIONS 1
#include "onestone/onestone.hpp"
