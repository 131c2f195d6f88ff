#pragma once
/// @file auc.hpp
/// Area under the ROC curve of a binary classifier: `binary_auc` and the `BinaryAUC<T>` metric.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/metrics/metric.hpp"

namespace onestone::metrics {

namespace detail {

/// ROC AUC from scores, 0/1 labels and weights (null = all 1) by the rank (Mann–Whitney)
/// statistic: Σ over positive–negative pairs of w₊w₋·[s₊ > s₋] (+ ½ on ties) / (W₊W₋).
/// Sorts once: O(n log n). NaN when either class is absent (weight 0 in total).
inline double rank_auc(const std::vector<double>& s, const std::vector<std::uint8_t>& y,
                       const std::vector<double>& w) {
  const std::size_t n = s.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s[a] < s[b]; });
  double neg_below = 0.0, pos_total = 0.0, neg_total = 0.0, num = 0.0;
  for (std::size_t a = 0; a < n;) {
    std::size_t b = a;
    double pos = 0.0, neg = 0.0;
    while (b < n && s[order[b]] == s[order[a]]) {
      (y[order[b]] ? pos : neg) += w[order[b]];
      ++b;
    }
    num += pos * (neg_below + 0.5 * neg);
    neg_below += neg;
    pos_total += pos;
    neg_total += neg;
    a = b;
  }
  if (!(pos_total > 0.0) || !(neg_total > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return num / (pos_total * neg_total);
}

}  // namespace detail

/// ROC AUC of positive-class scores against 0/1 labels, by the rank statistic (the probability
/// that a random positive scores above a random negative; ties count ½). Optional per-sample
/// weights (a pair counts w₊·w₋; weight 0 skips a sample).
///
/// @returns the AUC in [0, 1], or NaN when the labels hold only one class (AUC undefined)
/// @throws std::invalid_argument when the sizes differ or a label is not 0/1
///
/// Example: `double auc = onestone::metrics::binary_auc(scores, labels);`
template <typename T>
double binary_auc(const Tensor<T>& scores, const Tensor<std::int64_t>& labels,
                  const Tensor<T>* weight = nullptr) {
  const Index N = scores.numel();
  if (labels.numel() != N || (weight && weight->numel() != N))
    throw std::invalid_argument("binary_auc: scores " + scores.shape().str() + " and labels " +
                                labels.shape().str() + " differ in size");
  std::vector<double> s, w;
  std::vector<std::uint8_t> y;
  for (Index i = 0; i < N; ++i) {
    const double wi = weight ? static_cast<double>((*weight)[i]) : 1.0;
    if (!(wi > 0.0)) continue;
    if (labels[i] != 0 && labels[i] != 1)
      throw std::invalid_argument("binary_auc: label at position " + std::to_string(i) + " is " +
                                  std::to_string(labels[i]) + " (must be 0 or 1)");
    s.push_back(static_cast<double>(scores[i]));
    y.push_back(static_cast<std::uint8_t>(labels[i]));
    w.push_back(wi);
  }
  return detail::rank_auc(s, y, w);
}

/// ROC AUC of a binary classification task, metric "auc" (higher is better). Predictions are
/// logits [B] or [B, 1] (the positive class's score) or [B, 2] (two-class logits: the score is
/// z₁ − z₀, which orders samples as the softmax probability of class 1). Labels are the
/// target's class labels (0/1); samples of weight 0 are skipped, others weigh by their weight.
/// Batches are accumulated; the AUC is computed over the whole evaluation in `values()` (NaN
/// when only one class occurred: AUC is undefined).
///
/// Example:
/// @code
/// TaskOptions<float>("diagnosis").head(head).loss(LossKind::CrossEntropy)
///     .metric(std::make_shared<onestone::metrics::ClassificationMetrics<float>>())
///     .metric(std::make_shared<onestone::metrics::BinaryAUC<float>>());
/// @endcode
template <class T>
class BinaryAUC : public Metric<T> {
 public:
  std::string name() const override { return "auc"; }
  void reset() override {
    s_.clear();
    y_.clear();
    w_.clear();
  }
  void update(const Tensor<T>& p, const data::Target<T>& t) override {
    const Index B = p.rank() > 0 ? p.size(0) : 0;
    const bool two = p.rank() == 2 && p.size(1) == 2;
    const bool one = p.numel() == B && (p.rank() == 1 || (p.rank() == 2 && p.size(1) == 1));
    if ((!one && !two) || t.labels.numel() != B)
      throw std::invalid_argument("BinaryAUC: prediction " + p.shape().str() + " and labels " +
                                  t.labels.shape().str() +
                                  " do not match (expected [B], [B, 1] or [B, 2] with [B])");
    for (Index i = 0; i < B; ++i) {
      const T wi = t.weight_of(i);
      if (!(wi > T(0))) continue;
      const std::int64_t y = t.labels[i];
      if (y != 0 && y != 1)
        throw std::invalid_argument("BinaryAUC: label at position " + std::to_string(i) + " is " +
                                    std::to_string(y) + " (must be 0 or 1)");
      s_.push_back(two ? static_cast<double>(p[2 * i + 1]) - static_cast<double>(p[2 * i])
                       : static_cast<double>(p[i]));
      y_.push_back(static_cast<std::uint8_t>(y));
      w_.push_back(static_cast<double>(wi));
    }
  }
  void values(std::vector<MetricValue>& out) const override {
    out.push_back({"auc", detail::rank_auc(s_, y_, w_), true});
  }
  std::shared_ptr<Metric<T>> clone() const override { return std::make_shared<BinaryAUC>(); }

 private:
  std::vector<double> s_, w_;
  std::vector<std::uint8_t> y_;
};

}  // namespace onestone::metrics
