#pragma once
/// @file gradnorm.hpp
/// `GradNorm<T>` (Chen et al., ICML 2018).

#include <cmath>

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
    Vector<T> norms = J.rowwise().norm();
    Vector<T> G = this->weights_.cwiseProduct(norms);
    const T Gbar = G.mean();
    Vector<T> ratio = losses.cwiseQuotient(initial_);
    ratio /= ratio.mean();
    for (Eigen::Index i = 0; i < n; ++i) {
      const T target = Gbar * std::pow(ratio[i], static_cast<T>(alpha_));
      const T grad = (G[i] > target ? T(1) : (G[i] < target ? T(-1) : T(0))) * norms[i];
      this->weights_[i] = std::max(T(1e-4), this->weights_[i] - static_cast<T>(lr_) * grad);
    }
    this->weights_ *= static_cast<T>(n) / this->weights_.sum();
  }

 private:
  double alpha_, lr_;
  Vector<T> initial_;
};

}  // namespace weighting
}  // namespace onestone
