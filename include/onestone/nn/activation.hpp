#pragma once
/// @file activation.hpp
/// Activation functions as an enum (for options) and as modules.

#include <string>

#include "onestone/autograd/ops/unary.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// Activation choices for options builders (`MLPOptions::activation`).
enum class Activation { None, ReLU, LeakyReLU, GELU, Sigmoid, Tanh };

/// Applies an activation by enum (LeakyReLU uses slope 0.01).
template <typename T>
inline Var<T> activate(const Var<T>& x, Activation a) {
  switch (a) {
    case Activation::ReLU:
      return relu(x);
    case Activation::LeakyReLU:
      return leaky_relu(x, T(0.01));
    case Activation::GELU:
      return gelu(x);
    case Activation::Sigmoid:
      return sigmoid(x);
    case Activation::Tanh:
      return tanh(x);
    default:
      return x;
  }
}

inline const char* activation_name(Activation a) {
  switch (a) {
    case Activation::ReLU:
      return "ReLU";
    case Activation::LeakyReLU:
      return "LeakyReLU";
    case Activation::GELU:
      return "GELU";
    case Activation::Sigmoid:
      return "Sigmoid";
    case Activation::Tanh:
      return "Tanh";
    default:
      return "Identity";
  }
}

/// A module applying one activation, e.g.
/// `std::make_shared<ActivationModule<float>>(Activation::GELU)`.
template <typename T>
class ActivationModule : public Module<T> {
 public:
  explicit ActivationModule(Activation a) : a_(a) {}
  Var<T> forward(const Var<T>& x) override { return activate(x, a_); }
  std::string name() const override { return activation_name(a_); }

 private:
  Activation a_;
};
ONESTONE_EXTERN_CLASS(NN, ActivationModule)

/// max(x, 0).  Example: `seq.push_back(std::make_shared<ReLU<float>>());`
template <typename T>
struct ReLU : ActivationModule<T> {
  ReLU() : ActivationModule<T>(Activation::ReLU) {}
};
/// GELU (exact).
template <typename T>
struct GELU : ActivationModule<T> {
  GELU() : ActivationModule<T>(Activation::GELU) {}
};
/// Logistic sigmoid.
template <typename T>
struct Sigmoid : ActivationModule<T> {
  Sigmoid() : ActivationModule<T>(Activation::Sigmoid) {}
};
/// Hyperbolic tangent.
template <typename T>
struct Tanh : ActivationModule<T> {
  Tanh() : ActivationModule<T>(Activation::Tanh) {}
};
/// Leaky ReLU with a configurable slope (default 0.01).
template <typename T>
class LeakyReLU : public Module<T> {
 public:
  explicit LeakyReLU(T slope = T(0.01)) : slope_(slope) {}
  Var<T> forward(const Var<T>& x) override { return leaky_relu(x, slope_); }
  std::string name() const override { return "LeakyReLU"; }

 private:
  T slope_;
};
ONESTONE_EXTERN_CLASS(NN, LeakyReLU)
/// Identity: passes its input through (a trivial head or trunk).
template <typename T>
struct Identity : ActivationModule<T> {
  Identity() : ActivationModule<T>(Activation::None) {}
};

}  // namespace nn
}  // namespace onestone
