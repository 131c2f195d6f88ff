#pragma once
/// @file pcgrad.hpp
/// `PCGrad<T>`: projecting conflicting gradients (Yu et al., NeurIPS 2020), in a seeded random
/// order.

#include <cstdint>
#include <string>

#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/gramian/surgery.hpp"

namespace onestone {
namespace weighting {

/// PCGrad, "gradient surgery" (Yu et al. 2020, Algorithm 1). For each task i, starting from
/// gᵢᴾᶜ = gᵢ, visit the other tasks j ≠ i in a fresh random order and, whenever gᵢᴾᶜ·gⱼ < 0,
/// project out the conflicting component: gᵢᴾᶜ ← gᵢᴾᶜ − (gᵢᴾᶜ·gⱼ / ‖gⱼ‖²) gⱼ (gⱼ the original
/// gradient); then d = Σᵢ gᵢᴾᶜ.
///
/// Scale: the sum (the paper, its code, LibMTL and TorchJD); `aggregate=mean` gives the mean
/// used by some ports (then, for two tasks, PCGrad equals UPGrad). The surgery runs on the Gram
/// matrix (O(T²P) for G, then O(T³)). Random: one order per task per step from a seeded
/// generator. With two tasks the order does not matter and gᵢ·d ≥ 0 for both.
///
/// @code
/// onestone::weighting::PCGrad<double> pc(/*seed=*/42);   // J = [1 0; -1 1]
/// pc.combine_gradients(J, d);                             // d == (0.5, 1.5)
/// @endcode
template <typename T>
class PCGrad : public GramianWeighting<T> {
 public:
  explicit PCGrad(std::uint64_t seed = 0x5eedULL) : gen_(seed) {}
  std::string name() const override { return "pcgrad"; }
  void seed(std::uint64_t s) { gen_.seed_(s); }
  const Matrix<T>& coefficients() const { return surgery_.coefficients(); }
  void get_extra_state(nn::ExtraState& s) const override {
    GramianWeighting<T>::get_extra_state(s);
    s.put("rng", gen_);
  }
  void set_extra_state(const nn::ExtraState& s) override {
    const Generator::State st = s.get_generator("rng");
    GramianWeighting<T>::set_extra_state(s);
    gen_.set_state(st);
  }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>&, Vector<T>& w) override;

 private:
  Generator gen_;
  detail::Surgery<T> surgery_;
};

template <typename T>
void PCGrad<T>::weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>&, Vector<T>& w) {
  surgery_.run(G, gen_, w, [](Eigen::Index i, Eigen::Index j, Matrix<T>& C, const Matrix<T>& Gm) {
    const T dot = C.row(i).dot(Gm.col(j));  // gᵢᴾᶜ·gⱼ
    if (dot < T(0) && Gm(j, j) > T(0)) C(i, j) -= dot / Gm(j, j);
  });
}
ONESTONE_EXTERN_CLASS(WEIGHTING, PCGrad)

}  // namespace weighting
}  // namespace onestone
