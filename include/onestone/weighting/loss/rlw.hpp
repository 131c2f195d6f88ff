#pragma once
/// @file rlw.hpp
/// `RLW<T>`: random loss weighting (Lin et al., TMLR 2022).

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Random loss weighting: every step, w = softmax(z) with z ~ N(0, I) drawn over the present
/// tasks, so the weights sum to 1 (Lin et al. 2022, the normal-softmax variant). Seeded.
///
/// Example: `model.set_balancer(std::make_shared<RLW<float>>(/*seed=*/7));`
template <typename T>
class RLW : public LossWeighting<T> {
 public:
  explicit RLW(std::uint64_t seed = 0x5eedULL) : gen_(seed) {}
  std::string name() const override { return "rlw"; }
  Generator& generator() { return gen_; }
  void get_extra_state(nn::ExtraState& s) const override {
    LossWeighting<T>::get_extra_state(s);
    s.put("rng", gen_);
  }
  void set_extra_state(const nn::ExtraState& s) override {
    const Generator::State st = s.get_generator("rng");
    LossWeighting<T>::set_extra_state(s);
    gen_.set_state(st);
  }

 protected:
  void update_weights(const Vector<T>& losses, const StepInfo<T>&, Vector<T>& w) override;

 private:
  Generator gen_;
};

template <typename T>
void RLW<T>::update_weights(const Vector<T>& losses, const StepInfo<T>&, Vector<T>& w) {
  const Eigen::Index n = losses.size();
  w.resize(n);
  T mx = -std::numeric_limits<T>::infinity();
  for (Eigen::Index i = 0; i < n; ++i) {
    w[i] = static_cast<T>(gen_.normal());
    mx = std::max(mx, w[i]);
  }
  w = (w.array() - mx).exp().matrix();
  w /= w.sum();
}
ONESTONE_EXTERN_CLASS(WEIGHTING, RLW)

}  // namespace weighting
}  // namespace onestone
