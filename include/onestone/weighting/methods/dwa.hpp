#pragma once
/// @file dwa.hpp
/// `DWA<T>`: dynamic weight average (Liu, Johns & Davison, CVPR 2019).

#include <cmath>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Dynamic weight average: with L̄ᵢ(k) the mean loss of task i over epoch k,
///   rᵢ = L̄ᵢ(k−1) / L̄ᵢ(k−2),   wᵢ = T · exp(rᵢ/τ) / Σⱼ exp(rⱼ/τ)   (τ = 2),
/// and wᵢ = 1 for the first two epochs. The method averages the losses it sees; call
/// `MultiTaskModel::end_epoch()` (or `end_epoch()`) at the end of every epoch.
///
/// Example: `model.set_balancer(std::make_shared<DWA<float>>(2.0));`
template <typename T>
class DWA : public Balancer<T> {
 public:
  explicit DWA(double temperature = 2.0) : tau_(temperature) {
    if (!(temperature > 0)) throw std::invalid_argument("DWA: temperature must be positive");
  }
  std::string name() const override { return "dwa"; }
  void reset(int n) override {
    Balancer<T>::reset(n);
    sum_ = Vector<T>::Zero(n);
    prev1_ = prev2_ = Vector<T>::Zero(n);
    count_ = 0;
    epochs_ = 0;
  }
  void end_epoch() override {
    if (count_ == 0) return;
    prev2_ = prev1_;
    prev1_ = sum_ / static_cast<T>(count_);
    sum_.setZero();
    count_ = 0;
    ++epochs_;
    if (epochs_ >= 2) {
      const Eigen::Index n = prev1_.size();
      Vector<T> r = prev1_.cwiseQuotient(prev2_.cwiseMax(T(1e-12)));
      Vector<T> e =
          (r.array() / static_cast<T>(tau_) - (r.array() / static_cast<T>(tau_)).maxCoeff())
              .exp()
              .matrix();
      this->weights_ = e * (static_cast<T>(n) / e.sum());
    }
  }

 protected:
  void update_weights(const Vector<T>& losses) override {
    sum_ += losses;
    ++count_;
  }

 private:
  double tau_;
  Vector<T> sum_, prev1_, prev2_;
  long count_ = 0;
  long epochs_ = 0;
};

}  // namespace weighting
}  // namespace onestone
