#pragma once
/// @file upsample.hpp
/// `Upsample<T>`: nearest or bilinear resampling of NCHW inputs, as libtorch's
/// `torch::nn::Upsample`.

#include <string>

#include "onestone/autograd/ops/upsample.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// The options of `upsample` (size or scale factor, mode, align_corners), under libtorch's
/// name.
using UpsampleOptions = autograd::UpsampleOptions;
using UpsampleMode = autograd::UpsampleMode;

/// Upsampling layer (no parameters): `upsample(x, options)` for x [N, C, H, W].
///
/// Example:
/// @code
/// onestone::nn::Upsample<float> up(
///     onestone::nn::UpsampleOptions().scale_factor(2).mode(onestone::UpsampleMode::Bilinear));
/// auto y = up.forward(x);   // [N, C, 7, 7] -> [N, C, 14, 14]
/// @endcode
template <typename T>
class Upsample : public Module<T> {
 public:
  explicit Upsample(const UpsampleOptions& opt) : options_(opt) {}
  Var<T> forward(const Var<T>& x) override { return autograd::upsample(x, options_); }
  std::string name() const override {
    return std::string("Upsample(") +
           (options_.mode_ == UpsampleMode::Bilinear ? "bilinear" : "nearest") + ")";
  }
  const UpsampleOptions& options() const { return options_; }

 private:
  UpsampleOptions options_;
};
ONESTONE_EXTERN_CLASS(NN, Upsample)

}  // namespace nn
}  // namespace onestone
