#pragma once
/// @file imtl_g.hpp
/// `IMTLG<T>`: the gradient part of impartial multi-task learning (Liu et al. 2021), closed form.

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/linalg.hpp"

namespace onestone {
namespace weighting {

/// IMTL-G (Liu, Li, Kuang, Xue, Chen, Yang, Liao & Zhang 2021, "Towards Impartial Multi-task
/// Learning", ICLR; Sec. 3.2). Finds d = Σᵢ αᵢ gᵢ with Σᵢ αᵢ = 1 whose projections on every
/// unit gradient uᵢ = gᵢ/‖gᵢ‖ are equal, d·u₁ = d·uᵢ. With the (T−1)×P matrices
///     D = [g₁ − g₂; …; g₁ − g_T],   U = [u₁ − u₂; …; u₁ − u_T]   (rows),
/// the closed form is α₂..T = g₁Uᵀ(DUᵀ)⁻¹ and α₁ = 1 − Σᵢ₌₂..T αᵢ, since d = g₁ − α₂..T·D and
/// dUᵀ = 0. Here every product comes from the Gram matrix (e.g. (g₁ − gₐ)·(u₁ − u_b) =
/// G₁₁/n₁ − G₁b/n_b − Gₐ₁/n₁ + Gₐb/n_b), so the cost is O(T²P) + O(T³).
///
/// Scale: Σα = 1 (an affine combination, about 1/T of the summed gradient). Scaling every
/// gradient by c > 0 scales d by c and leaves α unchanged; d does not depend on the task order.
/// When DUᵀ is singular (e.g. T > P) the least-squares minimum-norm α is used (complete
/// orthogonal decomposition) and the equal-projection property may not hold. weights() is α.
/// @throws std::invalid_argument on a zero gradient (its unit vector is undefined).
///
/// @code
/// onestone::weighting::IMTLG<double> imtl;
/// onestone::weighting::Vector<double> d;
/// imtl.combine(J, d);   // d·gᵢ/‖gᵢ‖ equal for every task
/// @endcode
template <typename T>
class IMTLG {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// The method's name, used in error messages.
  static const char* name() { return "IMTL-G"; }

  /// d ← Σᵢ αᵢgᵢ. @throws std::invalid_argument on bad J or a zero row.
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
    weights_.resize(m);
    if (m == 1) {
      weights_[0] = T(1);
    } else {
      // A = D Uᵀ, r = g₁ Uᵀ; α solves α A = r, i.e. Aᵀ αᵀ = rᵀ.
      const Eigen::Index k = m - 1;
      A_.resize(k, k);
      r_.resize(k);
      for (Eigen::Index b = 0; b < k; ++b) {
        const Eigen::Index jb = b + 1;
        r_[b] = G_(0, 0) / norms_[0] - G_(0, jb) / norms_[jb];
        for (Eigen::Index a = 0; a < k; ++a) {
          const Eigen::Index ia = a + 1;
          A_(a, b) = G_(0, 0) / norms_[0] - G_(0, jb) / norms_[jb] - G_(ia, 0) / norms_[0] +
                     G_(ia, jb) / norms_[jb];
        }
      }
      cod_.d.compute(A_.transpose());
      detail::cod_solve(cod_.d, r_, alpha_, work_c_, work_y_);
      weights_[0] = T(1) - alpha_.sum();
      weights_.tail(k) = alpha_;
    }
    d.noalias() = J.transpose() * weights_;
  }

  /// The weights α of the last call (Σα = 1): d = Jᵀ·weights().
  const Vector& weights() const { return weights_; }

 private:
  Matrix G_, A_;
  Vector norms_, r_, alpha_, weights_;
  Vector work_c_, work_y_;  // workspace of the solve
  detail::Scratch<Eigen::CompleteOrthogonalDecomposition<Matrix>> cod_;
};

}  // namespace weighting
}  // namespace onestone
