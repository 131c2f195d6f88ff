#pragma once
/// @file auto_lambda.hpp
/// `AutoLambda<T>`: task weights learned by a one-step look-ahead (Liu, Johns & Davison,
/// TMLR 2022).

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/nn/parameter.hpp"
#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Auto-Lambda: the weights λ of L = Σᵢ λᵢLᵢ are meta-parameters, learned so that a step on the
/// training loss lowers the loss of the primary tasks on a second batch ("meta batch", another
/// shuffle of the training data, as the authors' code). With θ' = θ − α Σⱼ λⱼ∇Lⱼ(θ) (α the
/// optimizer's learning rate),
///     ∂L^val(θ')/∂λᵢ = −α ∇Lᵢ(θ)·∇L^val(θ'),
/// exact here because the training step computes every task's gradient of all parameters
/// (the paper approximates this product by finite differences). The training step computes the
/// meta-gradient and calls `meta_step`, one Adam step on λ; then the update uses the new λ.
/// λ starts at 0.1 and is unconstrained (as the authors); meta learning rate 1e-4; primary tasks
/// all (multi-task) or a subset (auxiliary learning: the others help only).
template <typename T>
class AutoLambda : public LossWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit AutoLambda(double init = 0.1, double lr = 1e-4, std::vector<int> primary = {})
      : init_(init), lr_(lr), primary_(std::move(primary)) {
    if (!(lr > 0) || !std::isfinite(init))
      throw std::invalid_argument("AutoLambda: needs lr > 0 and a finite init");
  }
  std::string name() const override { return "auto_lambda"; }
  void reset(int n) override;
  /// True: the training step must provide a meta batch and call meta_step.
  bool wants_meta_step() const { return true; }
  /// Whether task t counts in the meta objective.
  bool is_primary(int t) const;
  /// One Adam step (β = 0.9, 0.999) on λ along `meta_grad` (one entry per task of `info`).
  void meta_step(const Vector<T>& meta_grad, const StepInfo<T>& info);
  const Vector<T>& lambda() const { return lambda_; }

  /// The step's backward: every present task's gradient gᵢ of all trained parameters, the
  /// look-ahead θ' = θ − α(Σ λᵢgᵢ + the regularizer's gradient), the primary tasks' loss on the
  /// meta batch at θ', its gradient v, the meta-gradient −α gᵢ·v, one step on λ (`meta_step`);
  /// θ restored and its gradient set to Σ λᵢgᵢ (+ the regularizer's) with the new λ.
  void backward(StepContext<T>& ctx) override;

  void get_extra_state(nn::ExtraState& s) const override;
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void update_weights(const Vector<T>& losses, const StepInfo<T>& info, Vector<T>& w) override {
    (void)losses;
    this->gather(lambda_, info, w);
  }

 private:
  // The parameters' gradients, concatenated, into out.
  static void gather_grads(const std::vector<nn::Parameter<T>*>& params, T* out);

  double init_, lr_;
  std::vector<int> primary_;
  Vector<T> lambda_, m_, v_;
  std::int64_t meta_steps_ = 0;
  // Workspace of backward (not state).
  std::vector<int> ids_;
  Jacobian<T> Jall_;
  Vector<T> lam_, theta_, step_, v_meta_, meta_grad_, reg_grad_, saved_;
};

template <typename T>
void AutoLambda<T>::reset(int n) {
  LossWeighting<T>::reset(n);
  lambda_ = Vector<T>::Constant(n, static_cast<T>(init_));
  m_ = v_ = Vector<T>::Zero(n);
  meta_steps_ = 0;
  for (int p : primary_)
    if (p < 0 || p >= n)
      throw std::invalid_argument("AutoLambda: primary task " + std::to_string(p) +
                                  " outside the " + std::to_string(n) + " tasks");
}

template <typename T>
bool AutoLambda<T>::is_primary(int t) const {
  if (primary_.empty()) return true;
  for (int p : primary_)
    if (p == t) return true;
  return false;
}

template <typename T>
void AutoLambda<T>::meta_step(const Vector<T>& meta_grad, const StepInfo<T>& info) {
  ++meta_steps_;
  const double bc1 = 1.0 - std::pow(0.9, static_cast<double>(meta_steps_));
  const double bc2 = 1.0 - std::pow(0.999, static_cast<double>(meta_steps_));
  for (Eigen::Index r = 0; r < info.rows; ++r) {
    const int t = info.task(r);
    const T g = meta_grad[r];
    m_[t] = static_cast<T>(0.9) * m_[t] + static_cast<T>(0.1) * g;
    v_[t] = static_cast<T>(0.999) * v_[t] + static_cast<T>(0.001) * g * g;
    lambda_[t] -= static_cast<T>(lr_) * (m_[t] / static_cast<T>(bc1)) /
                  (std::sqrt(v_[t] / static_cast<T>(bc2)) + static_cast<T>(1e-8));
  }
}

template <typename T>
void AutoLambda<T>::backward(StepContext<T>& ctx) {
  const std::vector<nn::Parameter<T>*>& params = ctx.trained_parameters();
  const std::vector<Var<T>>& losses = ctx.losses();
  ids_ = ctx.tasks();
  const Eigen::Index m = static_cast<Eigen::Index>(losses.size());
  Index P = 0;
  for (auto* p : params) P += p->numel();
  Jall_.resize(m, P);
  saved_.resize(P);
  gather_grads(params, saved_.data());  // kept: gradient accumulation over batches
  for (Eigen::Index r = 0; r < m; ++r) {
    for (auto* p : params) p->zero_grad();
    losses[static_cast<std::size_t>(r)].backward();
    gather_grads(params, Jall_.data() + r * P);  // row-major: row r is contiguous
  }
  reg_grad_.setZero(P);
  const Var<T> reg = ctx.regularizer();
  if (reg.defined() && reg.requires_grad()) {
    for (auto* p : params) p->zero_grad();
    reg.backward();
    gather_grads(params, reg_grad_.data());
  }
  StepInfo<T> info;
  info.rows = m;
  info.tasks = ids_.data();
  lam_.resize(m);
  for (Eigen::Index r = 0; r < m; ++r) lam_[r] = lambda_[ids_[static_cast<std::size_t>(r)]];
  const T lr = static_cast<T>(ctx.learning_rate());
  theta_.resize(P);
  step_.noalias() = Jall_.transpose() * lam_;
  step_ += reg_grad_;
  Index off = 0;
  for (auto* p : params) {
    Eigen::Map<Vector<T>> w(p->value().data(), p->numel());
    theta_.segment(off, p->numel()) = w;
    w -= lr * step_.segment(off, p->numel());
    off += p->numel();
  }
  ctx.forward_meta_batch();
  Var<T> val;
  for (std::size_t k = 0; k < ctx.tasks().size(); ++k)
    if (is_primary(ctx.tasks()[k])) val = val.defined() ? val + ctx.losses()[k] : ctx.losses()[k];
  v_meta_.setZero(P);
  if (val.defined()) {
    for (auto* p : params) p->zero_grad();
    val.backward();
    gather_grads(params, v_meta_.data());
  }
  off = 0;
  for (auto* p : params) {
    Eigen::Map<Vector<T>>(p->value().data(), p->numel()) = theta_.segment(off, p->numel());
    off += p->numel();
  }
  meta_grad_.noalias() = Jall_ * v_meta_;
  meta_grad_ *= -lr;
  meta_step(meta_grad_, info);
  for (Eigen::Index r = 0; r < m; ++r) lam_[r] = lambda_[ids_[static_cast<std::size_t>(r)]];
  step_.noalias() = Jall_.transpose() * lam_;
  step_ += reg_grad_;
  off = 0;
  for (auto* p : params) {
    Eigen::Map<Vector<T>>(p->grad().data(), p->numel()) =
        saved_.segment(off, p->numel()) + step_.segment(off, p->numel());
    off += p->numel();
  }
}

template <typename T>
void AutoLambda<T>::get_extra_state(nn::ExtraState& s) const {
  LossWeighting<T>::get_extra_state(s);
  s.put("lambda", lambda_);
  s.put("adam_m", m_);
  s.put("adam_v", v_);
  s.put("meta_steps", meta_steps_);
}

template <typename T>
void AutoLambda<T>::set_extra_state(const nn::ExtraState& s) {
  Vector<T> l, m, v;
  s.get("lambda", l, this->num_tasks_);
  s.get("adam_m", m, this->num_tasks_);
  s.get("adam_v", v, this->num_tasks_);
  const std::int64_t st = s.get_int("meta_steps", 0, std::numeric_limits<std::int64_t>::max());
  LossWeighting<T>::set_extra_state(s);
  lambda_ = std::move(l);
  m_ = std::move(m);
  v_ = std::move(v);
  meta_steps_ = st;
}

template <typename T>
void AutoLambda<T>::gather_grads(const std::vector<nn::Parameter<T>*>& params, T* out) {
  for (auto* p : params) {
    const T* g = p->grad().data();
    std::copy(g, g + p->numel(), out);
    out += p->numel();
  }
}
ONESTONE_EXTERN_CLASS(WEIGHTING, AutoLambda)

}  // namespace weighting
}  // namespace onestone
