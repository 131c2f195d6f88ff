#pragma once
/// @file regression.hpp
/// `RegressionMeter`: running mean squared / absolute error over batches.

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/tensor/shape.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::metrics {

/// Accumulates squared and absolute errors of predictions against targets (both `[N, k]`, or
/// `[N]`), in double precision, over any number of batches. `count()` is the number of
/// compared values (N * k summed over updates); `mse()`, `mae()` and `rmse()` average over it.
/// Updates never allocate.
///
/// @code
/// onestone::metrics::RegressionMeter meter;
/// meter.update(prediction, batch.targets[1].values);   // [B, 1] and [B, 1]
/// double rmse = meter.rmse();
/// @endcode
class RegressionMeter {
 public:
  RegressionMeter() = default;

  /// Adds the element-wise errors of `predictions` against `targets`. Throws
  /// std::invalid_argument naming both shapes unless they are equal (a `[N]` tensor also
  /// matches `[N, 1]`).
  template <class T>
  void update(const Tensor<T>& predictions, const Tensor<T>& targets) {
    if (!compatible(predictions.shape(), targets.shape()))
      throw std::invalid_argument("RegressionMeter::update: predictions " +
                                  predictions.shape().str() + " and targets " +
                                  targets.shape().str() + " have different shapes");
    const ConstVectorMap<T> p = predictions.vector();
    const ConstVectorMap<T> t = targets.vector();
    const auto diff = (p.template cast<double>() - t.template cast<double>()).array();
    sum_squared_ += diff.square().sum();
    sum_absolute_ += diff.abs().sum();
    count_ += predictions.numel();
  }

  /// Mean squared error (0 when empty).
  double mse() const { return count_ == 0 ? 0.0 : sum_squared_ / static_cast<double>(count_); }
  /// Mean absolute error (0 when empty).
  double mae() const { return count_ == 0 ? 0.0 : sum_absolute_ / static_cast<double>(count_); }
  /// Root mean squared error (0 when empty).
  double rmse() const { return std::sqrt(mse()); }
  /// Values compared so far.
  std::int64_t count() const { return count_; }
  /// Sum of squared errors so far.
  double sum_squared() const { return sum_squared_; }
  /// Sum of absolute errors so far.
  double sum_absolute() const { return sum_absolute_; }
  /// Clears the accumulated errors.
  void reset() {
    sum_squared_ = 0.0;
    sum_absolute_ = 0.0;
    count_ = 0;
  }

 private:
  static bool compatible(const Shape& a, const Shape& b) {
    if (a == b) return a.rank() >= 1;
    const auto column = [](const Shape& s) { return s.rank() == 2 && s[1] == 1; };
    if (a.rank() == 1 && column(b)) return a[0] == b[0];
    if (b.rank() == 1 && column(a)) return a[0] == b[0];
    return false;
  }

  double sum_squared_ = 0.0;
  double sum_absolute_ = 0.0;
  std::int64_t count_ = 0;
};

}  // namespace onestone::metrics
