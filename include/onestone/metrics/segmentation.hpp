#pragma once
/// @file segmentation.hpp
/// Semantic segmentation metrics: mean intersection over union (mIoU) and pixel accuracy of
/// per-pixel class scores.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/metrics/metric.hpp"

namespace onestone::metrics {

/// mIoU and pixel accuracy of per-pixel class scores `[N, C, H, W]` (or `[N, C, L]`) against
/// labels `[N, H, W]` (`[N, L]`), accumulated over an evaluation in a C×C confusion matrix:
/// IoU_c = TP_c / (TP_c + FP_c + FN_c), mIoU = mean of IoU_c over the classes that occur in the
/// labels or the predictions (the usual convention of segmentation benchmarks: a class absent
/// from both does not count), pixel accuracy = correct pixels / labelled pixels. Pixels labelled
/// `ignore_index` and samples of weight 0 are skipped.
///
/// Example:
/// @code
/// TaskOptions<float>("mask").head(seg_head).loss(LossKind::CrossEntropy)
///     .metric(std::make_shared<onestone::metrics::SegmentationMetrics<float>>());
/// @endcode
template <class T>
class SegmentationMetrics : public Metric<T> {
 public:
  explicit SegmentationMetrics(Index ignore_index = -100) : ignore_(ignore_index) {}
  std::string name() const override { return "segmentation"; }
  void reset() override { std::fill(counts_.begin(), counts_.end(), 0); }
  void update(const Tensor<T>& p, const data::Target<T>& t) override;
  void values(std::vector<MetricValue>& out) const override {
    out.push_back({"miou", miou(), true});
    out.push_back({"pixel_accuracy", pixel_accuracy(), true});
  }
  std::shared_ptr<Metric<T>> clone() const override {
    return std::make_shared<SegmentationMetrics>(ignore_);
  }

  /// IoU of class c (0 when c occurs in neither labels nor predictions).
  double iou(Index c) const;
  /// Mean IoU over the classes present in the labels or the predictions (0 when empty).
  double miou() const;
  /// Correct pixels over labelled pixels (0 when empty).
  double pixel_accuracy() const;

 private:
  std::int64_t at(Index truth, Index pred) const {
    return counts_[static_cast<std::size_t>(truth * classes_ + pred)];
  }
  Index ignore_;
  Index classes_ = 0;
  std::vector<std::int64_t> counts_;
};

template <class T>
void SegmentationMetrics<T>::update(const Tensor<T>& p, const data::Target<T>& t) {
  const Shape& s = p.shape();
  if (s.rank() < 3 || t.labels.numel() != s[0] * s.span(2, s.rank()))
    throw std::invalid_argument("SegmentationMetrics: " + detail::shape_pair(s, t.labels.shape()) +
                                " do not match ([N, C, H, W] scores with [N, H, W] labels)");
  const Index N = s[0], C = s[1], inner = s.span(2, s.rank());
  if (C != classes_) {
    classes_ = C;
    counts_.assign(static_cast<std::size_t>(C * C), 0);
  }
  for (Index n = 0; n < N; ++n) {
    if (!t.is_labelled(n)) continue;
    const T* base = p.data() + n * C * inner;
    for (Index i = 0; i < inner; ++i) {
      const std::int64_t y = t.labels[n * inner + i];
      if (y == ignore_) continue;
      if (y < 0 || y >= C)
        throw std::invalid_argument(
            "SegmentationMetrics: label " + std::to_string(y) + " at sample " + std::to_string(n) +
            ", position " + std::to_string(i) + " is outside [0, " + std::to_string(C) + ")");
      Index best = 0;
      for (Index c = 1; c < C; ++c)
        if (base[c * inner + i] > base[best * inner + i]) best = c;
      ++counts_[static_cast<std::size_t>(y * C + best)];
    }
  }
}

template <class T>
double SegmentationMetrics<T>::iou(Index c) const {
  if (c < 0 || c >= classes_)
    throw std::out_of_range("SegmentationMetrics::iou: class " + std::to_string(c) +
                            " outside [0, " + std::to_string(classes_) + ")");
  std::int64_t row = 0, col = 0;
  for (Index k = 0; k < classes_; ++k) {
    row += at(c, k);
    col += at(k, c);
  }
  const std::int64_t uni = row + col - at(c, c);
  return uni == 0 ? 0.0 : static_cast<double>(at(c, c)) / static_cast<double>(uni);
}

template <class T>
double SegmentationMetrics<T>::miou() const {
  double sum = 0;
  Index present = 0;
  for (Index c = 0; c < classes_; ++c) {
    std::int64_t row = 0, col = 0;
    for (Index k = 0; k < classes_; ++k) {
      row += at(c, k);
      col += at(k, c);
    }
    if (row + col == 0) continue;
    sum += iou(c);
    ++present;
  }
  return present ? sum / static_cast<double>(present) : 0.0;
}

template <class T>
double SegmentationMetrics<T>::pixel_accuracy() const {
  std::int64_t correct = 0, total = 0;
  for (Index a = 0; a < classes_; ++a)
    for (Index b = 0; b < classes_; ++b) {
      total += at(a, b);
      if (a == b) correct += at(a, b);
    }
  return total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0;
}
ONESTONE_EXTERN_CLASS(METRICS, SegmentationMetrics)

}  // namespace onestone::metrics
