#pragma once
/// @file gradvac.hpp
/// `GradVac<T>`: gradient vaccine (Wang et al. 2021), stateful EMA targets of pairwise cosines.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/nn/extra_state.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {

/// GradVac, "gradient vaccine" (Wang, Tsvetkov, Firat & Cao 2021, "Gradient Vaccine:
/// Investigating and Improving Multi-task Optimization in Massively Multilingual Models",
/// Algorithm 1), on the whole parameter vector. For each task i, from gᵢᴾᶜ = gᵢ, visit the other
/// tasks j in a fresh random order; with φᵢⱼ = cos(gᵢᴾᶜ, gⱼ) and the target φ̂ᵢⱼ:
///     if φᵢⱼ < φ̂ᵢⱼ:  gᵢᴾᶜ ← gᵢᴾᶜ + ‖gᵢᴾᶜ‖ (φ̂ᵢⱼ√(1−φᵢⱼ²) − φᵢⱼ√(1−φ̂ᵢⱼ²)) / (‖gⱼ‖√(1−φ̂ᵢⱼ²)) · gⱼ
///     φ̂ᵢⱼ ← (1 − β) φ̂ᵢⱼ + β φᵢⱼ       (every visit, with the pre-correction φᵢⱼ)
/// which makes cos(gᵢᴾᶜ, gⱼ) exactly φ̂ᵢⱼ after a correction; d = Σᵢ gᵢᴾᶜ.
///
/// Targets start at 0, so the first call is exactly PCGrad. The EMA update on every visit
/// follows the paper (LibMTL updates it only when a correction is made). Scale: the sum of the
/// corrected gradients. Runs on the Gram matrix; weights() gives d = Jᵀ·weights().
/// State: the T×T targets (`targets()`), kept across calls; `reset()` clears them. The number of
/// tasks must stay the same between resets. Random: seeded onestone::Generator.
///
/// @code
/// onestone::weighting::GradVac<double> gv(/*beta=*/0.01, /*seed=*/7);
/// onestone::weighting::Vector<double> d;
/// for (int step = 0; step < 100; ++step) { /* J = ...; */ gv.combine(J, d); }
/// @endcode
template <typename T>
class GradVac {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// @param beta EMA rate β ∈ (0, 1] of the targets (paper: 0.01 on the whole model — LibMTL and
  /// torchjd default to 0.5). @param seed seed of the task orders.
  explicit GradVac(T beta = T(0.01), std::uint64_t seed = 0x5eedULL) : gen_(seed), beta_(beta) {
    if (!(beta > T(0) && beta <= T(1)))
      throw std::invalid_argument("GradVac: beta must be in (0, 1]");
  }

  /// The method's name, used in error messages.
  static const char* name() { return "GradVac"; }

  /// Clears the targets (the next call starts from φ̂ = 0, any number of tasks).
  void reset() { targets_.resize(0, 0); }
  /// Restarts the random order sequence from `seed`.
  void seed(std::uint64_t seed) { gen_.seed_(seed); }

  /// d ← Σᵢ gᵢᴾᶜ and the targets are updated.
  /// @throws std::invalid_argument on bad J or a task count different from the state's.
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    const Eigen::Index m = J.rows();
    if (targets_.size() == 0) targets_.setZero(m, m);
    if (targets_.rows() != m)
      throw std::invalid_argument(std::string(name()) + ": the Jacobian (" +
                                  detail::shape_str(J.rows(), J.cols()) + ") has " +
                                  std::to_string(m) + " tasks but the state has " +
                                  std::to_string(targets_.rows()) + "; call reset()");
    gram(J, G_);
    C_.setIdentity(m, m);
    order_.resize(static_cast<std::size_t>(m - 1));
    for (Eigen::Index i = 0; i < m; ++i) {
      std::size_t k = 0;
      for (Eigen::Index j = 0; j < m; ++j)
        if (j != i) order_[k++] = j;
      gen_.shuffle(order_.begin(), order_.end());
      for (const Eigen::Index j : order_) {
        row_G_.noalias() = C_.row(i) * G_;
        const T ni2 = (row_G_ * C_.row(i).transpose()).value();  // ‖gᵢᴾᶜ‖²
        const T nj2 = G_(j, j);
        if (!(ni2 > T(0)) || !(nj2 > T(0))) continue;  // cosine undefined
        const T ni = std::sqrt(ni2), nj = std::sqrt(nj2);
        const T phi = std::clamp(C_.row(i).dot(G_.col(j)) / (ni * nj), T(-1), T(1));
        const T target = targets_(i, j);
        const T s_target = std::sqrt(std::max(T(1) - target * target, T(0)));
        if (phi < target && s_target > T(0)) {
          const T s_phi = std::sqrt(std::max(T(1) - phi * phi, T(0)));
          C_(i, j) += ni * (target * s_phi - phi * s_target) / (nj * s_target);
        }
        targets_(i, j) = (T(1) - beta_) * target + beta_ * phi;
      }
    }
    weights_ = C_.colwise().sum().transpose();
    d.noalias() = J.transpose() * weights_;
  }

  /// The coefficients of the last call on the original gradients: d = Jᵀ·weights().
  const Vector& weights() const { return weights_; }
  /// The EMA targets φ̂ᵢⱼ (T×T, zero diagonal; empty before the first call).
  const Matrix& targets() const { return targets_; }
  /// The last call's corrected gradients as combinations of the rows: gᵢᴾᶜ = Σⱼ C(i,j)·gⱼ.
  const Matrix& coefficients() const { return C_; }
  /// β.
  T beta() const { return beta_; }

  /// Saves the generator and the cosine targets (for checkpoints through `GradientBalancer`).
  void save_state(nn::ExtraState& s) const {
    s.put("rng", gen_);
    s.put("targets", targets_);
  }
  /// Restores what `save_state` saved, all or nothing.
  void load_state(const nn::ExtraState& s) {
    const Generator::State st = s.get_generator("rng");
    Matrix targets;
    s.get("targets", targets);
    if (targets.rows() != targets.cols())
      throw std::runtime_error(std::string(name()) + ": extra state 'targets' of '" + s.owner() +
                               "' is not square");
    gen_.set_state(st);
    targets_ = std::move(targets);
  }

 private:
  Generator gen_;
  T beta_;
  Matrix targets_, G_, C_;
  Vector weights_;
  Eigen::Matrix<T, 1, Eigen::Dynamic> row_G_;  // scratch: row i of C·G
  std::vector<Eigen::Index> order_;
};

}  // namespace weighting
}  // namespace onestone
