#pragma once
/// @file config.hpp
/// `ConFIG<T>`: conflict-free inverse gradients (Liu, Chen & Thuerey 2024).

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/linalg.hpp"

namespace onestone {
namespace weighting {

/// ConFIG (Liu, Chen & Thuerey 2024, "ConFIG: Towards Conflict-free Training of Physics Informed
/// Neural Networks"). With the unit gradients Û = [g₁/‖g₁‖; …; g_T/‖g_T‖] (rows):
///     v = Û⁺𝟙 (pseudo-inverse: the minimum-norm solution of Ûv = 𝟙),  û = v/‖v‖,
///     d = (Σᵢ gᵢ·û) û.
/// When the gradients are linearly independent, Ûv = 𝟙 holds exactly, so d has the same positive
/// cosine 1/‖v‖ with every gradient; its length is the sum of the gradients' projections on û
/// (the reference's default ProjectionLength). Computed on the Gram matrix: Û⁺ = Ûᵀ(ÛÛᵀ)⁺, so
/// v = Σᵢ (yᵢ/‖gᵢ‖) gᵢ with y = (ÛÛᵀ)⁺𝟙 (complete orthogonal decomposition of the cosine matrix).
///
/// Scale: a sum-like scale (Σᵢ gᵢ·û; for a shared direction it equals the summed gradient).
/// weights() gives d = Jᵀ·weights(); d does not depend on the task order.
/// @throws std::invalid_argument on a zero gradient (its unit vector is undefined).
///
/// @code
/// onestone::weighting::ConFIG<double> cf;
/// onestone::weighting::Vector<double> d;
/// cf.combine(J, d);   // J = [1 0; 0 1]: u = (1, 1)/√2, d = (1, 1)
/// @endcode
template <typename T>
class ConFIG {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// The method's name, used in error messages.
  static const char* name() { return "ConFIG"; }

  /// d ← (Σᵢ gᵢ·û) û. @throws std::invalid_argument on bad J or a zero row.
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    const Eigen::Index m = J.rows();
    gram(J, G_);
    norms_ = G_.diagonal().cwiseSqrt();
    for (Eigen::Index i = 0; i < m; ++i)
      if (!(norms_[i] > T(0)))
        throw std::invalid_argument(std::string(name()) + ": task " + std::to_string(i) +
                                    " has a zero gradient in the Jacobian of shape " +
                                    detail::shape_str(J.rows(), J.cols()));
    cos_ = G_;
    cos_.array().colwise() /= norms_.array();
    cos_.array().rowwise() /= norms_.transpose().array();
    cod_.d.compute(cos_);
    ones_.setOnes(m);
    detail::cod_solve(cod_.d, ones_, y_, work_c_, work_y_);
    coef_ = y_.cwiseQuotient(norms_);  // v = Jᵀ coef
    Gcoef_.noalias() = G_ * coef_;
    const T v2 = coef_.dot(Gcoef_);  // ‖v‖²
    if (!(v2 > T(0))) {
      weights_.setZero(m);
    } else {
      const T length_times_norm = Gcoef_.sum();     // Σᵢ gᵢ·v = ‖v‖ Σᵢ gᵢ·û
      weights_ = (length_times_norm / v2) * coef_;  // d = (Σgᵢ·û) v/‖v‖
    }
    d.noalias() = J.transpose() * weights_;
  }

  /// The coefficients of the last call: d = Jᵀ·weights().
  const Vector& weights() const { return weights_; }

 private:
  Matrix G_, cos_;
  Vector norms_, y_, coef_, weights_;
  Vector ones_, Gcoef_, work_c_, work_y_;  // scratch: 𝟙, G·coef and the solve's workspace
  detail::Scratch<Eigen::CompleteOrthogonalDecomposition<Matrix>> cod_;
};

}  // namespace weighting
}  // namespace onestone
