#pragma once
/// @file static_weights.hpp
/// `EqualWeights<T>` (L = Σᵢ Lᵢ) and `StaticWeights<T>` (L = Σᵢ λᵢLᵢ with fixed λ).

#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Equal weighting (EW): L = Σᵢ Lᵢ over the present tasks, the baseline every method is
/// compared with. Registry name "equal".
///
/// Example: `model.set_balancer(std::make_shared<EqualWeights<float>>());`
template <typename T>
class EqualWeights : public LossWeighting<T> {
 public:
  std::string name() const override { return "equal"; }
};
ONESTONE_EXTERN_CLASS(WEIGHTING, EqualWeights)

/// Fixed task weights: L = Σᵢ λᵢLᵢ over the present tasks. Registry name "static" with the
/// option `weights` ("1;0.5;2").
///
/// Example: `model.set_balancer(std::make_shared<StaticWeights<float>>(std::vector<double>{1,
/// 0.5}));`
template <typename T>
class StaticWeights : public LossWeighting<T> {
 public:
  bool keeps_task_state() const override { return !given_.empty(); }
  explicit StaticWeights(std::vector<double> w = {}) : given_(std::move(w)) {
    for (double v : given_)
      if (!(v >= 0) || !std::isfinite(v))
        throw std::invalid_argument("StaticWeights: weights must be finite and >= 0");
  }
  std::string name() const override { return "static"; }
  void reset(int n) override;

 protected:
  void update_weights(const Vector<T>& losses, const StepInfo<T>& info, Vector<T>& w) override {
    w.resize(losses.size());
    for (Eigen::Index r = 0; r < losses.size(); ++r)
      w[r] = given_.empty() ? T(1) : static_cast<T>(given_[static_cast<std::size_t>(info.task(r))]);
  }

 private:
  std::vector<double> given_;
};

template <typename T>
void StaticWeights<T>::reset(int n) {
  LossWeighting<T>::reset(n);
  if (!given_.empty() && static_cast<int>(given_.size()) != n)
    throw std::invalid_argument("StaticWeights: " + std::to_string(given_.size()) +
                                " weights for " + std::to_string(n) + " tasks");
}
ONESTONE_EXTERN_CLASS(WEIGHTING, StaticWeights)

}  // namespace weighting
}  // namespace onestone
