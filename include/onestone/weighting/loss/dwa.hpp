#pragma once
/// @file dwa.hpp
/// `DWA<T>`: dynamic weight average (Liu, Johns & Davison, CVPR 2019).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Dynamic weight average: with L̄ᵢ(k) the mean loss of task i over epoch k,
///   rᵢ = L̄ᵢ(k−1) / L̄ᵢ(k−2),   wᵢ = T · exp(rᵢ/τ) / Σⱼ exp(rⱼ/τ)   (τ = 2),
/// and wᵢ = 1 for the first two epochs. Each task's mean is over the steps where it was present
/// (a task absent for a whole epoch keeps its previous mean); a step uses the weights of its
/// present tasks. Call `end_epoch()` (the Trainer does) at the end of every epoch.
///
/// Example: `model.set_balancer(std::make_shared<DWA<float>>(2.0));`
template <typename T>
class DWA : public LossWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit DWA(double temperature = 2.0) : tau_(temperature) {
    if (!(temperature > 0)) throw std::invalid_argument("DWA: temperature must be positive");
  }
  std::string name() const override { return "dwa"; }
  double temperature() const { return tau_; }
  void reset(int n) override;
  void end_epoch() override;
  void get_extra_state(nn::ExtraState& s) const override;
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void update_weights(const Vector<T>& losses, const StepInfo<T>& info, Vector<T>& w) override;

 private:
  double tau_;
  Vector<T> sum_, count_, prev1_, prev2_, epoch_w_;
  std::int64_t epochs_ = 0;
};

template <typename T>
void DWA<T>::reset(int n) {
  LossWeighting<T>::reset(n);
  sum_ = count_ = prev1_ = prev2_ = Vector<T>::Zero(n);
  epoch_w_ = Vector<T>::Ones(n);
  epochs_ = 0;
}

template <typename T>
void DWA<T>::end_epoch() {
  bool any = false;
  for (Eigen::Index i = 0; i < sum_.size(); ++i) any = any || count_[i] > 0;
  if (!any) return;
  prev2_ = prev1_;
  for (Eigen::Index i = 0; i < sum_.size(); ++i)
    if (count_[i] > 0) prev1_[i] = sum_[i] / count_[i];
  sum_.setZero();
  count_.setZero();
  ++epochs_;
  if (epochs_ >= 2) {
    const Eigen::Index n = prev1_.size();
    Vector<T> r = prev1_.cwiseQuotient(prev2_.cwiseMax(T(1e-12)));
    const T t = static_cast<T>(tau_);
    Vector<T> e = (r.array() / t - (r.array() / t).maxCoeff()).exp().matrix();
    epoch_w_ = e * (static_cast<T>(n) / e.sum());
  }
}

template <typename T>
void DWA<T>::get_extra_state(nn::ExtraState& s) const {
  LossWeighting<T>::get_extra_state(s);
  s.put("sum", sum_);
  s.put("count", count_);
  s.put("prev1", prev1_);
  s.put("prev2", prev2_);
  s.put("epoch_weights", epoch_w_);
  s.put("epochs", epochs_);
}

template <typename T>
void DWA<T>::set_extra_state(const nn::ExtraState& s) {
  const Eigen::Index n = this->num_tasks_;
  Vector<T> sum, count, p1, p2, ew;
  s.get("sum", sum, n);
  s.get("count", count, n);
  s.get("prev1", p1, n);
  s.get("prev2", p2, n);
  s.get("epoch_weights", ew, n);
  const std::int64_t epochs = s.get_int("epochs", 0, std::numeric_limits<std::int64_t>::max());
  LossWeighting<T>::set_extra_state(s);
  sum_ = std::move(sum);
  count_ = std::move(count);
  prev1_ = std::move(p1);
  prev2_ = std::move(p2);
  epoch_w_ = std::move(ew);
  epochs_ = epochs;
}

template <typename T>
void DWA<T>::update_weights(const Vector<T>& losses, const StepInfo<T>& info, Vector<T>& w) {
  w.resize(losses.size());
  for (Eigen::Index r = 0; r < losses.size(); ++r) {
    const int t = info.task(r);
    sum_[t] += losses[r];
    count_[t] += T(1);
    w[r] = epoch_w_[t];
  }
}
ONESTONE_EXTERN_CLASS(WEIGHTING, DWA)

}  // namespace weighting
}  // namespace onestone
