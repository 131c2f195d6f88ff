#pragma once
/// @file onestone.hpp
/// The umbrella header: `#include <onestone/onestone.hpp>` gives the whole library.
///
/// onestone is a header-only C++17 library for multi-task learning on Eigen: a tensor and tape
/// autograd core, layers, losses, optimizers, parameter-sharing strategies, a multi-task model,
/// datasets and metrics.

#include "onestone/autograd/autograd.hpp"
#include "onestone/autograd/gradcheck.hpp"
#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/fashion_mnist.hpp"
#include "onestone/data/idx.hpp"
#include "onestone/data/loader.hpp"
#include "onestone/data/synthetic.hpp"
#include "onestone/io/atomic_file.hpp"
#include "onestone/io/checkpoint.hpp"
#include "onestone/io/json.hpp"
#include "onestone/io/safetensors.hpp"
#include "onestone/losses/binary_cross_entropy.hpp"
#include "onestone/losses/cross_entropy.hpp"
#include "onestone/losses/regression.hpp"
#include "onestone/metrics/classification.hpp"
#include "onestone/metrics/metric.hpp"
#include "onestone/metrics/regression.hpp"
#include "onestone/model/eval_report.hpp"
#include "onestone/model/multi_task_model.hpp"
#include "onestone/model/task.hpp"
#include "onestone/nn/nn.hpp"
#include "onestone/optim/optim.hpp"
#include "onestone/sharing/sharing.hpp"
#include "onestone/tensor/arena.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/shape.hpp"
#include "onestone/tensor/tensor.hpp"
#include "onestone/tensor/threads.hpp"
#include "onestone/train/progress_bar.hpp"
#include "onestone/version.hpp"
#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/registry.hpp"
#include "onestone/weighting/weighting.hpp"
