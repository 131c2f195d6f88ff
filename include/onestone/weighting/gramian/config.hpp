#pragma once
/// @file config.hpp
/// `ConFIG<T>`: conflict-free inverse gradients (Liu, Chen & Thuerey, ICLR 2025).

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/linalg.hpp"

namespace onestone {
namespace weighting {

/// ConFIG: with the unit gradients Û (rows gᵢ/‖gᵢ‖), v = Û⁺𝟙 (the minimum-norm solution of
/// Ûv = 𝟙), û = v/‖v‖ and d = (Σᵢ gᵢ·û) û: the same positive cosine with every gradient when
/// they are linearly independent, the length the sum of their projections on û (the
/// reference's ProjectionLength). Computed on the Gram matrix (v = Σᵢ (yᵢ/‖gᵢ‖) gᵢ with
/// y = (ÛÛᵀ)⁺𝟙). A zero gradient leaves its unit vector undefined: that step falls back.
template <typename T>
class ConFIG : public GramianWeighting<T> {
 public:
  std::string name() const override { return "config"; }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override;

 private:
  Matrix<T> cos_;
  Vector<T> norms_, y_, coef_, ones_, gcoef_, work_c_, work_y_;
  detail::Scratch<Eigen::CompleteOrthogonalDecomposition<Matrix<T>>> cod_;
};

template <typename T>
void ConFIG<T>::weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
                      Vector<T>& w) {
  const Eigen::Index m = G.rows();
  detail::gradient_norms(name(), G, info, norms_);
  cos_ = G;
  cos_.array().colwise() /= norms_.array();
  cos_.array().rowwise() /= norms_.transpose().array();
  cod_.d.compute(cos_);
  ones_.setOnes(m);
  detail::cod_solve(cod_.d, ones_, y_, work_c_, work_y_);
  coef_ = y_.cwiseQuotient(norms_);  // v = Jᵀ coef
  gcoef_.noalias() = G * coef_;
  const T v2 = coef_.dot(gcoef_);  // ‖v‖²
  if (!(v2 > T(0))) {
    w.setZero(m);
    return;
  }
  w = (gcoef_.sum() / v2) * coef_;  // d = (Σgᵢ·û) v/‖v‖
}
ONESTONE_EXTERN_CLASS(WEIGHTING, ConFIG)

}  // namespace weighting
}  // namespace onestone
