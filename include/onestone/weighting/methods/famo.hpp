#pragma once
/// @file famo.hpp
/// `FAMO<T>`: fast adaptive multitask optimization (Liu et al., NeurIPS 2023).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// FAMO balances the rate at which every loss decreases, at O(1) cost per step (no per-task
/// gradients). It keeps logits ξ (weights z = softmax(ξ)) and uses the gradient of
/// Σᵢ zᵢ log Lᵢ, normalised by c = Σᵢ zᵢ/Lᵢ: a loss weighting with wᵢ = zᵢ / (c·Lᵢ).
/// After the optimizer step it needs the losses on the same batch, L′; with δᵢ = log Lᵢ − log L′ᵢ
/// it takes one Adam step (learning rate `w_lr`, L2 decay `gamma`) on ξ along ∂(zᵀδ)/∂ξ,
/// shifting weight towards the tasks that improved least. `MultiTaskModel` runs the extra
/// no-grad forward for it. Defaults follow the paper's code: w_lr = 0.025, gamma = 0.01.
///
/// Example: `model.set_balancer(std::make_shared<FAMO<float>>());`
template <typename T>
class FAMO : public Balancer<T> {
 public:
  explicit FAMO(double w_lr = 0.025, double gamma = 0.01, double eps = 1e-8)
      : w_lr_(w_lr), gamma_(gamma), eps_(eps) {}
  std::string name() const override { return "famo"; }
  void reset(int n) override {
    Balancer<T>::reset(n);
    xi_ = Vector<T>::Zero(n);
    m_ = v_ = prev_ = Vector<T>::Zero(n);
    steps_ = 0;
  }
  bool wants_loss_after_step() const override { return true; }
  void after_step(const Vector<T>& new_losses) override {
    const Eigen::Index n = xi_.size();
    const Vector<T>& z = softmax_xi();
    delta_.resize(n);
    for (Eigen::Index i = 0; i < n; ++i)
      delta_[i] = std::log(prev_[i] + static_cast<T>(eps_)) -
                  std::log(new_losses[i] + static_cast<T>(eps_));
    // ∂(zᵀδ)/∂ξ = z ∘ (δ − zᵀδ), plus L2 decay; then one Adam step (β = 0.9, 0.999).
    grad_ = (z.array() * (delta_.array() - z.dot(delta_))).matrix() + static_cast<T>(gamma_) * xi_;
    ++steps_;
    m_ = T(0.9) * m_ + T(0.1) * grad_;
    v_ = T(0.999) * v_ + T(0.001) * grad_.cwiseProduct(grad_);
    const T bc1 = T(1) - std::pow(T(0.9), static_cast<T>(steps_));
    const T bc2 = T(1) - std::pow(T(0.999), static_cast<T>(steps_));
    xi_.array() -=
        static_cast<T>(w_lr_) * (m_.array() / bc1) / ((v_.array() / bc2).sqrt() + T(1e-8));
  }
  const Vector<T>& logits() const { return xi_; }

  /// Saves the weights, the logits ξ, their Adam moments and step count, and the losses of the
  /// current step (needed by `after_step`).
  void get_extra_state(nn::ExtraState& s) const override {
    Balancer<T>::get_extra_state(s);
    s.put("logits", xi_);
    s.put("adam_m", m_);
    s.put("adam_v", v_);
    s.put("prev_losses", prev_);
    s.put("steps", static_cast<std::int64_t>(steps_));
  }
  /// Restores what `get_extra_state` saved, all or nothing.
  void set_extra_state(const nn::ExtraState& s) override {
    const Eigen::Index n = this->num_tasks_;
    Vector<T> w = this->read_weights(s), xi, m, v, prev;
    s.get("logits", xi, n);
    s.get("adam_m", m, n);
    s.get("adam_v", v, n);
    s.get("prev_losses", prev, n);
    const std::int64_t steps = s.get_int("steps", 0, std::numeric_limits<long>::max());
    this->weights_ = std::move(w);
    xi_ = std::move(xi);
    m_ = std::move(m);
    v_ = std::move(v);
    prev_ = std::move(prev);
    steps_ = static_cast<long>(steps);
  }

 protected:
  void update_weights(const Vector<T>& losses) override {
    prev_ = losses;
    const Vector<T>& z = softmax_xi();
    const Eigen::Index n = losses.size();
    T c = 0;
    for (Eigen::Index i = 0; i < n; ++i) c += z[i] / (losses[i] + static_cast<T>(eps_));
    for (Eigen::Index i = 0; i < n; ++i)
      this->weights_[i] = z[i] / (c * (losses[i] + static_cast<T>(eps_)));
  }

 private:
  // z = softmax(ξ), in the scratch vector z_.
  const Vector<T>& softmax_xi() {
    z_ = (xi_.array() - xi_.maxCoeff()).exp().matrix();
    const T sum = z_.sum();
    z_ /= sum;
    return z_;
  }
  double w_lr_, gamma_, eps_;
  Vector<T> xi_, m_, v_, prev_;
  Vector<T> z_, delta_, grad_;  // scratch: softmax(ξ), δ and the gradient on ξ
  long steps_ = 0;
};

}  // namespace weighting
}  // namespace onestone
