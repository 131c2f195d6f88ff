#pragma once
/// @file weighting.hpp
/// Umbrella header of the task-balancing layer: the `Balancer` interface and its three families,
/// every method, the registry (`make_balancer`, `methods`) and the solvers.
///
/// @code
/// #include "onestone/weighting/weighting.hpp"
/// auto up = onestone::weighting::make_balancer<float>("upgrad");
/// onestone::weighting::Vector<float> d;
/// up->reset(J.rows());
/// up->combine_gradients(J, d);
/// @endcode

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/registry.hpp"
#include "onestone/weighting/solvers/cagrad_dual.hpp"
#include "onestone/weighting/solvers/min_norm.hpp"
#include "onestone/weighting/solvers/min_norm_2.hpp"
#include "onestone/weighting/solvers/nash.hpp"
#include "onestone/weighting/solvers/nnls.hpp"
#include "onestone/weighting/solvers/project_simplex.hpp"
