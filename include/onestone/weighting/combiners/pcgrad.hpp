#pragma once
/// @file pcgrad.hpp
/// `PCGrad<T>`: projecting conflicting gradients (Yu et al. 2020), in a seeded random order.

#include <cstdint>
#include <vector>

#include "onestone/nn/extra_state.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {

/// PCGrad, "gradient surgery" (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning",
/// Algorithm 1). For each task i, starting from gᵢᴾᶜ = gᵢ, visit the other tasks j ≠ i in a
/// fresh random order and, whenever gᵢᴾᶜ·gⱼ < 0, project out the conflicting component:
///     gᵢᴾᶜ ← gᵢᴾᶜ − (gᵢᴾᶜ·gⱼ / ‖gⱼ‖²) gⱼ      (gⱼ the ORIGINAL gradient of task j);
/// then d = Σᵢ gᵢᴾᶜ.
///
/// Scale: the sum of the projected gradients (the paper's update; d = Σgᵢ when nothing
/// conflicts). Each gᵢᴾᶜ stays a combination of the rows, so the whole surgery runs on the Gram
/// matrix (O(T²P) for G, then O(T³)); weights() gives d = Jᵀ·weights(). Random: each call draws
/// one order per task from an onestone::Generator seeded at construction (or by `seed`). With
/// two tasks the order does not matter and gᵢ·d ≥ 0 for both tasks.
///
/// @code
/// onestone::weighting::Jacobian<double> J(2, 2);
/// J << 1, 0,
///     -1, 1;
/// onestone::weighting::PCGrad<double> pc(/*seed=*/42);
/// onestone::weighting::Vector<double> d;
/// pc.combine(J, d);   // g1' = (1/2, 1/2), g2' = (0, 1): d == (0.5, 1.5)
/// @endcode
template <typename T>
class PCGrad {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// @param seed seed of the generator drawing the task orders.
  explicit PCGrad(std::uint64_t seed = 0x5eedULL) : gen_(seed) {}

  /// The method's name, used in error messages.
  static const char* name() { return "PCGrad"; }

  /// Restarts the random order sequence from `seed`.
  void seed(std::uint64_t seed) { gen_.seed_(seed); }

  /// d ← Σᵢ gᵢᴾᶜ. @throws std::invalid_argument on an empty or non-finite J.
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    const Eigen::Index m = J.rows();
    gram(J, G_);
    C_.setIdentity(m, m);  // row i: coefficients of gᵢᴾᶜ on the original rows
    order_.resize(static_cast<std::size_t>(m > 0 ? m - 1 : 0));
    for (Eigen::Index i = 0; i < m; ++i) {
      std::size_t k = 0;
      for (Eigen::Index j = 0; j < m; ++j)
        if (j != i) order_[k++] = j;
      gen_.shuffle(order_.begin(), order_.end());
      for (const Eigen::Index j : order_) {
        const T dot = C_.row(i).dot(G_.col(j));  // gᵢᴾᶜ·gⱼ
        if (dot < T(0) && G_(j, j) > T(0)) C_(i, j) -= dot / G_(j, j);
      }
    }
    weights_ = C_.colwise().sum().transpose();
    d.noalias() = J.transpose() * weights_;
  }

  /// The coefficients of the last call on the original gradients: d = Jᵀ·weights().
  const Vector& weights() const { return weights_; }
  /// The last call's projected gradients as combinations of the rows: gᵢᴾᶜ = Σⱼ C(i,j)·gⱼ.
  const Matrix& coefficients() const { return C_; }

  /// Saves the generator (for checkpoints through `GradientBalancer`).
  void save_state(nn::ExtraState& s) const { s.put("rng", gen_); }
  /// Restores what `save_state` saved.
  void load_state(const nn::ExtraState& s) { gen_.set_state(s.get_generator("rng")); }

 private:
  Generator gen_;
  Matrix G_, C_;
  Vector weights_;
  std::vector<Eigen::Index> order_;
};

}  // namespace weighting
}  // namespace onestone
