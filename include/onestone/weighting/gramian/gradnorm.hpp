#pragma once
/// @file gradnorm.hpp
/// `GradNorm<T>`: gradient normalisation (Chen et al., ICML 2018).

#include <algorithm>
#include <cmath>
#include <cstdint>
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
///
/// `libmtl(lr, weight_decay)` selects LibMTL's variant: the weights are w = T·softmax(θ) with
/// θ = 1 at the start, equal (w = 1) during the first epoch, whose mean losses become Lᵢ(0);
/// from the second epoch (counted by `end_epoch()`, which the Trainer calls) θ follows PyTorch's
/// Adam (β = 0.9, 0.999, ε = 1e-8, L2 decay `weight_decay`) on the same L1 objective through the
/// softmax. LibMTL steps θ with the model's own optimizer: give that optimizer's learning rate
/// and weight decay (LibMTL's defaults: Adam, lr 1e-4, weight decay 0).
///
/// Example: `make_balancer<float>("gradnorm", "alpha=1.5")`;
/// LibMTL's: `make_balancer<float>("gradnorm", "form=libmtl,alpha=1.5,lr=1e-4")`.
template <typename T>
class GradNorm : public GramianWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit GradNorm(double alpha = 1.5, double lr = 0.025) : alpha_(alpha), lr_(lr) {
    if (!(alpha >= 0) || !(lr > 0))
      throw std::invalid_argument("GradNorm: needs alpha >= 0, lr > 0");
  }
  std::string name() const override { return "gradnorm"; }
  bool needs_losses() const override { return true; }
  void reset(int n) override;
  /// Switches to LibMTL's variant (see the class comment): θ stepped by Adam at `lr`.
  GradNorm& libmtl(double lr = 1e-4, double weight_decay = 0);
  bool uses_libmtl() const { return libmtl_; }
  /// LibMTL's variant: θ, the logits of w = T·softmax(θ).
  const Vector<T>& logits() const { return theta_; }
  void end_epoch() override;
  const Vector<T>& learned_weights() const { return learned_; }
  void get_extra_state(nn::ExtraState& s) const override;
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override;

 private:
  // dobj_ = ∂Σᵢ|wᵢ‖gᵢ‖ − Ḡrᵢ^α|/∂w (Ḡrᵢ^α held constant): sign(wᵢ‖gᵢ‖ − Ḡrᵢ^α)·‖gᵢ‖ per row.
  void objective_gradient(const Matrix<T>& G, const StepInfo<T>& info, const Vector<T>& w);
  // LibMTL's variant: w = T·softmax(θ); an Adam step on θ along ∂Σ|wᵢ‖gᵢ‖ − Ḡrᵢ^α|/∂θ.
  void weigh_libmtl(const Matrix<T>& G, const StepInfo<T>& info, Vector<T>& w);
  double alpha_, lr_;
  double decay_ = 0;
  bool libmtl_ = false;
  Vector<T> learned_, initial_;
  Vector<T> norms_, weighted_, ratio_, next_, dobj_;
  Vector<T> theta_, m_, v_, sum_, count_, soft_, dw_;
  std::int64_t adam_steps_ = 0, epochs_ = 0;
};

template <typename T>
void GradNorm<T>::reset(int n) {
  GramianWeighting<T>::reset(n);
  learned_ = Vector<T>::Ones(n);
  initial_ = Vector<T>::Zero(n);  // 0 = not seen yet
  theta_ = Vector<T>::Ones(n);
  m_ = Vector<T>::Zero(n);
  v_ = Vector<T>::Zero(n);
  sum_ = Vector<T>::Zero(n);
  count_ = Vector<T>::Zero(n);
  adam_steps_ = 0;
  epochs_ = 0;
}

template <typename T>
GradNorm<T>& GradNorm<T>::libmtl(double lr, double weight_decay) {
  if (!(lr > 0) || !(weight_decay >= 0))
    throw std::invalid_argument("GradNorm: libmtl needs lr > 0, weight_decay >= 0");
  libmtl_ = true;
  lr_ = lr;
  decay_ = weight_decay;
  return *this;
}

template <typename T>
void GradNorm<T>::end_epoch() {
  if (libmtl_ && epochs_ == 0)
    for (Eigen::Index t = 0; t < initial_.size(); ++t)
      initial_[t] = count_[t] > 0 ? std::max(sum_[t] / count_[t], T(1e-12)) : T(1);
  ++epochs_;
}

template <typename T>
void GradNorm<T>::get_extra_state(nn::ExtraState& s) const {
  GramianWeighting<T>::get_extra_state(s);
  s.put("learned", learned_);
  s.put("initial_losses", initial_);
  if (libmtl_) {
    s.put("theta", theta_);
    s.put("adam_m", m_);
    s.put("adam_v", v_);
    s.put("adam_steps", adam_steps_);
    s.put("epoch_loss_sum", sum_);
    s.put("epoch_loss_count", count_);
    s.put("epochs", epochs_);
  }
}

template <typename T>
void GradNorm<T>::set_extra_state(const nn::ExtraState& s) {
  Vector<T> l, i, th, m, v, su, co;
  s.get("learned", l, this->num_tasks_);
  s.get("initial_losses", i, this->num_tasks_);
  std::int64_t steps = 0, epochs = 0;
  if (libmtl_) {
    s.get("theta", th, this->num_tasks_);
    s.get("adam_m", m, this->num_tasks_);
    s.get("adam_v", v, this->num_tasks_);
    s.get("epoch_loss_sum", su, this->num_tasks_);
    s.get("epoch_loss_count", co, this->num_tasks_);
    steps = s.get_int("adam_steps", 0, std::numeric_limits<std::int64_t>::max());
    epochs = s.get_int("epochs", 0, std::numeric_limits<std::int64_t>::max());
  }
  GramianWeighting<T>::set_extra_state(s);
  learned_ = std::move(l);
  initial_ = std::move(i);
  if (libmtl_) {
    theta_ = std::move(th);
    m_ = std::move(m);
    v_ = std::move(v);
    sum_ = std::move(su);
    count_ = std::move(co);
    adam_steps_ = steps;
    epochs_ = epochs;
  }
}

template <typename T>
void GradNorm<T>::weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
                        Vector<T>& w) {
  if (libmtl_) return weigh_libmtl(G, info, w);
  const Eigen::Index m = G.rows();
  const Vector<T>& L = *info.losses;
  for (Eigen::Index r = 0; r < m; ++r)
    if (initial_[info.task(r)] == T(0)) initial_[info.task(r)] = std::max(L[r], T(1e-12));
  this->gather(learned_, info, w);  // this step's weights: the current learned ones
  objective_gradient(G, info, w);
  next_ = w;
  for (Eigen::Index r = 0; r < m; ++r)
    next_[r] = std::max(T(1e-4), next_[r] - static_cast<T>(lr_) * dobj_[r]);
  next_ *= static_cast<T>(m) / next_.sum();
  this->scatter(next_, info, learned_);
}

template <typename T>
void GradNorm<T>::objective_gradient(const Matrix<T>& G, const StepInfo<T>& info,
                                     const Vector<T>& w) {
  const Eigen::Index m = G.rows();
  const Vector<T>& L = *info.losses;
  norms_ = G.diagonal().cwiseMax(T(0)).cwiseSqrt();
  weighted_ = w.cwiseProduct(norms_);
  const T gbar = weighted_.mean();
  ratio_.resize(m);
  for (Eigen::Index r = 0; r < m; ++r) ratio_[r] = L[r] / initial_[info.task(r)];
  ratio_ /= ratio_.mean();
  dobj_.resize(m);
  for (Eigen::Index r = 0; r < m; ++r) {
    const T target = gbar * std::pow(ratio_[r], static_cast<T>(alpha_));
    const T gi = weighted_[r];
    dobj_[r] = (gi > target ? T(1) : (gi < target ? T(-1) : T(0))) * norms_[r];
  }
}

template <typename T>
void GradNorm<T>::weigh_libmtl(const Matrix<T>& G, const StepInfo<T>& info, Vector<T>& w) {
  const Eigen::Index m = G.rows();
  const Eigen::Index n = theta_.size();
  const Vector<T>& L = *info.losses;
  if (epochs_ == 0) {  // equal weights; the epoch's mean losses become Lᵢ(0)
    for (Eigen::Index r = 0; r < m; ++r) {
      sum_[info.task(r)] += L[r];
      count_[info.task(r)] += T(1);
    }
    w.setOnes(m);
    return;
  }
  const T tmax = theta_.maxCoeff();
  soft_ = (theta_.array() - tmax).exp().matrix();
  soft_ /= soft_.sum();
  learned_ = soft_ * static_cast<T>(n);
  this->gather(learned_, info, w);
  objective_gradient(G, info, w);
  dw_ = Vector<T>::Zero(n);
  for (Eigen::Index r = 0; r < m; ++r) dw_[info.task(r)] = dobj_[r];
  // ∂wᵢ/∂θⱼ = T·sᵢ(δᵢⱼ − sⱼ): ∂/∂θⱼ = T·sⱼ(dwⱼ − Σᵢ dwᵢ sᵢ); then PyTorch's Adam.
  const T mean_dw = dw_.dot(soft_);
  ++adam_steps_;
  const T bc1 = static_cast<T>(1.0 - std::pow(0.9, static_cast<double>(adam_steps_)));
  const T bc2 = static_cast<T>(1.0 - std::pow(0.999, static_cast<double>(adam_steps_)));
  for (Eigen::Index j = 0; j < n; ++j) {
    const T g =
        static_cast<T>(n) * soft_[j] * (dw_[j] - mean_dw) + static_cast<T>(decay_) * theta_[j];
    m_[j] = static_cast<T>(0.9) * m_[j] + static_cast<T>(0.1) * g;
    v_[j] = static_cast<T>(0.999) * v_[j] + static_cast<T>(0.001) * g * g;
    theta_[j] -=
        static_cast<T>(lr_) * (m_[j] / bc1) / (std::sqrt(v_[j] / bc2) + static_cast<T>(1e-8));
  }
}
ONESTONE_EXTERN_CLASS(WEIGHTING, GradNorm)

}  // namespace weighting
}  // namespace onestone
