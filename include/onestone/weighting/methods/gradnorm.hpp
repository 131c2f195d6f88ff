#pragma once
/// @file gradnorm.hpp
/// `GradNorm<T>` (Chen et al., ICML 2018).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// GradNorm: task weights wᵢ (starting at 1, kept summing to T) are tuned so that the weighted
/// gradient norms Gᵢ = wᵢ‖gᵢ‖ approach Ḡ·rᵢ^α, where rᵢ = (Lᵢ/Lᵢ(0)) / meanⱼ(Lⱼ/Lⱼ(0)) is task
/// i's relative inverse training rate and Ḡ the mean of the Gᵢ. Each step returns d = Σᵢ wᵢgᵢ
/// and then moves w along −∂/∂w Σᵢ |Gᵢ − Ḡrᵢ^α| (target held constant, as in the paper) with
/// step `lr`, clamps at a small positive value and renormalises. gᵢ are the gradients of the
/// shared representation (or of the shared parameters in parameter mode; the paper uses the
/// last shared layer's weights). Defaults: α = 1.5, lr = 0.025.
///
/// Example: `model.set_balancer(std::make_shared<GradNorm<float>>(1.5));`
template <typename T>
class GradNorm : public Balancer<T> {
 public:
  explicit GradNorm(double alpha = 1.5, double lr = 0.025) : alpha_(alpha), lr_(lr) {}
  std::string name() const override { return "gradnorm"; }
  bool needs_gradients() const override { return true; }
  void reset(int n) override {
    Balancer<T>::reset(n);
    initial_.resize(0);
  }
  void combine_gradients(const Jacobian<T>& J, const Vector<T>& losses, Vector<T>& d) override {
    const Eigen::Index n = J.rows();
    if (initial_.size() != n) initial_ = losses.cwiseMax(T(1e-12));
    d.noalias() = J.transpose() * this->weights_;
    norms_ = J.rowwise().norm();
    weighted_ = this->weights_.cwiseProduct(norms_);
    const T Gbar = weighted_.mean();
    ratio_ = losses.cwiseQuotient(initial_);
    ratio_ /= ratio_.mean();
    for (Eigen::Index i = 0; i < n; ++i) {
      const T target = Gbar * std::pow(ratio_[i], static_cast<T>(alpha_));
      const T Gi = weighted_[i];
      const T grad = (Gi > target ? T(1) : (Gi < target ? T(-1) : T(0))) * norms_[i];
      this->weights_[i] = std::max(T(1e-4), this->weights_[i] - static_cast<T>(lr_) * grad);
    }
    this->weights_ *= static_cast<T>(n) / this->weights_.sum();
  }

  /// Saves the weights and the losses of the first step (empty before it).
  void get_extra_state(nn::ExtraState& s) const override {
    Balancer<T>::get_extra_state(s);
    s.put("initial_losses", initial_);
  }
  /// Restores what `get_extra_state` saved, all or nothing.
  void set_extra_state(const nn::ExtraState& s) override {
    Vector<T> w = this->read_weights(s), initial;
    s.get("initial_losses", initial);
    if (initial.size() != 0 && initial.size() != this->num_tasks_)
      throw std::runtime_error("GradNorm: extra state 'initial_losses' of '" + s.owner() +
                               "' has " + std::to_string(initial.size()) + " values for " +
                               std::to_string(this->num_tasks_) + " tasks");
    this->weights_ = std::move(w);
    initial_ = std::move(initial);
  }

 private:
  double alpha_, lr_;
  Vector<T> initial_;
  Vector<T> norms_, weighted_, ratio_;  // scratch: ‖gᵢ‖, Gᵢ = wᵢ‖gᵢ‖ and rᵢ
};

}  // namespace weighting
}  // namespace onestone
