#pragma once
/// @file uncertainty.hpp
/// `UncertaintyWeighting<T>` (Kendall, Gal & Cipolla, CVPR 2018) and `IMTLL<T>` (IMTL-L, Liu et
/// al., ICLR 2021): loss weights learned with the model.

#include <cmath>
#include <memory>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Homoscedastic uncertainty weighting: one learnable sᵢ = log σᵢ² per task and
///   L = Σᵢ (e^{−sᵢ} Lᵢ + sᵢ),
/// twice Kendall et al.'s ½σ⁻²Lᵢ + log σᵢ (same minimiser). sᵢ starts at 0; its parameters are
/// trained by the model's optimizer (`MultiTaskModel` adds them to `parameters()`).
/// weights() reports e^{−sᵢ}.
///
/// Example: `model.set_balancer(std::make_shared<UncertaintyWeighting<float>>());`
template <typename T>
class UncertaintyWeighting : public Balancer<T> {
 public:
  UncertaintyWeighting() : s_(&this->register_parameter("log_var", Tensor<T>(Shape{Index(0)}))) {}
  std::string name() const override { return "uncertainty"; }
  void reset(int n) override {
    Balancer<T>::reset(n);
    if (s_->numel() != n) s_->reset_value(Tensor<T>(Shape{Index(n)}));
  }
  Var<T> combine_losses(const std::vector<Var<T>>& losses) override {
    Var<T> s = s_->var(losses.at(0).tape());
    Var<T> total;
    for (std::size_t i = 0; i < losses.size(); ++i) {
      Var<T> si = narrow(reshape(s, Shape{1, s.numel()}), -1, static_cast<Index>(i), 1);
      this->weights_[static_cast<Eigen::Index>(i)] = std::exp(-si.item());
      Var<T> term = term_for(losses[i], si);
      total = total.defined() ? total + term : term;
    }
    return total;
  }
  /// The learned sᵢ.
  const Tensor<T>& log_variances() const { return s_->value(); }

 protected:
  virtual Var<T> term_for(const Var<T>& loss, const Var<T>& s) { return exp(-s) * loss + s; }
  nn::Parameter<T>* s_;
};

/// IMTL-L (Liu et al., ICLR 2021, loss balance): learnable sᵢ with L = Σᵢ (e^{sᵢ} Lᵢ − sᵢ), which
/// drives every scaled loss e^{sᵢ}Lᵢ towards 1. weights() reports e^{sᵢ}.
///
/// Example: `model.set_balancer(std::make_shared<IMTLL<float>>());`
template <typename T>
class IMTLL : public UncertaintyWeighting<T> {
 public:
  std::string name() const override { return "imtl_l"; }
  Var<T> combine_losses(const std::vector<Var<T>>& losses) override {
    Var<T> total = UncertaintyWeighting<T>::combine_losses(losses);
    for (Eigen::Index i = 0; i < this->weights_.size(); ++i)
      this->weights_[i] = T(1) / this->weights_[i];
    return total;
  }

 protected:
  Var<T> term_for(const Var<T>& loss, const Var<T>& s) override { return exp(s) * loss - s; }
};

}  // namespace weighting
}  // namespace onestone
