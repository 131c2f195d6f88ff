#pragma once
/// @file gls.hpp
/// `GLS<T>`: geometric loss strategy (Chennupati et al., CVPR Workshops 2019).

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Geometric loss strategy: L = (Πᵢ Lᵢ)^{1/T}, computed as exp(mean(log Lᵢ)). Its gradient
/// weights task i by L / (T·Lᵢ), so tasks with small losses are not drowned out. Losses must be
/// positive. weights() reports L / (T·Lᵢ).
///
/// Example: `model.set_balancer(std::make_shared<GLS<float>>());`
template <typename T>
class GLS : public Balancer<T> {
 public:
  std::string name() const override { return "gls"; }
  Var<T> combine_losses(const std::vector<Var<T>>& losses) override {
    Var<T> sum_log;
    for (const auto& l : losses) {
      if (!(l.item() > T(0)))
        throw std::invalid_argument("GLS: needs positive losses, got " + std::to_string(l.item()));
      Var<T> lg = log(l);
      sum_log = sum_log.defined() ? sum_log + lg : lg;
    }
    Var<T> total = exp(sum_log * (T(1) / static_cast<T>(losses.size())));
    for (std::size_t i = 0; i < losses.size(); ++i)
      this->weights_[static_cast<Eigen::Index>(i)] =
          total.item() / (static_cast<T>(losses.size()) * losses[i].item());
    return total;
  }
};

}  // namespace weighting
}  // namespace onestone
