#pragma once
/// @file reduction.hpp
/// How per-element losses are combined (`Reduction`) and the options shared by the element-wise
/// losses (`LossOptions`: reduction, per-sample weights, Huber's delta).

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/tensor/tensor.hpp"

namespace onestone {
namespace losses {

/// How per-element losses are combined: their (weighted) mean or their sum.
enum class Reduction { Mean, Sum };

/// Options of the element-wise losses (MSE, L1, Huber, BCE with logits).
///
/// `sample_weight` ([N], not owned, must outlive backward) weighs sample n's elements by w[n];
/// the mean then divides by Σₙ w[n]·(elements per sample), so samples of weight 0 — unlabelled
/// ones — drop out entirely, and a batch with no weight gives a loss of 0.
///
/// Example: `mse_loss(pred, target, LossOptions<float>().sample_weight(mask))`
template <typename T>
struct LossOptions {
  LossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  LossOptions& sample_weight(const Tensor<T>& w) {
    sample_weight_ = &w;
    return *this;
  }
  /// Threshold of the Huber loss (default 1).
  LossOptions& delta(double d) {
    delta_ = d;
    return *this;
  }
  Reduction reduction_ = Reduction::Mean;
  const Tensor<T>* sample_weight_ = nullptr;
  double delta_ = 1.0;
};

namespace detail {
/// Checks that sample weights (if any) hold one finite, non-negative value per sample.
template <typename T>
inline void check_sample_weight(const char* op, const Tensor<T>* w, Index samples) {
  if (!w) return;
  if (w->numel() != samples)
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(w->numel()) +
                                " sample weights (shape " + w->shape().str() + ") for " +
                                std::to_string(samples) + " samples");
  for (Index k = 0; k < w->numel(); ++k)
    if (!std::isfinite(static_cast<double>((*w)[k])) || (*w)[k] < T(0))
      throw std::invalid_argument(std::string(op) + ": sample weight " +
                                  std::to_string(static_cast<double>((*w)[k])) + " at position " +
                                  std::to_string(k) + " is not a finite non-negative number");
}
}  // namespace detail

}  // namespace losses
}  // namespace onestone
