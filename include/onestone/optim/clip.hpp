#pragma once
/// @file clip.hpp
/// Gradient clipping by global norm.

#include <cmath>
#include <vector>

#include "onestone/nn/parameter.hpp"

namespace onestone {
namespace optim {

/// Rescales the gradients of `params` so that their global L2 norm is at most `max_norm`;
/// returns the norm before clipping (like `torch::nn::utils::clip_grad_norm_`). A non-finite
/// norm leaves the gradients untouched and is returned as is, so callers can detect it.
///
/// Example: `double n = onestone::optim::clip_grad_norm_(model.parameters(), 1.0);`
template <typename T>
inline double clip_grad_norm_(const std::vector<nn::Parameter<T>*>& params, double max_norm) {
  if (!(max_norm > 0)) throw std::invalid_argument("clip_grad_norm_: max_norm must be positive");
  double sq = 0;
  for (auto* p : params) sq += static_cast<double>(p->grad().vector().squaredNorm());
  const double norm = std::sqrt(sq);
  if (!std::isfinite(norm)) return norm;
  if (norm > max_norm) {
    const T scale = static_cast<T>(max_norm / (norm + 1e-6));
    for (auto* p : params) p->grad().vector() *= scale;
  }
  return norm;
}

}  // namespace optim
}  // namespace onestone
