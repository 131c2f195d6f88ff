#pragma once
/// @file task.hpp
/// `TaskOptions<T>` / `Task<T>`: a task's name, head, loss (a preset or any callable), metrics
/// and static weight λ.

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/losses/binary_cross_entropy.hpp"
#include "onestone/losses/cross_entropy.hpp"
#include "onestone/losses/regression.hpp"
#include "onestone/metrics/metric.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone {
namespace model {

/// The built-in losses (presets); each also gives the task default metrics.
enum class LossKind {
  CrossEntropy,        ///< integer labels [N] or [N, ...]; metrics: accuracy, macro-F1
  BinaryCrossEntropy,  ///< 0/1 targets per output (multi-label); metric: accuracy at 0.5
  MSE,                 ///< real targets; metrics: MSE, MAE
  L1,                  ///< real targets; metrics: MSE, MAE
  Huber                ///< real targets; metrics: MSE, MAE
};

inline const char* loss_name(LossKind k) {
  switch (k) {
    case LossKind::CrossEntropy:
      return "cross_entropy";
    case LossKind::BinaryCrossEntropy:
      return "binary_cross_entropy";
    case LossKind::MSE:
      return "mse";
    case LossKind::L1:
      return "l1";
    default:
      return "huber";
  }
}
/// True for losses that take integer class labels.
inline bool is_classification(LossKind k) { return k == LossKind::CrossEntropy; }

/// A task's loss: (prediction, the batch's target of the task) → a one-element Var. It should
/// weigh samples by `target.weight` (0 = unlabelled) and average over the labelled ones, as the
/// presets do; the model leaves a task out of a step when no sample of the batch is labelled.
template <typename T>
using LossFn = std::function<Var<T>(const Var<T>& prediction, const data::Target<T>& target)>;

/// Options describing one task of a `MultiTaskModel`.
///
/// @param name   the task's name; by default also the name of its target in the dataset
/// The head maps the task representation to the prediction (logits or values). The loss is a
/// preset (`LossKind`, with `class_weights`, `ignore_index`, `huber_delta`) or any callable
/// (prediction, target) → scalar; metrics default to the preset's and may be added or replaced.
///
/// Example:
/// @code
/// TaskOptions<float>("item").head(std::make_shared<Linear<float>>(LinearOptions(256, 10)))
///     .loss(LossKind::CrossEntropy).weight(1.0);
/// TaskOptions<float>("box").head(box_head)
///     .loss([](const Var<float>& p, const data::Target<float>& t) {
///       return losses::l1_loss(p, t.values, losses::LossOptions<float>().sample_weight(t.weight));
///     })
///     .metric(metrics::metric_fn<float>("mean_abs", false, my_metric));
/// @endcode
template <typename T>
struct TaskOptions {
  explicit TaskOptions(std::string name) : name_(std::move(name)), target_(name_) {}
  // Copying and destroying are defined below the class (not inline), so that programs linked to
  // onestone::compiled take them from the library instead of compiling them again.
  TaskOptions(const TaskOptions& other);
  TaskOptions(TaskOptions&& other) = default;
  TaskOptions& operator=(const TaskOptions& other);
  TaskOptions& operator=(TaskOptions&& other) = default;
  ~TaskOptions();
  TaskOptions& head(std::shared_ptr<nn::Module<T>> h) {
    head_ = std::move(h);
    return *this;
  }
  /// A built-in loss (and its default metrics).
  TaskOptions& loss(LossKind k) {
    loss_ = k;
    custom_loss_ = nullptr;
    return *this;
  }
  /// Any loss: (prediction, target) → a one-element Var.
  TaskOptions& loss(LossFn<T> fn) {
    if (!fn)
      throw std::invalid_argument("TaskOptions::loss: empty callable for task '" + name_ + "'");
    custom_loss_ = std::move(fn);
    return *this;
  }
  /// Adds a metric (the first call replaces the preset's defaults).
  TaskOptions& metric(std::shared_ptr<metrics::Metric<T>> m) {
    if (!m)
      throw std::invalid_argument("TaskOptions::metric: null metric for task '" + name_ + "'");
    if (!custom_metrics_) metrics_.clear();
    custom_metrics_ = true;
    metrics_.push_back(std::move(m));
    return *this;
  }
  /// The metric used for Δm and early stopping (default: the first one reported).
  TaskOptions& primary_metric(std::string name) {
    primary_metric_ = std::move(name);
    return *this;
  }
  /// Static weight λ of this task in L = Σ λᵢ Lᵢ (default 1).
  TaskOptions& weight(double w) {
    weight_ = w;
    return *this;
  }
  /// Name of the dataset target holding this task's labels (default: the task name).
  TaskOptions& target(std::string t) {
    target_ = std::move(t);
    return *this;
  }
  /// Per-class weights for the cross-entropy preset.
  TaskOptions& class_weights(Tensor<T> w) {
    class_weights_ = std::move(w);
    return *this;
  }
  /// Label value skipped by the cross-entropy preset and its metrics (default −100).
  TaskOptions& ignore_index(Index i) {
    ignore_index_ = i;
    return *this;
  }
  /// Threshold of the Huber preset (default 1).
  TaskOptions& huber_delta(double d) {
    huber_delta_ = d;
    return *this;
  }

  /// The loss of this task (the callable, or the preset with its options).
  Var<T> compute_loss(const Var<T>& pred, const data::Target<T>& tg) const {
    if (custom_loss_) return custom_loss_(pred, tg);
    const Tensor<T>* sw = tg.weighted() ? &tg.weight : nullptr;
    switch (loss_) {
      case LossKind::CrossEntropy: {
        losses::CrossEntropyOptions<T> o;
        o.ignore_index(ignore_index_);
        if (class_weights_.numel() > 0) o.weight(class_weights_);
        if (sw) o.sample_weight(*sw);
        return losses::cross_entropy(pred, tg.labels, o);
      }
      case LossKind::BinaryCrossEntropy: {
        losses::LossOptions<T> o;
        if (sw) o.sample_weight(*sw);
        return losses::binary_cross_entropy_with_logits(pred, tg.values, o);
      }
      case LossKind::MSE: {
        losses::LossOptions<T> o;
        if (sw) o.sample_weight(*sw);
        return losses::mse_loss(pred, tg.values, o);
      }
      case LossKind::L1: {
        losses::LossOptions<T> o;
        if (sw) o.sample_weight(*sw);
        return losses::l1_loss(pred, tg.values, o);
      }
      default: {
        losses::LossOptions<T> o;
        o.delta(huber_delta_);
        if (sw) o.sample_weight(*sw);
        return losses::huber_loss(pred, tg.values, o);
      }
    }
  }
  /// Fresh metrics of this task (the given ones, or the preset's defaults).
  std::vector<std::shared_ptr<metrics::Metric<T>>> make_metrics() const {
    std::vector<std::shared_ptr<metrics::Metric<T>>> out;
    if (custom_metrics_) {
      for (const auto& m : metrics_) out.push_back(m->clone());
      return out;
    }
    if (custom_loss_) return out;  // a custom loss without metrics reports its loss only
    switch (loss_) {
      case LossKind::CrossEntropy:
        out.push_back(std::make_shared<metrics::ClassificationMetrics<T>>(ignore_index_));
        break;
      case LossKind::BinaryCrossEntropy:
        out.push_back(std::make_shared<metrics::BinaryMetrics<T>>());
        break;
      default:
        out.push_back(std::make_shared<metrics::RegressionMetrics<T>>());
        break;
    }
    return out;
  }
  /// True when the task uses a preset that reads class labels (checked against the target).
  bool wants_labels() const { return !custom_loss_ && is_classification(loss_); }
  bool wants_values() const { return !custom_loss_ && !is_classification(loss_); }
  bool custom_loss() const { return static_cast<bool>(custom_loss_); }

  std::string name_;
  std::string target_;
  std::shared_ptr<nn::Module<T>> head_;
  LossKind loss_ = LossKind::CrossEntropy;
  LossFn<T> custom_loss_;
  std::vector<std::shared_ptr<metrics::Metric<T>>> metrics_;
  bool custom_metrics_ = false;
  std::string primary_metric_;
  double weight_ = 1.0;
  Tensor<T> class_weights_;
  Index ignore_index_ = -100;
  double huber_delta_ = 1.0;
};

template <typename T>
TaskOptions<T>::TaskOptions(const TaskOptions& other) = default;
template <typename T>
TaskOptions<T>& TaskOptions<T>::operator=(const TaskOptions& other) = default;
template <typename T>
TaskOptions<T>::~TaskOptions() = default;
ONESTONE_EXTERN_CLASS(MODEL, TaskOptions)

/// A registered task (its options, validated).
template <typename T>
using Task = TaskOptions<T>;

}  // namespace model
}  // namespace onestone
