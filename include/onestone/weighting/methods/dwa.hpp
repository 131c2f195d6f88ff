#pragma once
/// @file dwa.hpp
/// `DWA<T>`: dynamic weight average (Liu, Johns & Davison, CVPR 2019).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

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

  /// Saves the weights, the running loss sum of this epoch, the mean losses of the last two
  /// epochs and the counters.
  void get_extra_state(nn::ExtraState& s) const override {
    Balancer<T>::get_extra_state(s);
    s.put("sum", sum_);
    s.put("prev1", prev1_);
    s.put("prev2", prev2_);
    s.put("count", static_cast<std::int64_t>(count_));
    s.put("epochs", static_cast<std::int64_t>(epochs_));
  }
  /// Restores what `get_extra_state` saved, all or nothing.
  void set_extra_state(const nn::ExtraState& s) override {
    const Eigen::Index n = this->num_tasks_;
    Vector<T> w = this->read_weights(s), sum, p1, p2;
    s.get("sum", sum, n);
    s.get("prev1", p1, n);
    s.get("prev2", p2, n);
    const std::int64_t count = s.get_int("count", 0, std::numeric_limits<long>::max());
    const std::int64_t epochs = s.get_int("epochs", 0, std::numeric_limits<long>::max());
    this->weights_ = std::move(w);
    sum_ = std::move(sum);
    prev1_ = std::move(p1);
    prev2_ = std::move(p2);
    count_ = static_cast<long>(count);
    epochs_ = static_cast<long>(epochs);
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
