#pragma once
/// @file rlw.hpp
/// `RLW<T>`: random loss weighting (Lin et al., TMLR 2022).

#include <cstdint>
#include <limits>
#include <stdexcept>

#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Random loss weighting: each step draws λ ~ N(0, I) and uses w = softmax(λ), so the weights
/// are positive and sum to 1 (the total is on the scale of a mean, not of a sum).
///
/// Example: `model.set_balancer(std::make_shared<RLW<float>>(/*seed=*/3));`
template <typename T>
class RLW : public Balancer<T> {
 public:
  explicit RLW(std::uint64_t seed = 0x5eedULL) : gen_(seed) {}
  std::string name() const override { return "rlw"; }
  Generator& generator() { return gen_; }

  /// Saves the weights and the generator.
  void get_extra_state(nn::ExtraState& s) const override {
    Balancer<T>::get_extra_state(s);
    s.put("rng", gen_);
  }
  /// Restores what `get_extra_state` saved, all or nothing.
  void set_extra_state(const nn::ExtraState& s) override {
    Vector<T> w = this->read_weights(s);
    const Generator::State st = s.get_generator("rng");
    this->weights_ = std::move(w);
    gen_.set_state(st);
  }

 protected:
  void update_weights(const Vector<T>& losses) override {
    const Eigen::Index n = losses.size();
    T mx = -std::numeric_limits<T>::infinity();
    for (Eigen::Index i = 0; i < n; ++i) {
      this->weights_[i] = static_cast<T>(gen_.normal());
      mx = std::max(mx, this->weights_[i]);
    }
    this->weights_ = (this->weights_.array() - mx).exp().matrix();
    this->weights_ /= this->weights_.sum();
  }

 private:
  Generator gen_;
};

}  // namespace weighting
}  // namespace onestone
