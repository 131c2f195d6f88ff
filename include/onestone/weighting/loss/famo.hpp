#pragma once
/// @file famo.hpp
/// `FAMO<T>`: fast adaptive multitask optimization (Liu et al., NeurIPS 2023).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// FAMO balances the rate at which every loss decreases, at O(1) cost per step (no per-task
/// gradients). It keeps logits ξ (weights z = softmax(ξ)) and uses the gradient of
/// Σᵢ zᵢ log Lᵢ, normalised by c = Σᵢ zᵢ/Lᵢ: a loss weighting with wᵢ = zᵢ / (c·Lᵢ).
/// After the optimizer step it needs the losses on the same batch, L′; with δᵢ = log Lᵢ − log L′ᵢ
/// it takes one Adam step (learning rate `w_lr`, L2 decay `gamma`) on ξ along ∂(zᵀδ)/∂ξ,
/// shifting weight towards the tasks that improved least. The training step runs the extra
/// no-grad forward for it. Defaults follow the paper's code: w_lr = 0.025, gamma = 0.01
/// (LibMTL: gamma 1e-3). With tasks absent from a step, softmax and update run over the
/// present tasks' logits; the others keep theirs and their Adam moments.
///
/// Example: `model.set_balancer(std::make_shared<FAMO<float>>());`
template <typename T>
class FAMO : public LossWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit FAMO(double w_lr = 0.025, double gamma = 0.01, double eps = 1e-8)
      : w_lr_(w_lr), gamma_(gamma), eps_(eps) {
    if (!(w_lr > 0) || !(gamma >= 0) || !(eps >= 0))
      throw std::invalid_argument("FAMO: needs w_lr > 0, gamma >= 0 and eps >= 0");
  }
  std::string name() const override { return "famo"; }
  void reset(int n) override {
    LossWeighting<T>::reset(n);
    xi_ = m_ = v_ = prev_ = Vector<T>::Zero(n);
    adam_steps_ = Vector<T>::Zero(n);
  }
  bool wants_loss_after_step() const override { return true; }
  using LossWeighting<T>::after_step;
  void after_step(const Vector<T>& new_losses, const StepInfo<T>& info) override;
  const Vector<T>& logits() const { return xi_; }
  void get_extra_state(nn::ExtraState& s) const override;
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void update_weights(const Vector<T>& losses, const StepInfo<T>& info, Vector<T>& w) override;

 private:
  static void softmax(const Vector<T>& x, Vector<T>& z) {
    z = (x.array() - x.maxCoeff()).exp().matrix();
    z /= z.sum();
  }
  double w_lr_, gamma_, eps_;
  Vector<T> xi_, m_, v_, adam_steps_, prev_;
  Vector<T> sub_xi_, z_, delta_;  // scratch
};

template <typename T>
void FAMO<T>::after_step(const Vector<T>& new_losses, const StepInfo<T>& info) {
  const Eigen::Index m = info.rows;
  if (new_losses.size() != m)
    throw std::invalid_argument("FAMO::after_step: " + std::to_string(new_losses.size()) +
                                " losses for " + std::to_string(m) + " tasks");
  this->gather(xi_, info, sub_xi_);
  softmax(sub_xi_, z_);
  delta_.resize(m);
  for (Eigen::Index r = 0; r < m; ++r)
    delta_[r] = std::log(prev_[info.task(r)] + static_cast<T>(eps_)) -
                std::log(new_losses[r] + static_cast<T>(eps_));
  // ∂(zᵀδ)/∂ξ = z ∘ (δ − zᵀδ), plus L2 decay; then one Adam step (β = 0.9, 0.999) per task.
  const T zd = z_.dot(delta_);
  for (Eigen::Index r = 0; r < m; ++r) {
    const int t = info.task(r);
    const T g = z_[r] * (delta_[r] - zd) + static_cast<T>(gamma_) * xi_[t];
    adam_steps_[t] += T(1);
    m_[t] = static_cast<T>(0.9) * m_[t] + static_cast<T>(0.1) * g;
    v_[t] = static_cast<T>(0.999) * v_[t] + static_cast<T>(0.001) * g * g;
    const T bc1 = static_cast<T>(1.0 - std::pow(0.9, static_cast<double>(adam_steps_[t])));
    const T bc2 = static_cast<T>(1.0 - std::pow(0.999, static_cast<double>(adam_steps_[t])));
    xi_[t] -= static_cast<T>(w_lr_) * (m_[t] / bc1) / (std::sqrt(v_[t] / bc2) + T(1e-8));
  }
}

template <typename T>
void FAMO<T>::get_extra_state(nn::ExtraState& s) const {
  LossWeighting<T>::get_extra_state(s);
  s.put("logits", xi_);
  s.put("adam_m", m_);
  s.put("adam_v", v_);
  s.put("adam_steps", adam_steps_);
  s.put("prev_losses", prev_);
}

template <typename T>
void FAMO<T>::set_extra_state(const nn::ExtraState& s) {
  const Eigen::Index n = this->num_tasks_;
  Vector<T> xi, m, v, st, prev;
  s.get("logits", xi, n);
  s.get("adam_m", m, n);
  s.get("adam_v", v, n);
  s.get("adam_steps", st, n);
  s.get("prev_losses", prev, n);
  LossWeighting<T>::set_extra_state(s);
  xi_ = std::move(xi);
  m_ = std::move(m);
  v_ = std::move(v);
  adam_steps_ = std::move(st);
  prev_ = std::move(prev);
}

template <typename T>
void FAMO<T>::update_weights(const Vector<T>& losses, const StepInfo<T>& info, Vector<T>& w) {
  this->scatter(losses, info, prev_);
  this->gather(xi_, info, sub_xi_);
  softmax(sub_xi_, z_);
  const Eigen::Index m = losses.size();
  T c = 0;
  for (Eigen::Index r = 0; r < m; ++r) c += z_[r] / (losses[r] + static_cast<T>(eps_));
  w.resize(m);
  for (Eigen::Index r = 0; r < m; ++r) w[r] = z_[r] / (c * (losses[r] + static_cast<T>(eps_)));
}
ONESTONE_EXTERN_CLASS(WEIGHTING, FAMO)

}  // namespace weighting
}  // namespace onestone
