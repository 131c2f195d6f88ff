#pragma once
/// @file imtl_g.hpp
/// `IMTLG<T>`: impartial multi-task learning, gradient balance (Liu et al., ICLR 2021).

#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/linalg.hpp"

namespace onestone {
namespace weighting {

/// IMTL-G: the weights w (Σw = 1) such that d = Jᵀw has the same projection on every unit
/// gradient uᵢ = gᵢ/‖gᵢ‖: with D = [g₁ − g₂, ...] and U = [u₁ − u₂, ...] (rows against task 1),
/// α = g₁Uᵀ(DUᵀ)⁻¹ gives w = (1 − Σα, α) (the paper's closed form, solved through a complete
/// orthogonal decomposition). A task with a zero gradient leaves the weights undefined: that
/// step falls back to the previous weights.
template <typename T>
class IMTLG : public GramianWeighting<T> {
 public:
  std::string name() const override { return "imtl_g"; }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override;

 private:
  Matrix<T> A_;
  Vector<T> norms_, r_, alpha_, work_c_, work_y_;
  detail::Scratch<Eigen::CompleteOrthogonalDecomposition<Matrix<T>>> cod_;
};

template <typename T>
void IMTLG<T>::weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
                     Vector<T>& w) {
  const Eigen::Index m = G.rows();
  detail::gradient_norms(name(), G, info, norms_);
  w.resize(m);
  if (m == 1) {
    w[0] = T(1);
    return;
  }
  // A = D Uᵀ, r = g₁ Uᵀ; α solves α A = r, i.e. Aᵀ αᵀ = rᵀ.
  const Eigen::Index k = m - 1;
  A_.resize(k, k);
  r_.resize(k);
  for (Eigen::Index b = 0; b < k; ++b) {
    const Eigen::Index jb = b + 1;
    r_[b] = G(0, 0) / norms_[0] - G(0, jb) / norms_[jb];
    for (Eigen::Index a = 0; a < k; ++a) {
      const Eigen::Index ia = a + 1;
      A_(a, b) = G(0, 0) / norms_[0] - G(0, jb) / norms_[jb] - G(ia, 0) / norms_[0] +
                 G(ia, jb) / norms_[jb];
    }
  }
  cod_.d.compute(A_.transpose());
  detail::cod_solve(cod_.d, r_, alpha_, work_c_, work_y_);
  w[0] = T(1) - alpha_.sum();
  w.tail(k) = alpha_;
}
ONESTONE_EXTERN_CLASS(WEIGHTING, IMTLG)

}  // namespace weighting
}  // namespace onestone
