#pragma once
/// @file weighting.hpp
/// Umbrella header of the task-balancing layer: every gradient combiner and its solvers.
///
/// Each combiner is a class template on the scalar T with
/// `combine(const Jacobian<T>& J, Vector<T>& d)` (plus `const Vector<T>* losses` where needed),
/// J having one row per task; the update is θ ← θ − lr·d.
///
/// @code
/// #include "onestone/weighting/weighting.hpp"
/// onestone::weighting::UPGrad<float> up;
/// onestone::weighting::Vector<float> d;
/// up.combine(J, d);
/// @endcode

#include "onestone/weighting/combiners/aligned_mtl.hpp"
#include "onestone/weighting/combiners/cagrad.hpp"
#include "onestone/weighting/combiners/config.hpp"
#include "onestone/weighting/combiners/dual_cone.hpp"
#include "onestone/weighting/combiners/dualproj.hpp"
#include "onestone/weighting/combiners/equal.hpp"
#include "onestone/weighting/combiners/graddrop.hpp"
#include "onestone/weighting/combiners/gradvac.hpp"
#include "onestone/weighting/combiners/imtl_g.hpp"
#include "onestone/weighting/combiners/mgda.hpp"
#include "onestone/weighting/combiners/moco.hpp"
#include "onestone/weighting/combiners/nash_mtl.hpp"
#include "onestone/weighting/combiners/pcgrad.hpp"
#include "onestone/weighting/combiners/upgrad.hpp"
#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/solvers/cagrad_dual.hpp"
#include "onestone/weighting/solvers/min_norm.hpp"
#include "onestone/weighting/solvers/min_norm_2.hpp"
#include "onestone/weighting/solvers/nash.hpp"
#include "onestone/weighting/solvers/nnls.hpp"
#include "onestone/weighting/solvers/nonneg_qp.hpp"
#include "onestone/weighting/solvers/project_simplex.hpp"
