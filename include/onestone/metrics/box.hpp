#pragma once
/// @file box.hpp
/// Bounding-box metrics: the intersection over union of two axis-aligned boxes and the mean box
/// IoU of a box-regression task.

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/metrics/metric.hpp"

namespace onestone::metrics {

/// Intersection over union of boxes a and b given as (x1, y1, x2, y2) with x1 ≤ x2, y1 ≤ y2
/// (a box with x2 < x1 or y2 < y1 has area 0). 0 when the union is empty.
///
/// Example: `box_iou(std::array<double,4>{0,0,2,2}.data(), std::array<double,4>{1,1,3,3}.data())`
/// is 1/7.
template <class T>
double box_iou(const T* a, const T* b) {
  const double ax1 = a[0], ay1 = a[1], ax2 = a[2], ay2 = a[3];
  const double bx1 = b[0], by1 = b[1], bx2 = b[2], by2 = b[3];
  const double iw = std::max(0.0, std::min(ax2, bx2) - std::max(ax1, bx1));
  const double ih = std::max(0.0, std::min(ay2, by2) - std::max(ay1, by1));
  const double inter = iw * ih;
  const double area_a = std::max(0.0, ax2 - ax1) * std::max(0.0, ay2 - ay1);
  const double area_b = std::max(0.0, bx2 - bx1) * std::max(0.0, by2 - by1);
  const double uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0.0;
}

/// Box regression quality: predictions `[N, 4]` against target values `[N, 4]`, both
/// (x1, y1, x2, y2). Reports "box_iou" (mean IoU over labelled samples, higher is better) and
/// "box_hit" (fraction with IoU ≥ `threshold`, default 0.5, as detection benchmarks count a hit).
///
/// Example: `TaskOptions<float>("box").metric(std::make_shared<BoxMetrics<float>>())`
template <class T>
class BoxMetrics : public Metric<T> {
 public:
  explicit BoxMetrics(double threshold = 0.5) : threshold_(threshold) {}
  std::string name() const override { return "box"; }
  void reset() override { sum_ = hits_ = count_ = 0; }
  void update(const Tensor<T>& p, const data::Target<T>& t) override;
  void values(std::vector<MetricValue>& out) const override {
    out.push_back({"box_iou", count_ > 0 ? sum_ / count_ : 0.0, true});
    out.push_back({"box_hit", count_ > 0 ? hits_ / count_ : 0.0, true});
  }
  std::shared_ptr<Metric<T>> clone() const override {
    return std::make_shared<BoxMetrics>(threshold_);
  }

 private:
  double threshold_;
  double sum_ = 0, hits_ = 0, count_ = 0;
};

template <class T>
void BoxMetrics<T>::update(const Tensor<T>& p, const data::Target<T>& t) {
  if (p.rank() != 2 || p.size(1) != 4 || t.values.shape() != p.shape())
    throw std::invalid_argument("BoxMetrics: " + detail::shape_pair(p.shape(), t.values.shape()) +
                                " must both be [N, 4] boxes (x1, y1, x2, y2)");
  for (Index n = 0; n < p.size(0); ++n) {
    if (!t.is_labelled(n)) continue;
    const double iou = box_iou(p.data() + 4 * n, t.values.data() + 4 * n);
    sum_ += iou;
    hits_ += iou >= threshold_ ? 1.0 : 0.0;
    count_ += 1.0;
  }
}
ONESTONE_EXTERN_CLASS(METRICS, BoxMetrics)

}  // namespace onestone::metrics
