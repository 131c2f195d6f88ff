#pragma once
/// @file aligned_mtl.hpp
/// `AlignedMTL<T>`: independent component alignment (Senushkin et al. 2023).

#include <algorithm>
#include <cmath>
#include <limits>

#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/linalg.hpp"

namespace onestone {
namespace weighting {

/// Which eigenvalue of the Gram matrix sets Aligned-MTL's scale σ: min (the paper's and the
/// reference code's choice), median (lower median), or rmse (mean eigenvalue: σ = mean λ).
///
/// @code
/// onestone::weighting::AlignedMTL<double> al(onestone::weighting::AlignedScale::median);
/// @endcode
enum class AlignedScale { min, median, rmse };

/// Aligned-MTL (Senushkin, Patakin, Kuznetsov & Konushin 2023, "Independent Component Alignment
/// for Multi-Task Learning", CVPR). With the eigen-decomposition G = JJᵀ = VΛVᵀ restricted to
/// its numerical rank r (λ > λmax·T·ε, as in the reference code), the balance matrix
///     B = √σ · V Λ^{-1/2} Vᵀ    (σ = λmin by default)
/// makes the aligned gradients Ĵ = BJ orthogonal with equal norms: ĴĴᵀ = BGB = σ·V_rV_rᵀ
/// (= σI at full rank), i.e. the system has condition number 1. The update is the sum of the
/// aligned gradients, d = Ĵᵀ𝟙 = Jᵀα with α = B𝟙, so ĝᵢ·d = σ for every task at full rank.
///
/// The "Aligned-MTL-UB" variant is the same computation on the Jacobian with respect to the
/// shared representation (cheaper); pass that Jacobian. Scale: a sum of T aligned gradients of
/// norm √σ each. weights() is α; balance_matrix() is B; eigenvalues() the kept λ (decreasing).
/// d does not depend on the task order. All-zero gradients give d = 0.
///
/// @code
/// onestone::weighting::AlignedMTL<double> al;
/// onestone::weighting::Vector<double> d;
/// al.combine(J, d);   // J = [2 0; 0 1]: B = diag(1/2, 1), alpha = (1/2, 1), d = (1, 1)
/// @endcode
template <typename T>
class AlignedMTL {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// @param scale which eigenvalue sets σ (default min, the paper's).
  explicit AlignedMTL(AlignedScale scale = AlignedScale::min) : scale_(scale) {}

  /// The method's name, used in error messages.
  static const char* name() { return "Aligned-MTL"; }

  /// d ← Jᵀ B 𝟙. @throws std::invalid_argument on an empty or non-finite J.
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    const Eigen::Index m = J.rows();
    gram(J, G_);
    eig_.compute(G_);  // eigenvalues in increasing order
    const Vector& lam = eig_.eigenvalues();
    const Matrix& vec = eig_.eigenvectors();
    const T tol =
        std::max(lam[m - 1], T(0)) * static_cast<T>(m) * std::numeric_limits<T>::epsilon();
    Eigen::Index first = 0;  // kept eigenvalues: lam[first..m-1]
    while (first < m && !(lam[first] > tol)) ++first;
    const Eigen::Index rank = m - first;
    kept_.resize(rank);
    for (Eigen::Index k = 0; k < rank; ++k) kept_[k] = lam[m - 1 - k];  // decreasing
    B_.setZero(m, m);
    sigma_ = T(0);
    if (rank > 0) {
      switch (scale_) {
        case AlignedScale::min:
          sigma_ = kept_[rank - 1];
          break;
        case AlignedScale::median:
          sigma_ = kept_[rank / 2];
          break;  // lower median
        case AlignedScale::rmse:
          sigma_ = kept_.mean();
          break;
      }
      for (Eigen::Index k = first; k < m; ++k)
        B_.noalias() += (std::sqrt(sigma_ / lam[k])) * vec.col(k) * vec.col(k).transpose();
    }
    weights_ = B_.rowwise().sum();
    d.noalias() = J.transpose() * weights_;
  }

  /// α = B𝟙 of the last call: d = Jᵀ·weights().
  const Vector& weights() const { return weights_; }
  /// The balance matrix B of the last call (symmetric, T×T).
  const Matrix& balance_matrix() const { return B_; }
  /// The kept eigenvalues of G in decreasing order (size = numerical rank).
  const Vector& eigenvalues() const { return kept_; }
  /// σ of the last call.
  T sigma() const { return sigma_; }

 private:
  AlignedScale scale_;
  Matrix G_, B_;
  Vector kept_, weights_;
  detail::SymmetricEigen<T> eig_;  // SelfAdjointEigenSolver without its per-call allocation
  T sigma_ = T(0);
};

}  // namespace weighting
}  // namespace onestone
