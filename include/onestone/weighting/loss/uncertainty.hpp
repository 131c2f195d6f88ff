#pragma once
/// @file uncertainty.hpp
/// `UncertaintyWeighting<T>` (Kendall, Gal & Cipolla, CVPR 2018) and `IMTLL<T>` (IMTL-L, Liu
/// et al., ICLR 2021): learnable per-task log-scales trained with the model.

#include <cmath>
#include <string>
#include <vector>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Homoscedastic uncertainty weighting: learnable sᵢ = log σᵢ² with L = Σᵢ (e^{−sᵢ}Lᵢ + sᵢ)
/// over the present tasks (the form most implementations use for classification and regression
/// alike). The sᵢ are the balancer's parameter "log_var" (listed among the model's parameters,
/// so the model's optimizer trains them); an absent task's sᵢ gets no gradient that step.
/// weights() reports e^{−sᵢ}.
///
/// Example: `model.set_balancer(std::make_shared<UncertaintyWeighting<float>>());`
template <typename T>
class UncertaintyWeighting : public LossWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  UncertaintyWeighting() : s_(&this->register_parameter("log_var", Tensor<T>(Shape{Index(0)}))) {}
  std::string name() const override { return "uncertainty"; }
  void reset(int n) override {
    LossWeighting<T>::reset(n);
    if (s_->numel() != n) s_->reset_value(Tensor<T>(Shape{Index(n)}));
  }
  using LossWeighting<T>::combine_losses;
  Var<T> combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) override {
    this->prepare(losses, tasks);
    Var<T> s = s_->var(losses.at(0).tape());
    Var<T> total;
    this->w_.resize(static_cast<Eigen::Index>(losses.size()));
    for (std::size_t k = 0; k < losses.size(); ++k) {
      Var<T> si = narrow(s, 0, static_cast<Index>(tasks[k]), 1);
      this->w_[static_cast<Eigen::Index>(k)] = reported(si.item());
      Var<T> term = term_for(losses[k], si);
      total = total.defined() ? total + term : term;
    }
    this->scatter_weights(this->w_, this->info_);
    ++this->steps_;
    return sum(total);
  }
  /// The learned sᵢ.
  const Tensor<T>& log_variances() const { return s_->value(); }

 protected:
  virtual Var<T> term_for(const Var<T>& loss, const Var<T>& s) { return exp(-s) * loss + s; }
  virtual T reported(T s) const { return std::exp(-s); }
  nn::Parameter<T>* s_;
};
ONESTONE_EXTERN_CLASS(WEIGHTING, UncertaintyWeighting)

/// IMTL-L (Liu et al., ICLR 2021, loss balance): learnable sᵢ with L = Σᵢ (e^{sᵢ} Lᵢ − sᵢ), which
/// drives every scaled loss e^{sᵢ}Lᵢ towards 1. weights() reports e^{sᵢ}.
///
/// Example: `model.set_balancer(std::make_shared<IMTLL<float>>());`
template <typename T>
class IMTLL : public UncertaintyWeighting<T> {
 public:
  std::string name() const override { return "imtl_l"; }

 protected:
  Var<T> term_for(const Var<T>& loss, const Var<T>& s) override { return exp(s) * loss - s; }
  T reported(T s) const override { return std::exp(s); }
};
ONESTONE_EXTERN_CLASS(WEIGHTING, IMTLL)

}  // namespace weighting
}  // namespace onestone
