#pragma once
/// @file graddrop.hpp
/// `GradDrop<T>`: gradient sign dropout (Chen et al. 2020).

#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "onestone/nn/extra_state.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {

/// GradDrop, gradient sign dropout (Chen et al. 2020, "Just Pick a Sign: Optimizing Deep
/// Multitask Models with Gradient Sign Dropout"). Per coordinate k (column of J):
///     sign purity  P_k = ½ (1 + Σᵢ Jᵢₖ / Σᵢ |Jᵢₖ|)   (P_k = ½ if the column is zero),
///     draw U_k ~ Uniform[0, 1),  mask Mᵢₖ = [P_k > U_k]·[Jᵢₖ > 0] + [P_k < U_k]·[Jᵢₖ < 0],
///     d_k = Σᵢ (ℓ + (1 − ℓ) Mᵢₖ) Jᵢₖ.
/// So each coordinate keeps either only its positive or only its negative task contributions,
/// the positive ones with probability P_k; ℓ ∈ [0, 1] is the paper's leak (ℓ = 1 gives the sum).
///
/// GradDrop is meant for the gradients with respect to a shared REPRESENTATION (the activation
/// just after the shared trunk), J's columns being its coordinates, usually summed over the batch
/// (the paper's batch-separated variant multiplies per-example gradients by the input's sign
/// before summing — do that before calling). It also runs on parameter gradients.
///
/// Scale: the sum over tasks of the kept entries (d = Σgᵢ when no coordinate has mixed signs).
/// Random: one uniform per column and call, from an onestone::Generator seeded at construction.
/// Not a linear combination of rows, so there is no weights().
///
/// @code
/// onestone::weighting::GradDrop<double> gd(/*seed=*/1);
/// onestone::weighting::Vector<double> d;
/// gd.combine(J, d);   // column k of d: sum of J's positive or of its negative entries
/// @endcode
template <typename T>
class GradDrop {
 public:
  using Vector = weighting::Vector<T>;

  /// @param seed seed of the generator drawing U. @param leak ℓ ∈ [0, 1] (paper default 0).
  explicit GradDrop(std::uint64_t seed = 0x5eedULL, T leak = T(0)) : gen_(seed), leak_(leak) {
    if (!(leak >= T(0) && leak <= T(1)))
      throw std::invalid_argument("GradDrop: leak must be in [0, 1]");
  }

  /// The method's name, used in error messages.
  static const char* name() { return "GradDrop"; }

  /// Restarts the random sequence from `seed`.
  void seed(std::uint64_t seed) { gen_.seed_(seed); }

  /// d ← the sign-dropped sum of the rows. @throws std::invalid_argument on bad J.
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    const Eigen::Index m = J.rows(), p = J.cols();
    d.resize(p);
    // Blocks of columns: the sums of positive and of negative entries are accumulated row by
    // row over contiguous segments (vectorized, no sign branches), the block's draws are taken
    // in column order, then purity and the kept parts are computed for the whole block. Each
    // coordinate sees the same operations, in the same order, as a column-by-column loop.
    constexpr Eigen::Index kBlock = 1024;
    pos_.resize(std::min(p, kBlock));
    neg_.resize(pos_.size());
    u_.resize(pos_.size());
    pur_.resize(pos_.size());
    using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
    using RowArr = Eigen::Array<T, 1, Eigen::Dynamic>;
    for (Eigen::Index k0 = 0; k0 < p; k0 += kBlock) {
      const Eigen::Index b = std::min(kBlock, p - k0);
      Eigen::Map<Arr> pos(pos_.data(), b), neg(neg_.data(), b), u(u_.data(), b);
      pos.setZero();
      neg.setZero();
      for (Eigen::Index i = 0; i < m; ++i) {
        const Eigen::Map<const RowArr> g(J.row(i).data() + k0, b);
        pos += g.transpose().max(T(0));
        neg += g.transpose().min(T(0));
      }
      for (Eigen::Index k = 0; k < b; ++k) u[k] = static_cast<T>(gen_.uniform());
      // purity P = ½(1 + Σg / Σ|g|) (½ where every entry is 0);
      // mask = ℓ + (1 − ℓ)·[P > U] on the positive part, ℓ + (1 − ℓ)·[P < U] on the negative.
      const T l = leak_;
      Eigen::Map<Arr> purity(pur_.data(), b);
      purity = ((pos - neg) > T(0)).select(T(0.5) * (T(1) + (pos + neg) / (pos - neg)), T(0.5));
      d.segment(k0, b).array() = (l + (T(1) - l) * (purity > u).template cast<T>()) * pos +
                                 (l + (T(1) - l) * (purity < u).template cast<T>()) * neg;
    }
  }

  /// The leak ℓ.
  T leak() const { return leak_; }

  /// Saves the generator (for checkpoints through `GradientBalancer`).
  void save_state(nn::ExtraState& s) const { s.put("rng", gen_); }
  /// Restores what `save_state` saved.
  void load_state(const nn::ExtraState& s) { gen_.set_state(s.get_generator("rng")); }

 private:
  Generator gen_;
  T leak_;
  Vector pos_, neg_, u_, pur_;  // per-block workspace
};

}  // namespace weighting
}  // namespace onestone
