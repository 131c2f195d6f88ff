// Shared helpers of the weighting tests (random Jacobians, cosines).
#pragma once

#include <cmath>

#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/jacobian.hpp"

namespace wtest {

using Jac = onestone::weighting::Jacobian<double>;
using Vec = onestone::weighting::Vector<double>;
using Mat = onestone::weighting::Matrix<double>;

inline Jac random_jacobian(onestone::Generator& gen, Eigen::Index t, Eigen::Index p) {
  Jac J(t, p);
  for (Eigen::Index i = 0; i < t; ++i)
    for (Eigen::Index j = 0; j < p; ++j) J(i, j) = gen.normal();
  return J;
}

inline Jac make2(double a, double b, double c, double d) {
  Jac J(2, 2);
  J << a, b, c, d;
  return J;
}

inline double cosine(const Vec& a, const Vec& b) { return a.dot(b) / (a.norm() * b.norm()); }

// A random permutation of 0..n-1 (as a permutation matrix P with (P J) = rows reordered).
inline Eigen::PermutationMatrix<Eigen::Dynamic> random_perm(onestone::Generator& gen,
                                                            Eigen::Index n) {
  Eigen::PermutationMatrix<Eigen::Dynamic> P(n);
  P.setIdentity();
  gen.shuffle(P.indices().data(), P.indices().data() + n);
  return P;
}

/// TorchJD's reference Jacobian (tests/unit/aggregation/test_values.py): J = [[-4, 1, 1], [6, 1,
/// 1]].
inline Jac torchjd_J() {
  Jac J(2, 3);
  J << -4, 1, 1, 6, 1, 1;
  return J;
}

}  // namespace wtest
