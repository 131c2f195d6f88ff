#pragma once
/// @file surgery.hpp
/// The sequential "gradient surgery" loop shared by PCGrad and GradVac: for every task i, its
/// gradient is corrected against the other tasks in a fresh random order by a pairwise rule,
/// on the Gram matrix (each corrected gradient is a combination of the rows of J).

#include <cstdint>
#include <vector>

#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {
namespace detail {

/// Runs the surgery: C starts as the identity (row i = coefficients of task i's corrected
/// gradient on the rows of J) and, for each i and each j ≠ i in a random order,
/// `rule(i, j, C, G)` updates row i of C. Returns the column sums of C (d = Jᵀw).
template <typename T>
class Surgery {
 public:
  template <typename Rule>
  void run(const Matrix<T>& G, Generator& gen, Vector<T>& w, Rule&& rule) {
    const Eigen::Index m = G.rows();
    C_.setIdentity(m, m);
    order_.resize(static_cast<std::size_t>(m > 0 ? m - 1 : 0));
    for (Eigen::Index i = 0; i < m; ++i) {
      std::size_t k = 0;
      for (Eigen::Index j = 0; j < m; ++j)
        if (j != i) order_[k++] = j;
      gen.shuffle(order_.begin(), order_.end());
      for (const Eigen::Index j : order_) rule(i, j, C_, G);
    }
    w = C_.colwise().sum().transpose();
  }
  /// The corrected gradients as combinations of the rows: g̃ᵢ = Σⱼ C(i, j)·gⱼ.
  const Matrix<T>& coefficients() const { return C_; }

 private:
  Matrix<T> C_;
  std::vector<Eigen::Index> order_;
};

}  // namespace detail
}  // namespace weighting
}  // namespace onestone
