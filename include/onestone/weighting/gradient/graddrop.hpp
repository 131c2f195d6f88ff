#pragma once
/// @file graddrop.hpp
/// `GradDrop<T>`: gradient sign dropout (Chen et al., NeurIPS 2020).

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// GradDrop: per coordinate k, the sign purity P = ½(1 + Σᵢgᵢₖ / Σᵢ|gᵢₖ|) and one uniform draw
/// U decide which sign survives: d_k = Σᵢ (ℓ + (1−ℓ)·Mᵢₖ) gᵢₖ with Mᵢₖ = [P > U] for positive
/// gᵢₖ and [P < U] for negative ones (leak ℓ = 0 as the paper). The sum of the kept parts.
/// In representation mode the coordinates are the batch's (sample, feature) pairs; the paper's
/// batch-separated sign trick is left to the caller. Seeded.
template <typename T>
class GradDrop : public GradientMethod<T> {
 public:
  explicit GradDrop(std::uint64_t seed = 0x5eedULL, double leak = 0.0) : gen_(seed), leak_(leak) {
    if (!(leak >= 0 && leak <= 1)) throw std::invalid_argument("GradDrop: leak must be in [0, 1]");
  }
  std::string name() const override { return "graddrop"; }
  void seed(std::uint64_t s) { gen_.seed_(s); }
  double leak() const { return leak_; }
  void get_extra_state(nn::ExtraState& s) const override {
    GradientMethod<T>::get_extra_state(s);
    s.put("rng", gen_);
  }
  void set_extra_state(const nn::ExtraState& s) override {
    const Generator::State st = s.get_generator("rng");
    GradientMethod<T>::set_extra_state(s);
    gen_.set_state(st);
  }

 protected:
  void direction(const Jacobian<T>& J, const StepInfo<T>&, Vector<T>& d, Vector<T>& w) override;

 private:
  Generator gen_;
  double leak_;
  Vector<T> pos_, neg_, u_, pur_;
};

template <typename T>
void GradDrop<T>::direction(const Jacobian<T>& J, const StepInfo<T>&, Vector<T>& d, Vector<T>& w) {
  const Eigen::Index m = J.rows(), p = J.cols();
  d.resize(p);
  w.setOnes(m);
  // Blocks of columns: the sums of positive and of negative entries are accumulated row by
  // row over contiguous segments (vectorized), the block's draws are taken in column order,
  // then purity and the kept parts are computed for the whole block: every coordinate sees
  // the operations of a column-by-column loop, in the same order.
  constexpr Eigen::Index kBlock = 1024;
  pos_.resize(std::min(p, kBlock));
  neg_.resize(pos_.size());
  u_.resize(pos_.size());
  pur_.resize(pos_.size());
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  using RowArr = Eigen::Array<T, 1, Eigen::Dynamic>;
  const T l = static_cast<T>(leak_);
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
    Eigen::Map<Arr> purity(pur_.data(), b);
    purity = ((pos - neg) > T(0)).select(T(0.5) * (T(1) + (pos + neg) / (pos - neg)), T(0.5));
    d.segment(k0, b).array() = (l + (T(1) - l) * (purity > u).template cast<T>()) * pos +
                               (l + (T(1) - l) * (purity < u).template cast<T>()) * neg;
  }
}
ONESTONE_EXTERN_CLASS(WEIGHTING, GradDrop)

}  // namespace weighting
}  // namespace onestone
