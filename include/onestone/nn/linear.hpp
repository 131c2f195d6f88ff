#pragma once
/// @file linear.hpp
/// `Linear<T>`: the fully connected layer y = x·Wᵀ + b.

#include <cmath>
#include <cstdint>

#include "onestone/config.hpp"
#include "onestone/autograd/ops/linalg.hpp"
#include "onestone/nn/init.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// Options of `Linear`: sizes, bias on/off, initialisation, and an optional seed.
///
/// Example: `LinearOptions(784, 256).bias(false).init(Init::XavierUniform).seed(7)`
struct LinearOptions {
  LinearOptions(Index in_features, Index out_features) : in_(in_features), out_(out_features) {}
  LinearOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  LinearOptions& init(Init scheme) {
    init_ = scheme;
    return *this;
  }
  /// Draw the initial values from a generator seeded with `s` instead of the thread's default.
  LinearOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  Index in_, out_;
  bool bias_ = true;
  Init init_ = Init::Default;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// Fully connected layer: y = x·Wᵀ + b with W [out, in] ("weight") and b [out] ("bias").
/// The bias starts in U(−1/√in, 1/√in) as in PyTorch; the weight follows `LinearOptions::init`.
///
/// Example:
/// @code
/// onestone::nn::Linear<float> fc(onestone::nn::LinearOptions(784, 256));
/// auto y = fc.forward(x);   // x: [batch, 784] -> y: [batch, 256]
/// @endcode
template <typename T>
class Linear : public Module<T> {
 public:
  explicit Linear(const LinearOptions& opt) : options_(opt) {
    if (opt.in_ <= 0 || opt.out_ <= 0)
      throw std::invalid_argument("Linear: sizes must be positive, got in=" +
                                  std::to_string(opt.in_) + " out=" + std::to_string(opt.out_));
    Generator local(opt.seed_);
    Generator& gen = opt.has_seed_ ? local : default_generator();
    Tensor<T> w({opt.out_, opt.in_});
    init::apply(opt.init_, w, gen);
    weight_ = &this->register_parameter("weight", std::move(w));
    if (opt.bias_) {
      Tensor<T> b({opt.out_});
      const double bound = 1.0 / std::sqrt(static_cast<double>(opt.in_));
      init::uniform_(b, -bound, bound, gen);
      bias_ = &this->register_parameter("bias", std::move(b));
    }
  }
  Var<T> forward(const Var<T>& x) override {
    autograd::Tape<T>& t = x.tape();
    return bias_ ? linear(x, weight_->var(t), bias_->var(t)) : linear(x, weight_->var(t));
  }
  std::string name() const override {
    return "Linear(" + std::to_string(options_.in_) + ", " + std::to_string(options_.out_) + ")";
  }
  Parameter<T>& weight() { return *weight_; }
  Parameter<T>* bias() { return bias_; }
  const LinearOptions& options() const { return options_; }

 private:
  LinearOptions options_;
  Parameter<T>* weight_ = nullptr;
  Parameter<T>* bias_ = nullptr;
};
ONESTONE_EXTERN_CLASS(NN, Linear)

}  // namespace nn
}  // namespace onestone
