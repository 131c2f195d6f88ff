#pragma once
/// @file hard.hpp
/// `HardSharing<T>`: one shared trunk whose output feeds every task head.

#include <memory>

#include "onestone/config.hpp"
#include "onestone/sharing/strategy.hpp"

namespace onestone {
namespace sharing {

/// Hard parameter sharing (Caruana 1997): z = trunk(x) for every task; the tasks differ only in
/// their heads. The cheapest strategy and the usual baseline.
///
/// @param trunk any unary module (an `MLP`, a `Sequential`, your own)
/// @param output_features the trunk's output width: dimension 1 of its output (features of
///        [N, F], channels of a convolutional feature map [N, C, H, W])
///
/// Example:
/// @code
/// auto trunk = std::make_shared<onestone::nn::MLP<float>>(onestone::nn::MLPOptions({784, 256}));
/// auto hard = std::make_shared<onestone::sharing::HardSharing<float>>(trunk, 256);
/// @endcode
template <typename T>
class HardSharing : public SharingStrategy<T> {
 public:
  HardSharing(std::shared_ptr<nn::Module<T>> trunk, Index output_features)
      : trunk_(this->register_module("trunk", std::move(trunk))), features_(output_features) {
    if (output_features <= 0)
      throw std::invalid_argument("HardSharing: output_features must be positive");
  }
  void forward_tasks(const Var<T>& x, Var<T>* reps) override {
    Var<T> z = trunk_->forward(x);
    if (z.shape().rank() < 2 || z.shape()[1] != features_)
      throw std::invalid_argument("HardSharing: trunk produced " + z.shape().str() +
                                  " but output_features (its dimension 1: features, or "
                                  "channels of a feature map) is " +
                                  std::to_string(features_));
    if (autograd::is_grad_enabled()) z_ = z;  // for balancing; not while serving
    for (int t = 0; t < this->num_tasks_; ++t) reps[t] = z;
  }
  Index output_features() const override { return features_; }
  Var<T> shared_representation() const override { return z_; }
  std::string name() const override { return "HardSharing"; }
  nn::Module<T>& trunk() { return *trunk_; }

 private:
  std::shared_ptr<nn::Module<T>> trunk_;
  Index features_;
  Var<T> z_;
};
ONESTONE_EXTERN_CLASS(SHARING, HardSharing)

}  // namespace sharing
}  // namespace onestone
