#pragma once
/// @file project_simplex.hpp
/// `project_simplex()`: Euclidean projection onto the probability simplex.

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {
namespace solvers {

/// Euclidean projection of v onto the simplex {x : xᵢ ≥ 0, Σxᵢ = radius}, with a caller-owned
/// scratch vector (no allocation once `x` and `scratch` have the right size).
///
/// x = max(v − θ, 0) with θ = (Σ_{k≤ρ} u_k − radius)/ρ, where u is v sorted decreasingly and
/// ρ = max{j : u_j − (Σ_{k≤j} u_k − radius)/j > 0} (Held, Wolfe & Crowder 1974; Duchi et al.
/// 2008, "Efficient projections onto the l1-ball"). O(n log n).
///
/// @param v the point (finite, non-empty) @param x the projection (may alias v)
/// @param scratch workspace of any size @param radius the simplex's sum (> 0)
/// @throws std::invalid_argument on empty or non-finite v or radius ≤ 0.
///
/// @code
/// onestone::weighting::Vector<double> v(3), x, tmp;
/// v << 0.2, 0.1, -1.0;
/// onestone::weighting::solvers::project_simplex(v, x, tmp);   // x == (0.55, 0.45, 0)
/// @endcode
template <typename T>
void project_simplex(const Vector<T>& v, Vector<T>& x, Vector<T>& scratch, T radius = T(1)) {
  if (v.size() == 0 || !v.allFinite())
    throw std::invalid_argument("project_simplex: expected a non-empty finite vector, got size " +
                                std::to_string(v.size()));
  if (!(radius > T(0))) throw std::invalid_argument("project_simplex: radius must be > 0");
  scratch = v;
  std::sort(scratch.data(), scratch.data() + scratch.size(), std::greater<T>());
  T cumsum = T(0), theta = T(0);
  for (Eigen::Index j = 0; j < scratch.size(); ++j) {
    cumsum += scratch[j];
    const T t = (cumsum - radius) / static_cast<T>(j + 1);
    if (scratch[j] - t > T(0)) theta = t;  // the last j satisfying the test is ρ
  }
  x = (v.array() - theta).cwiseMax(T(0)).matrix();
}

/// `project_simplex(v, x, scratch, radius)` with an internal scratch vector (allocates once per
/// call).
///
/// @code
/// onestone::weighting::Vector<double> v(2), x;
/// v << 2.0, 0.0;
/// onestone::weighting::solvers::project_simplex(v, x);   // x == (1, 0)
/// @endcode
template <typename T>
void project_simplex(const Vector<T>& v, Vector<T>& x, T radius = T(1)) {
  Vector<T> scratch;
  project_simplex(v, x, scratch, radius);
}

}  // namespace solvers
}  // namespace weighting
}  // namespace onestone
