#pragma once
/// @file layer_norm.hpp
/// `LayerNorm<T>`: normalisation over the last dimension with learned scale and shift.

#include "onestone/autograd/ops/norm.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// Layer normalisation over the last dimension of size `features`, with "weight" (ones) and
/// "bias" (zeros) parameters unless `affine` is false.
///
/// Example: `LayerNorm<float> ln(256); auto y = ln.forward(x);`
template <typename T>
class LayerNorm : public Module<T> {
 public:
  explicit LayerNorm(Index features, double eps = 1e-5, bool affine = true);
  Var<T> forward(const Var<T>& x) override;
  std::string name() const override { return "LayerNorm(" + std::to_string(features_) + ")"; }

 private:
  Index features_;
  double eps_;
  Parameter<T>* gamma_ = nullptr;
  Parameter<T>* beta_ = nullptr;
};

template <typename T>
LayerNorm<T>::LayerNorm(Index features, double eps, bool affine) : features_(features), eps_(eps) {
  if (features <= 0) throw std::invalid_argument("LayerNorm: features must be positive");
  if (affine) {
    gamma_ = &this->register_parameter("weight", Tensor<T>::ones(Shape{features}));
    beta_ = &this->register_parameter("bias", Tensor<T>::zeros(Shape{features}));
  }
}

template <typename T>
Var<T> LayerNorm<T>::forward(const Var<T>& x) {
  if (x.cols() != features_)
    throw std::invalid_argument("LayerNorm: input " + x.shape().str() + " does not end in " +
                                std::to_string(features_));
  autograd::Tape<T>& t = x.tape();
  if (!gamma_) return layer_norm(x, Var<T>(), Var<T>(), static_cast<T>(eps_));
  return layer_norm(x, gamma_->var(t), beta_->var(t), static_cast<T>(eps_));
}
ONESTONE_EXTERN_CLASS(NN, LayerNorm)

}  // namespace nn
}  // namespace onestone
