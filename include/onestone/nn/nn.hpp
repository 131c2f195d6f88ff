#pragma once
/// @file nn.hpp
/// Everything of the nn layer.

#include "onestone/nn/activation.hpp"
#include "onestone/nn/batch_norm.hpp"
#include "onestone/nn/conv.hpp"
#include "onestone/nn/dropout.hpp"
#include "onestone/nn/extra_state.hpp"
#include "onestone/nn/flatten.hpp"
#include "onestone/nn/init.hpp"
#include "onestone/nn/layer_norm.hpp"
#include "onestone/nn/linear.hpp"
#include "onestone/nn/mlp.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/nn/parameter.hpp"
#include "onestone/nn/pool.hpp"
#include "onestone/nn/resnet.hpp"
#include "onestone/nn/sequential.hpp"
#include "onestone/nn/upsample.hpp"
