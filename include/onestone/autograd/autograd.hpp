#pragma once
/// @file autograd.hpp
/// Everything of the autograd layer: tape, Var, no-grad guard and all operations.

#include "onestone/autograd/grad_mode.hpp"
#include "onestone/autograd/operation.hpp"
#include "onestone/autograd/ops/arithmetic.hpp"
#include "onestone/autograd/ops/batch_norm.hpp"
#include "onestone/autograd/ops/combine.hpp"
#include "onestone/autograd/ops/conv.hpp"
#include "onestone/autograd/ops/conv_transpose.hpp"
#include "onestone/autograd/ops/dropout.hpp"
#include "onestone/autograd/ops/linalg.hpp"
#include "onestone/autograd/ops/norm.hpp"
#include "onestone/autograd/ops/pool.hpp"
#include "onestone/autograd/ops/reduce.hpp"
#include "onestone/autograd/ops/select.hpp"
#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/autograd/ops/softmax.hpp"
#include "onestone/autograd/ops/unary.hpp"
#include "onestone/autograd/ops/upsample.hpp"
#include "onestone/autograd/tape.hpp"
#include "onestone/autograd/var.hpp"
#include "onestone/autograd/var_list.hpp"
