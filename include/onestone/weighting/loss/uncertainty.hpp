#pragma once
/// @file uncertainty.hpp
/// `UncertaintyWeighting<T>` (Kendall, Gal & Cipolla, CVPR 2018) and `IMTLL<T>` (IMTL-L, Liu
/// et al., ICLR 2021): learnable per-task log-scales trained with the model.

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Options of `UncertaintyWeighting`.
struct UncertaintyOptions {
  /// false: the paper's terms (below); true: e^{−sᵢ}Lᵢ + sᵢ for every task, the form many
  /// reimplementations use (twice the paper's regression term: the same weights' ratios and the
  /// same optimum sᵢ = log Lᵢ, twice the gradients).
  bool common = false;
  std::vector<int> classification;  ///< task ids with the paper's classification term
  double init = 0;                  ///< initial sᵢ (LibMTL: −0.5)
};

/// Homoscedastic uncertainty weighting (Kendall, Gal & Cipolla): learnable sᵢ = log σᵢ² with
/// L = Σᵢ termᵢ over the present tasks, where termᵢ is the paper's negative log-likelihood:
/// ½e^{−sᵢ}Lᵢ + ½sᵢ for a regression task (Gaussian: 1/(2σ²)·L + log σ; every task by default,
/// as TorchJD's and LibMTL's UW) and e^{−sᵢ}Lᵢ + ½sᵢ for a classification task (1/σ²·L + log σ;
/// option `classification=` lists their task ids). Option `form=common` uses e^{−sᵢ}Lᵢ + sᵢ for
/// every task instead; `init` sets the starting sᵢ (0: σ² = 1; LibMTL starts at −0.5). The sᵢ
/// are the balancer's parameter "log_var" (listed among the model's parameters, so the model's
/// optimizer trains them); an absent task's sᵢ gets no gradient that step. weights() reports the
/// coefficient of each Lᵢ (½e^{−sᵢ}, or e^{−sᵢ} for classification and the common form).
///
/// Example: `model.set_balancer(std::make_shared<UncertaintyWeighting<float>>());`
template <typename T>
class UncertaintyWeighting : public LossWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit UncertaintyWeighting(UncertaintyOptions opt = {});
  std::string name() const override { return "uncertainty"; }
  void reset(int n) override;
  using LossWeighting<T>::combine_losses;
  Var<T> combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) override;
  /// The learned sᵢ.
  const Tensor<T>& log_variances() const { return s_->value(); }
  const UncertaintyOptions& options() const { return opt_; }

 protected:
  bool is_classification(int task) const {
    for (int c : opt_.classification)
      if (c == task) return true;
    return false;
  }
  virtual Var<T> term_for(const Var<T>& loss, const Var<T>& s, int task) {
    if (opt_.common) return exp(-s) * loss + s;
    if (is_classification(task)) return exp(-s) * loss + affine(s, T(0.5), T(0));
    return affine(exp(-s) * loss + s, T(0.5), T(0));
  }
  virtual T reported(T s, int task) const {
    return (opt_.common || is_classification(task)) ? std::exp(-s) : T(0.5) * std::exp(-s);
  }
  UncertaintyOptions opt_;
  nn::Parameter<T>* s_;
};

template <typename T>
UncertaintyWeighting<T>::UncertaintyWeighting(UncertaintyOptions opt)
    : opt_(std::move(opt)), s_(&this->register_parameter("log_var", Tensor<T>(Shape{Index(0)}))) {
  if (opt_.common && !opt_.classification.empty())
    throw std::invalid_argument(
        "uncertainty: 'classification' selects the paper's terms; it cannot go with form=common");
  if (!std::isfinite(opt_.init)) throw std::invalid_argument("uncertainty: init must be finite");
}

template <typename T>
void UncertaintyWeighting<T>::reset(int n) {
  LossWeighting<T>::reset(n);
  for (int c : opt_.classification)
    if (c < 0 || c >= n)
      throw std::invalid_argument(name() + ": classification task id " + std::to_string(c) +
                                  " outside the " + std::to_string(n) + " tasks");
  if (s_->numel() != n) {
    Tensor<T> init(Shape{Index(n)});
    init.vector().setConstant(static_cast<T>(opt_.init));
    s_->reset_value(init);
  }
}

template <typename T>
Var<T> UncertaintyWeighting<T>::combine_losses(const std::vector<Var<T>>& losses,
                                               const std::vector<int>& tasks) {
  this->prepare(losses, tasks);
  Var<T> s = s_->var(losses.at(0).tape());
  Var<T> total;
  this->w_.resize(static_cast<Eigen::Index>(losses.size()));
  for (std::size_t k = 0; k < losses.size(); ++k) {
    Var<T> si = narrow(s, 0, static_cast<Index>(tasks[k]), 1);
    this->w_[static_cast<Eigen::Index>(k)] = reported(si.item(), tasks[k]);
    Var<T> term = term_for(losses[k], si, tasks[k]);
    total = total.defined() ? total + term : term;
  }
  this->scatter_weights(this->w_, this->info_);
  ++this->steps_;
  return sum(total);
}
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
  Var<T> term_for(const Var<T>& loss, const Var<T>& s, int) override { return exp(s) * loss - s; }
  T reported(T s, int) const override { return std::exp(s); }
};
ONESTONE_EXTERN_CLASS(WEIGHTING, IMTLL)

}  // namespace weighting
}  // namespace onestone
