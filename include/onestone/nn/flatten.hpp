#pragma once
/// @file flatten.hpp
/// `Flatten<T>`: merges a range of dimensions into one (a view, no copy), as libtorch's
/// `torch::nn::Flatten`.

#include <string>

#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// Flattens dimensions start_dim..end_dim (default 1..−1, as PyTorch: every dimension but the
/// batch), e.g. between a convolutional trunk and a linear head.
///
/// Example:
/// @code
/// onestone::nn::Flatten<float> flat;
/// auto y = flat.forward(x);   // [N, C, H, W] -> [N, C·H·W]
/// @endcode
template <typename T>
class Flatten : public Module<T> {
 public:
  explicit Flatten(int start_dim = 1, int end_dim = -1) : start_(start_dim), end_(end_dim) {}
  Var<T> forward(const Var<T>& x) override { return autograd::flatten(x, start_, end_); }
  std::string name() const override {
    return "Flatten(" + std::to_string(start_) + ", " + std::to_string(end_) + ")";
  }

 private:
  int start_, end_;
};
ONESTONE_EXTERN_CLASS(NN, Flatten)

}  // namespace nn
}  // namespace onestone
