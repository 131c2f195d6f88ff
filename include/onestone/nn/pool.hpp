#pragma once
/// @file pool.hpp
/// `MaxPool2d<T>`, `AvgPool2d<T>`, `AdaptiveAvgPool2d<T>`: pooling layers (no parameters),
/// usable in `Sequential`.

#include <array>
#include <stdexcept>
#include <string>

#include "onestone/autograd/ops/pool.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// Max pooling layer over NCHW inputs.
/// Example: `onestone::nn::MaxPool2d<float> pool(onestone::Pool2dGeometry(2));`
template <typename T>
class MaxPool2d : public Module<T> {
 public:
  explicit MaxPool2d(const autograd::Pool2dGeometry& g) : g_(g) {}
  Var<T> forward(const Var<T>& x) override { return autograd::max_pool2d(x, g_); }
  std::string name() const override {
    return "MaxPool2d(" + std::to_string(g_.kh_) + "x" + std::to_string(g_.kw_) + ")";
  }

 private:
  autograd::Pool2dGeometry g_;
};

/// Average pooling layer over NCHW inputs.
/// Example: `onestone::nn::AvgPool2d<float> pool(onestone::Pool2dGeometry(2));`
template <typename T>
class AvgPool2d : public Module<T> {
 public:
  explicit AvgPool2d(const autograd::Pool2dGeometry& g) : g_(g) {}
  Var<T> forward(const Var<T>& x) override { return autograd::avg_pool2d(x, g_); }
  std::string name() const override {
    return "AvgPool2d(" + std::to_string(g_.kh_) + "x" + std::to_string(g_.kw_) + ")";
  }

 private:
  autograd::Pool2dGeometry g_;
};

/// Adaptive average pooling layer over NCHW inputs to a fixed output size (PyTorch's window
/// bounds, see `adaptive_avg_pool2d`); size 1 is global average pooling ([N, C, 1, 1]).
///
/// Example: `onestone::nn::AdaptiveAvgPool2d<float> gap(1);   // or ({7, 7})`
template <typename T>
class AdaptiveAvgPool2d : public Module<T> {
 public:
  explicit AdaptiveAvgPool2d(Index size) : AdaptiveAvgPool2d(std::array<Index, 2>{size, size}) {}
  explicit AdaptiveAvgPool2d(const std::array<Index, 2>& size) : size_(size) {
    if (size[0] < 1 || size[1] < 1)
      throw std::invalid_argument("AdaptiveAvgPool2d: output size " + std::to_string(size[0]) +
                                  "x" + std::to_string(size[1]) + " must be positive");
  }
  Var<T> forward(const Var<T>& x) override { return autograd::adaptive_avg_pool2d(x, size_); }
  std::string name() const override {
    return "AdaptiveAvgPool2d(" + std::to_string(size_[0]) + "x" + std::to_string(size_[1]) + ")";
  }
  const std::array<Index, 2>& output_size() const { return size_; }

 private:
  std::array<Index, 2> size_;
};
ONESTONE_EXTERN_CLASS(NN, AdaptiveAvgPool2d)

}  // namespace nn
}  // namespace onestone
