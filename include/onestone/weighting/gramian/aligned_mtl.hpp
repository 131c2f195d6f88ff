#pragma once
/// @file aligned_mtl.hpp
/// `AlignedMTL<T>`: independent component alignment (Senushkin et al., CVPR 2023).

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/linalg.hpp"

namespace onestone {
namespace weighting {

/// Which eigenvalue of the Gram matrix sets Aligned-MTL's scale σ: min (the paper's and the
/// authors' default), median (lower median), rmse (the mean eigenvalue).
enum class AlignedScale { min, median, rmse };

/// Aligned-MTL: with G = VΛVᵀ (eigenvalues below λmax·m·ε dropped), the balance matrix
/// B = √σ·VΛ^{−1/2}Vᵀ makes the aligned gradients orthogonal with equal norm √σ; w = B𝟙 (the sum
/// of the aligned gradients, as the authors and LibMTL; TorchJD averages: `aggregate=mean`).
/// Property: ĝᵢ·d = σ for every task at full rank.
template <typename T>
class AlignedMTL : public GramianWeighting<T> {
 public:
  explicit AlignedMTL(AlignedScale scale = AlignedScale::min) : scale_(scale) {}
  std::string name() const override { return "aligned_mtl"; }
  const Matrix<T>& balance_matrix() const { return B_; }
  T sigma() const { return sigma_; }
  /// The eigenvalues kept at the last step, in decreasing order.
  const Vector<T>& eigenvalues() const { return kept_; }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>&, Vector<T>& w) override;

 private:
  AlignedScale scale_;
  Matrix<T> B_;
  Vector<T> kept_;
  detail::SymmetricEigen<T> eig_;
  T sigma_ = T(0);
};

template <typename T>
void AlignedMTL<T>::weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>&,
                          Vector<T>& w) {
  const Eigen::Index m = G.rows();
  eig_.compute(G);  // eigenvalues in increasing order
  const Vector<T>& lam = eig_.eigenvalues();
  const Matrix<T>& vec = eig_.eigenvectors();
  const T tol = std::max(lam[m - 1], T(0)) * static_cast<T>(m) * std::numeric_limits<T>::epsilon();
  Eigen::Index first = 0;
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
        break;
      case AlignedScale::rmse:
        sigma_ = kept_.mean();
        break;
    }
    for (Eigen::Index k = first; k < m; ++k)
      B_.noalias() += (std::sqrt(sigma_ / lam[k])) * vec.col(k) * vec.col(k).transpose();
  }
  w = B_.rowwise().sum();
}
ONESTONE_EXTERN_CLASS(WEIGHTING, AlignedMTL)

}  // namespace weighting
}  // namespace onestone
