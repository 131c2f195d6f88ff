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
///        [N, F], channels of a convolutional feature map [N, C, H, W]), or the dimension
///        `feature_axis` names
/// @param feature_axis which dimension of the trunk's output holds the features (default 1;
///        −1 for token vectors [N, L, D] of a sequence encoder)
///
/// Example:
/// @code
/// auto trunk = std::make_shared<onestone::nn::MLP<float>>(onestone::nn::MLPOptions({784, 256}));
/// auto hard = std::make_shared<onestone::sharing::HardSharing<float>>(trunk, 256);
/// @endcode
template <typename T>
class HardSharing : public SharingStrategy<T> {
 public:
  HardSharing(std::shared_ptr<nn::Module<T>> trunk, Index output_features, int feature_axis = 1);
  void forward_tasks(const Var<T>& x, Var<T>* reps) override;
  Index output_features() const override { return features_; }
  Var<T> shared_representation() const override { return z_; }
  std::string name() const override { return "HardSharing"; }
  nn::Module<T>& trunk() { return *trunk_; }

 private:
  std::shared_ptr<nn::Module<T>> trunk_;
  Index features_;
  int axis_;
  Var<T> z_;
};

template <typename T>
HardSharing<T>::HardSharing(std::shared_ptr<nn::Module<T>> trunk, Index output_features,
                            int feature_axis)
    : trunk_(this->register_module("trunk", std::move(trunk))),
      features_(output_features),
      axis_(feature_axis) {
  if (output_features <= 0)
    throw std::invalid_argument("HardSharing: output_features must be positive");
  if (feature_axis == 0 || feature_axis < -1)
    throw std::invalid_argument("HardSharing: feature_axis must be -1 or a dimension >= 1, got " +
                                std::to_string(feature_axis));
}

template <typename T>
void HardSharing<T>::forward_tasks(const Var<T>& x, Var<T>* reps) {
  Var<T> z = trunk_->forward(x);
  const int r = z.shape().rank();
  const int ax = axis_ < 0 ? r - 1 : axis_;
  if (r < 2 || ax >= r || z.shape()[ax] != features_)
    throw std::invalid_argument("HardSharing: trunk produced " + z.shape().str() +
                                " but output_features (its dimension " + std::to_string(axis_) +
                                ": features, channels of a feature map, or token width) is " +
                                std::to_string(features_));
  if (autograd::is_grad_enabled()) z_ = z;  // for balancing; not while serving
  for (int t = 0; t < this->num_tasks_; ++t) reps[t] = z;
}
ONESTONE_EXTERN_CLASS(SHARING, HardSharing)

}  // namespace sharing
}  // namespace onestone
