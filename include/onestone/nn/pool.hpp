#pragma once
/// @file pool.hpp
/// `MaxPool2d<T>`, `AvgPool2d<T>`: pooling layers (no parameters), usable in `Sequential`.

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

}  // namespace nn
}  // namespace onestone
