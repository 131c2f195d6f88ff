#pragma once
/// @file gradnorm.hpp
/// `GradNorm<T>`: gradient normalisation (Chen et al., ICML 2018).

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// GradNorm: learned weights wᵢ (Σ = T) that equalise the weighted gradient norms
/// Gᵢ = wᵢ‖gᵢ‖ towards Ḡ·rᵢ^α, with rᵢ = (Lᵢ/Lᵢ(0)) / mean_j(Lⱼ/Lⱼ(0)) the relative inverse
/// training rate. Each step uses the current weights (d = Jᵀw), then takes one step of the L1
/// objective Σ|Gᵢ − Ḡrᵢ^α| on w (rate `lr`, w ≥ 1e-4, renormalised to sum T). Needs only
/// diag(G) = ‖gᵢ‖² and the losses. α = 1.5 (the paper's value for its regression benchmark; 0.12
/// on NYUv2), lr = 0.025. Lᵢ(0) is task i's loss the first time it is present; the weights and
/// initial losses are kept per task id.
template <typename T>
class GradNorm : public GramianWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit GradNorm(double alpha = 1.5, double lr = 0.025) : alpha_(alpha), lr_(lr) {
    if (!(alpha >= 0) || !(lr > 0)) throw std::invalid_argument("GradNorm: needs alpha >= 0, lr > 0");
  }
  std::string name() const override { return "gradnorm"; }
  bool needs_losses() const override { return true; }
  void reset(int n) override {
    GramianWeighting<T>::reset(n);
    learned_ = Vector<T>::Ones(n);
    initial_ = Vector<T>::Zero(n);  // 0 = not seen yet
  }
  const Vector<T>& learned_weights() const { return learned_; }
  void get_extra_state(nn::ExtraState& s) const override {
    GramianWeighting<T>::get_extra_state(s);
    s.put("learned", learned_);
    s.put("initial_losses", initial_);
  }
  void set_extra_state(const nn::ExtraState& s) override {
    Vector<T> l, i;
    s.get("learned", l, this->num_tasks_);
    s.get("initial_losses", i, this->num_tasks_);
    GramianWeighting<T>::set_extra_state(s);
    learned_ = std::move(l);
    initial_ = std::move(i);
  }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override {
    const Eigen::Index m = G.rows();
    const Vector<T>& L = *info.losses;
    for (Eigen::Index r = 0; r < m; ++r)
      if (initial_[info.task(r)] == T(0)) initial_[info.task(r)] = std::max(L[r], T(1e-12));
    this->gather(learned_, info, w);  // this step's weights: the current learned ones
    norms_ = G.diagonal().cwiseMax(T(0)).cwiseSqrt();
    weighted_ = w.cwiseProduct(norms_);
    const T gbar = weighted_.mean();
    ratio_.resize(m);
    for (Eigen::Index r = 0; r < m; ++r) ratio_[r] = L[r] / initial_[info.task(r)];
    ratio_ /= ratio_.mean();
    next_ = w;
    for (Eigen::Index r = 0; r < m; ++r) {
      const T target = gbar * std::pow(ratio_[r], static_cast<T>(alpha_));
      const T gi = weighted_[r];
      const T grad = (gi > target ? T(1) : (gi < target ? T(-1) : T(0))) * norms_[r];
      next_[r] = std::max(T(1e-4), next_[r] - static_cast<T>(lr_) * grad);
    }
    next_ *= static_cast<T>(m) / next_.sum();
    this->scatter(next_, info, learned_);
  }

 private:
  double alpha_, lr_;
  Vector<T> learned_, initial_;
  Vector<T> norms_, weighted_, ratio_, next_;
};
ONESTONE_EXTERN_CLASS(WEIGHTING, GradNorm)

}  // namespace weighting
}  // namespace onestone
