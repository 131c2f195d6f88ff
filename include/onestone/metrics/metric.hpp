#pragma once
/// @file metric.hpp
/// `Metric<T>`: the interface of a task's evaluation metric (accumulated over batches), the
/// built-in metrics for classification, binary and regression tasks, and `metric_fn` to make a
/// metric from a callable.

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/metrics/classification.hpp"
#include "onestone/metrics/regression.hpp"

namespace onestone::metrics {

/// One named metric value and its direction (for Δm and early stopping).
struct MetricValue {
  std::string name;
  double value = 0.0;
  bool higher_is_better = true;
};

/// A task's metric: `reset()` before an evaluation, `update(prediction, target)` per batch
/// (prediction = the task head's output, target = the batch's target of the task, whose
/// unlabelled samples — weight 0 — must be skipped), `values()` at the end. Metrics are
/// stateful; `clone()` gives a fresh one of the same configuration.
///
/// Example (a custom metric):
/// @code
/// template <typename T>
/// struct MaxError : onestone::metrics::Metric<T> {
///   double worst = 0;
///   std::string name() const override { return "max_error"; }
///   void reset() override { worst = 0; }
///   void update(const onestone::Tensor<T>& p, const onestone::data::Target<T>& t) override {
///     for (onestone::Index i = 0; i < p.numel(); ++i)
///       if (t.is_labelled(i)) worst = std::max(worst, std::abs(double(p[i] - t.values[i])));
///   }
///   void values(std::vector<onestone::metrics::MetricValue>& out) const override {
///     out.push_back({"max_error", worst, false});
///   }
///   std::shared_ptr<onestone::metrics::Metric<T>> clone() const override {
///     return std::make_shared<MaxError>();
///   }
/// };
/// @endcode
template <class T>
class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string name() const = 0;
  virtual void reset() = 0;
  virtual void update(const Tensor<T>& prediction, const data::Target<T>& target) = 0;
  /// Appends this metric's values.
  virtual void values(std::vector<MetricValue>& out) const = 0;
  virtual std::shared_ptr<Metric<T>> clone() const = 0;
};

namespace detail {
inline std::string shape_pair(const Shape& a, const Shape& b) {
  return "prediction " + a.str() + " and target " + b.str();
}
}  // namespace detail

/// Accuracy and macro-F1 of class predictions: the argmax over axis 1 of a prediction `[N, C]`
/// or `[N, C, d...]` (per pixel or token) against labels `[N]` or `[N, d...]`. Positions
/// labelled `ignore_index` and samples of weight 0 are skipped. The number of classes is taken
/// from the prediction at the first update.
///
/// Example: `TaskOptions<float>("item").metric(std::make_shared<ClassificationMetrics<float>>())`
template <class T>
class ClassificationMetrics : public Metric<T> {
 public:
  explicit ClassificationMetrics(Index ignore_index = -100) : ignore_(ignore_index) {}
  std::string name() const override { return "classification"; }
  void reset() override {
    if (cm_) cm_->reset();
  }
  void update(const Tensor<T>& p, const data::Target<T>& t) override;
  void values(std::vector<MetricValue>& out) const override {
    out.push_back({"accuracy", cm_ ? cm_->accuracy() : 0.0, true});
    out.push_back({"macro_f1", cm_ ? cm_->macro_f1() : 0.0, true});
  }
  std::shared_ptr<Metric<T>> clone() const override {
    return std::make_shared<ClassificationMetrics>(ignore_);
  }
  /// The confusion matrix so far (null before the first update).
  const ConfusionMatrix* confusion() const { return cm_.get(); }

 private:
  Index ignore_;
  std::shared_ptr<ConfusionMatrix> cm_;
};

template <class T>
void ClassificationMetrics<T>::update(const Tensor<T>& p, const data::Target<T>& t) {
  const Shape& s = p.shape();
  if (s.rank() < 2 || t.labels.numel() != s[0] * s.span(2, s.rank()))
    throw std::invalid_argument(
        "ClassificationMetrics: " + detail::shape_pair(s, t.labels.shape()) +
        " do not match ([N, C] with [N], or [N, C, d...] with [N, d...])");
  const Index N = s[0], C = s[1], inner = s.span(2, s.rank());
  if (!cm_ || cm_->num_classes() != C) cm_ = std::make_shared<ConfusionMatrix>(C);
  for (Index n = 0; n < N; ++n) {
    if (!t.is_labelled(n)) continue;
    for (Index i = 0; i < inner; ++i) {
      const std::int64_t y = t.labels[n * inner + i];
      if (y == ignore_) continue;
      const T* base = p.data() + n * C * inner + i;
      Index best = 0;
      for (Index c = 1; c < C; ++c)
        if (base[c * inner] > base[best * inner]) best = c;
      cm_->add(y, best);
    }
  }
}

/// Accuracy of binary (multi-label) predictions: logit > 0 against target value > 0.5,
/// element-wise over the labelled samples.
template <class T>
class BinaryMetrics : public Metric<T> {
 public:
  std::string name() const override { return "binary"; }
  void reset() override { correct_ = total_ = 0; }
  void update(const Tensor<T>& p, const data::Target<T>& t) override;
  void values(std::vector<MetricValue>& out) const override {
    out.push_back({"accuracy", total_ > 0 ? correct_ / total_ : 0.0, true});
  }
  std::shared_ptr<Metric<T>> clone() const override { return std::make_shared<BinaryMetrics>(); }

 private:
  double correct_ = 0, total_ = 0;
};

template <class T>
void BinaryMetrics<T>::update(const Tensor<T>& p, const data::Target<T>& t) {
  if (p.numel() != t.values.numel() || p.rank() < 1)
    throw std::invalid_argument(
        "BinaryMetrics: " + detail::shape_pair(p.shape(), t.values.shape()) + " differ in size");
  const Index N = p.size(0), per = N ? p.numel() / N : 0;
  for (Index n = 0; n < N; ++n) {
    if (!t.is_labelled(n)) continue;
    for (Index k = 0; k < per; ++k) {
      const Index i = n * per + k;
      correct_ += (p[i] > T(0)) == (t.values[i] > T(0.5)) ? 1.0 : 0.0;
      total_ += 1.0;
    }
  }
}

/// Mean squared and absolute error (and RMSE) of real predictions against the target's values,
/// over the elements of labelled samples, each weighted by its sample's weight.
template <class T>
class RegressionMetrics : public Metric<T> {
 public:
  std::string name() const override { return "regression"; }
  void reset() override { se_ = ae_ = w_ = 0; }
  void update(const Tensor<T>& p, const data::Target<T>& t) override;
  void values(std::vector<MetricValue>& out) const override {
    out.push_back({"mse", w_ > 0 ? se_ / w_ : 0.0, false});
    out.push_back({"mae", w_ > 0 ? ae_ / w_ : 0.0, false});
  }
  std::shared_ptr<Metric<T>> clone() const override {
    return std::make_shared<RegressionMetrics>();
  }

 private:
  double se_ = 0, ae_ = 0, w_ = 0;
};

template <class T>
void RegressionMetrics<T>::update(const Tensor<T>& p, const data::Target<T>& t) {
  if (p.numel() != t.values.numel() || p.rank() < 1)
    throw std::invalid_argument(
        "RegressionMetrics: " + detail::shape_pair(p.shape(), t.values.shape()) +
        " differ in size");
  const Index N = p.size(0), per = N ? p.numel() / N : 0;
  for (Index n = 0; n < N; ++n) {
    const double w = static_cast<double>(t.weight_of(n));
    if (w <= 0) continue;
    for (Index k = 0; k < per; ++k) {
      const double d =
          static_cast<double>(p[n * per + k]) - static_cast<double>(t.values[n * per + k]);
      se_ += w * d * d;
      ae_ += w * std::abs(d);
      w_ += w;
    }
  }
}

/// A metric from a callable returning, for one batch, the sum of a per-sample quantity over its
/// labelled samples and their count: the metric is the overall mean.
template <class T>
class FunctionMetric : public Metric<T> {
 public:
  using Fn = std::function<std::pair<double, double>(const Tensor<T>&, const data::Target<T>&)>;
  FunctionMetric(std::string name, bool higher_is_better, Fn fn)
      : name_(std::move(name)), higher_(higher_is_better), fn_(std::move(fn)) {}
  std::string name() const override { return name_; }
  void reset() override { sum_ = count_ = 0; }
  void update(const Tensor<T>& p, const data::Target<T>& t) override {
    const auto r = fn_(p, t);
    sum_ += r.first;
    count_ += r.second;
  }
  void values(std::vector<MetricValue>& out) const override {
    out.push_back({name_, count_ > 0 ? sum_ / count_ : 0.0, higher_});
  }
  std::shared_ptr<Metric<T>> clone() const override {
    return std::make_shared<FunctionMetric>(name_, higher_, fn_);
  }

 private:
  std::string name_;
  bool higher_;
  Fn fn_;
  double sum_ = 0, count_ = 0;
};

/// A metric from a callable (prediction, target) → {sum over the batch's labelled samples,
/// their count}; reported as sum / count over the whole evaluation.
///
/// Example (fraction of predictions within 0.1 of the target, higher is better):
/// @code
/// auto within = onestone::metrics::metric_fn<float>("within_0.1", true,
///     [](const onestone::Tensor<float>& p, const onestone::data::Target<float>& t) {
///       double hit = 0, n = 0;
///       for (onestone::Index i = 0; i < p.numel(); ++i)
///         if (t.is_labelled(i)) { hit += std::abs(p[i] - t.values[i]) < 0.1f; n += 1; }
///       return std::make_pair(hit, n);
///     });
/// @endcode
template <class T, class F>
std::shared_ptr<Metric<T>> metric_fn(std::string name, bool higher_is_better, F&& fn) {
  return std::make_shared<FunctionMetric<T>>(std::move(name), higher_is_better,
                                             typename FunctionMetric<T>::Fn(std::forward<F>(fn)));
}

ONESTONE_EXTERN_CLASS(METRICS, ClassificationMetrics)
ONESTONE_EXTERN_CLASS(METRICS, BinaryMetrics)
ONESTONE_EXTERN_CLASS(METRICS, RegressionMetrics)
ONESTONE_EXTERN_CLASS(METRICS, FunctionMetric)

}  // namespace onestone::metrics
