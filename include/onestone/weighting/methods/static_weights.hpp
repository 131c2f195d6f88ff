#pragma once
/// @file static_weights.hpp
/// `StaticWeights<T>` and `EqualWeights<T>`: fixed task weights.

#include <vector>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Fixed weights: L = Σᵢ λᵢLᵢ with λ given once (missing weights count as 1).
///
/// Example: `std::make_shared<StaticWeights<float>>(std::vector<double>{1.0, 0.5})`
template <typename T>
class StaticWeights : public Balancer<T> {
 public:
  explicit StaticWeights(std::vector<double> w = {}) : given_(std::move(w)) {}
  std::string name() const override { return "static"; }
  void reset(int n) override {
    Balancer<T>::reset(n);
    if (!given_.empty() && static_cast<int>(given_.size()) != n)
      throw std::invalid_argument("StaticWeights: " + std::to_string(given_.size()) +
                                  " weights for " + std::to_string(n) + " tasks");
    for (int i = 0; i < n && !given_.empty(); ++i)
      this->weights_[i] = static_cast<T>(given_[static_cast<std::size_t>(i)]);
  }

 private:
  std::vector<double> given_;
};

/// Equal weighting (EW): L = Σᵢ Lᵢ, the baseline every method is compared with.
/// Example: `model.set_balancer(std::make_shared<EqualWeights<float>>());`
template <typename T>
class EqualWeights : public Balancer<T> {
 public:
  std::string name() const override { return "equal"; }
};

}  // namespace weighting
}  // namespace onestone
