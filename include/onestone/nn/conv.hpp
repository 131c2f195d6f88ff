#pragma once
/// @file conv.hpp
/// `Conv2d<T>`, `ConvTranspose2d<T>`: the 2-D (transposed) convolution layers (NCHW), as
/// libtorch's `torch::nn::Conv2d` and `torch::nn::ConvTranspose2d`.

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/autograd/ops/conv.hpp"
#include "onestone/autograd/ops/conv_transpose.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/init.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

namespace detail {

/// Checks the sizes of the convolution layer `what` (options `opt`) and registers its
/// parameters as PyTorch initialises them: "weight" of shape [lead, per_group / groups, KH, KW]
/// and, with `opt.bias_`, "bias" of `opt.out_` values, both uniform in ±1/√fan_in with
/// fan_in = per_group / groups · KH · KW. Conv2d passes (out, in), ConvTranspose2d (in, out).
template <typename T, class Options>
void init_conv_layer(Module<T>& m, const char* what, const Options& opt, Index lead,
                     Index per_group, Parameter<T>*& weight, Parameter<T>*& bias) {
  const Index g = opt.geometry_.groups_;
  if (opt.in_ <= 0 || opt.out_ <= 0 || opt.kh_ <= 0 || opt.kw_ <= 0 || g <= 0 || opt.in_ % g != 0 ||
      opt.out_ % g != 0)
    throw std::invalid_argument(
        std::string(what) +
        ": channels and kernel sizes must be positive and channels divisible by groups (in " +
        std::to_string(opt.in_) + ", out " + std::to_string(opt.out_) + ", kernel " +
        std::to_string(opt.kh_) + "x" + std::to_string(opt.kw_) + ", groups " + std::to_string(g) +
        ")");
  Generator local(opt.seed_);
  Generator& gen = opt.has_seed_ ? local : default_generator();
  const Index fan_in = per_group / g * opt.kh_ * opt.kw_;
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  Tensor<T> w({lead, per_group / g, opt.kh_, opt.kw_});
  init::uniform_(w, -bound, bound, gen);
  weight = &m.register_parameter("weight", std::move(w));
  if (opt.bias_) {
    Tensor<T> b({opt.out_});
    init::uniform_(b, -bound, bound, gen);
    bias = &m.register_parameter("bias", std::move(b));
  }
}

}  // namespace detail

/// Options of `Conv2d`: channels, kernel size, stride, padding, dilation, groups, bias, seed.
///
/// Example: `Conv2dOptions(3, 64, 3).stride(1).padding(1).bias(false)`
struct Conv2dOptions {
  Conv2dOptions(Index in_channels, Index out_channels, Index kernel)
      : in_(in_channels), out_(out_channels), kh_(kernel), kw_(kernel) {}
  Conv2dOptions(Index in_channels, Index out_channels, Index kernel_h, Index kernel_w)
      : in_(in_channels), out_(out_channels), kh_(kernel_h), kw_(kernel_w) {}
  Conv2dOptions& stride(Index s) {
    geometry_.stride(s);
    return *this;
  }
  Conv2dOptions& padding(Index p) {
    geometry_.padding(p);
    return *this;
  }
  Conv2dOptions& dilation(Index d) {
    geometry_.dilation(d);
    return *this;
  }
  /// Groups of channels convolved separately (in = out = groups: depthwise).
  Conv2dOptions& groups(Index g) {
    geometry_.groups(g);
    return *this;
  }
  Conv2dOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  Conv2dOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  Index in_, out_, kh_, kw_;
  autograd::Conv2dGeometry geometry_;
  bool bias_ = true;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// 2-D convolution layer: y = conv2d(x, W, b) for x [N, C, H, W], W [O, C/groups, KH, KW]
/// ("weight"), b [O] ("bias"). Initial values as PyTorch's: W and b uniform in ±1/√fan_in with
/// fan_in = C/groups·KH·KW (Kaiming-uniform with a = √5).
///
/// Example:
/// @code
/// onestone::nn::Conv2d<float> conv(onestone::nn::Conv2dOptions(1, 10, 5));
/// auto y = conv.forward(x);   // x: [batch, 1, 28, 28] -> y: [batch, 10, 24, 24]
/// @endcode
template <typename T>
class Conv2d : public Module<T> {
 public:
  explicit Conv2d(const Conv2dOptions& opt);
  Var<T> forward(const Var<T>& x) override {
    autograd::Tape<T>& t = x.tape();
    return autograd::conv2d(x, weight_->var(t), bias_ ? bias_->var(t) : Var<T>(),
                            options_.geometry_);
  }
  std::string name() const override {
    return "Conv2d(" + std::to_string(options_.in_) + ", " + std::to_string(options_.out_) + ", " +
           std::to_string(options_.kh_) + "x" + std::to_string(options_.kw_) + ")";
  }
  Parameter<T>& weight() { return *weight_; }
  Parameter<T>* bias() { return bias_; }
  const Conv2dOptions& options() const { return options_; }

 private:
  Conv2dOptions options_;
  Parameter<T>* weight_ = nullptr;
  Parameter<T>* bias_ = nullptr;
};

template <typename T>
Conv2d<T>::Conv2d(const Conv2dOptions& opt) : options_(opt) {
  detail::init_conv_layer(*this, "Conv2d", opt, opt.out_, opt.in_, weight_, bias_);
}
ONESTONE_EXTERN_CLASS(NN, Conv2d)

/// Options of `ConvTranspose2d`: channels, kernel size, stride, padding, output padding,
/// dilation, groups, bias, seed.
///
/// Example: `ConvTranspose2dOptions(64, 32, 3).stride(2).padding(1).output_padding(1)`
struct ConvTranspose2dOptions {
  ConvTranspose2dOptions(Index in_channels, Index out_channels, Index kernel)
      : in_(in_channels), out_(out_channels), kh_(kernel), kw_(kernel) {}
  ConvTranspose2dOptions(Index in_channels, Index out_channels, Index kernel_h, Index kernel_w)
      : in_(in_channels), out_(out_channels), kh_(kernel_h), kw_(kernel_w) {}
  ConvTranspose2dOptions& stride(Index s) {
    geometry_.stride(s);
    return *this;
  }
  ConvTranspose2dOptions& padding(Index p) {
    geometry_.padding(p);
    return *this;
  }
  /// Extra rows and columns on the output's bottom and right (smaller than stride or dilation).
  ConvTranspose2dOptions& output_padding(Index p) {
    geometry_.output_padding(p);
    return *this;
  }
  ConvTranspose2dOptions& dilation(Index d) {
    geometry_.dilation(d);
    return *this;
  }
  ConvTranspose2dOptions& groups(Index g) {
    geometry_.groups(g);
    return *this;
  }
  ConvTranspose2dOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  ConvTranspose2dOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  Index in_, out_, kh_, kw_;
  autograd::ConvTranspose2dGeometry geometry_;
  bool bias_ = true;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// 2-D transposed convolution layer: y = conv_transpose2d(x, W, b) for x [N, C_in, H, W],
/// W [C_in, C_out/groups, KH, KW] ("weight"), b [C_out] ("bias"). Initial values as
/// PyTorch's: W and b uniform in ±1/√fan_in with fan_in = W.size(1)·KH·KW = C_out/groups·KH·KW
/// (Kaiming-uniform with a = √5 computes the fan from the weight's second dimension).
///
/// Example:
/// @code
/// onestone::nn::ConvTranspose2d<float> up(
///     onestone::nn::ConvTranspose2dOptions(16, 8, 2).stride(2));
/// auto y = up.forward(x);   // x: [batch, 16, 7, 7] -> y: [batch, 8, 14, 14]
/// @endcode
template <typename T>
class ConvTranspose2d : public Module<T> {
 public:
  explicit ConvTranspose2d(const ConvTranspose2dOptions& opt);
  Var<T> forward(const Var<T>& x) override {
    autograd::Tape<T>& t = x.tape();
    return autograd::conv_transpose2d(x, weight_->var(t), bias_ ? bias_->var(t) : Var<T>(),
                                      options_.geometry_);
  }
  std::string name() const override {
    return "ConvTranspose2d(" + std::to_string(options_.in_) + ", " +
           std::to_string(options_.out_) + ", " + std::to_string(options_.kh_) + "x" +
           std::to_string(options_.kw_) + ")";
  }
  Parameter<T>& weight() { return *weight_; }
  Parameter<T>* bias() { return bias_; }
  const ConvTranspose2dOptions& options() const { return options_; }

 private:
  ConvTranspose2dOptions options_;
  Parameter<T>* weight_ = nullptr;
  Parameter<T>* bias_ = nullptr;
};

template <typename T>
ConvTranspose2d<T>::ConvTranspose2d(const ConvTranspose2dOptions& opt) : options_(opt) {
  detail::init_conv_layer(*this, "ConvTranspose2d", opt, opt.in_, opt.out_, weight_, bias_);
}
ONESTONE_EXTERN_CLASS(NN, ConvTranspose2d)

}  // namespace nn
}  // namespace onestone
