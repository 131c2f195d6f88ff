#pragma once
/// @file gls.hpp
/// `GLS<T>`: geometric loss strategy (Chennupati et al., CVPR Workshops 2019).

#include <string>
#include <vector>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Geometric loss strategy: L = (Πᵢ Lᵢ)^{1/m}, the geometric mean of the m present tasks'
/// losses (which must be positive). Its gradient weighs task i by L/(m·Lᵢ), reported by
/// weights().
///
/// Example: `model.set_balancer(std::make_shared<GLS<float>>());`
template <typename T>
class GLS : public LossWeighting<T> {
 public:
  std::string name() const override { return "gls"; }
  using LossWeighting<T>::combine_losses;
  Var<T> combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) override;
};

template <typename T>
Var<T> GLS<T>::combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) {
  this->prepare(losses, tasks);
  Var<T> sum_log;
  for (const auto& l : losses) {
    if (!(l.item() > T(0)))
      throw std::invalid_argument("GLS: needs positive losses, got " + std::to_string(l.item()));
    Var<T> lg = log(l);
    sum_log = sum_log.defined() ? sum_log + lg : lg;
  }
  const T m = static_cast<T>(losses.size());
  Var<T> total = exp(sum_log * (T(1) / m));
  this->w_.resize(static_cast<Eigen::Index>(losses.size()));
  for (std::size_t k = 0; k < losses.size(); ++k)
    this->w_[static_cast<Eigen::Index>(k)] = total.item() / (m * losses[k].item());
  this->scatter_weights(this->w_, this->info_);
  ++this->steps_;
  return total;
}
ONESTONE_EXTERN_CLASS(WEIGHTING, GLS)

}  // namespace weighting
}  // namespace onestone
