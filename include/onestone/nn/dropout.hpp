#pragma once
/// @file dropout.hpp
/// `Dropout<T>`, `Dropout2d<T>`: inverted (channel) dropout, active in training mode only.

#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/autograd/ops/dropout.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// Inverted dropout with probability p; identity in eval mode. Its mask generator is seeded
/// (explicitly, or from the thread's default generator at construction).
///
/// Example: `auto drop = std::make_shared<Dropout<float>>(0.1);`
template <typename T>
class Dropout : public Module<T> {
 public:
  explicit Dropout(double p, std::uint64_t seed) : p_(p), gen_(seed) { check(); }
  explicit Dropout(double p = 0.5) : p_(p), gen_(default_generator().next_u64()) { check(); }
  Var<T> forward(const Var<T>& x) override {
    return dropout(x, static_cast<T>(p_), this->is_training(), gen_);
  }
  std::string name() const override { return "Dropout(" + std::to_string(p_) + ")"; }
  double p() const { return p_; }
  Generator& generator() { return gen_; }

 private:
  void check() const {
    if (!(p_ >= 0.0 && p_ <= 1.0))
      throw std::invalid_argument("Dropout: probability " + std::to_string(p_) + " not in [0, 1]");
  }
  double p_;
  Generator gen_;
};
ONESTONE_EXTERN_CLASS(NN, Dropout)

/// Channel dropout for [N, C, H, W] inputs (PyTorch's `Dropout2d`): whole channels zeroed with
/// probability p, the others scaled by 1/(1−p); identity in eval mode. Its generator is seeded
/// like `Dropout`'s.
///
/// Example: `auto drop = std::make_shared<Dropout2d<float>>(0.1, /*seed=*/7);`
template <typename T>
class Dropout2d : public Module<T> {
 public:
  explicit Dropout2d(double p, std::uint64_t seed) : p_(p), gen_(seed) { check(); }
  explicit Dropout2d(double p = 0.5) : p_(p), gen_(default_generator().next_u64()) { check(); }
  Var<T> forward(const Var<T>& x) override {
    return dropout2d(x, static_cast<T>(p_), this->is_training(), gen_);
  }
  std::string name() const override { return "Dropout2d(" + std::to_string(p_) + ")"; }
  double p() const { return p_; }
  Generator& generator() { return gen_; }

 private:
  void check() const {
    if (!(p_ >= 0.0 && p_ <= 1.0))
      throw std::invalid_argument("Dropout2d: probability " + std::to_string(p_) +
                                  " not in [0, 1]");
  }
  double p_;
  Generator gen_;
};
ONESTONE_EXTERN_CLASS(NN, Dropout2d)

}  // namespace nn
}  // namespace onestone
