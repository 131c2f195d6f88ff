#pragma once
/// @file monitor.hpp
/// `Monitor`: the validation quantity a `Trainer` watches for early stopping and for keeping
/// the best checkpoint — one task's metric, the mean of the tasks' primary metrics, the mean
/// validation loss, or Δm against a baseline.

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "onestone/model/delta_m.hpp"
#include "onestone/model/eval_report.hpp"

namespace onestone {
namespace train {

/// What the `Trainer` monitors on each validation `EvalReport`:
///   - `Monitor::metric("task/metric")`: one task's metric ("depth/mse", "item/accuracy",
///     "seg/loss"); its direction is the metric's own (a loss is lower-better);
///   - `Monitor::mean_primary()`: the mean of every task's primary metric. When all primary
///     metrics share a direction the mean is of the raw values, with that direction; when they
///     differ (accuracy and MSE) each lower-better value enters negated and the mean is
///     higher-better;
///   - `Monitor::mean_loss()`: the mean of the tasks' validation losses (lower-better);
///   - `Monitor::delta_m(baseline)`: Δm in percent against `baseline` (e.g. merged single-task
///     reports), higher-better; each term respects its metric's direction.
///
/// @code
/// using onestone::train::Monitor;
/// auto m1 = Monitor::metric("item/accuracy");
/// auto m2 = Monitor::delta_m(single_task_report);
/// double v = m1.value(report);            // the report's item accuracy
/// bool up = m1.higher_is_better(report);  // true
/// @endcode
class Monitor {
 public:
  /// The monitored quantities (see the class comment).
  enum class Kind { Metric, MeanPrimary, MeanLoss, DeltaM };

  /// The mean of the tasks' primary metrics (the default).
  Monitor() = default;

  /// One task's metric, written "task/metric" (split at the last '/').
  static Monitor metric(const std::string& task_metric) {
    const std::size_t slash = task_metric.rfind('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == task_metric.size())
      throw std::invalid_argument("Monitor::metric: expected \"task/metric\", got \"" +
                                  task_metric + "\"");
    Monitor m;
    m.kind_ = Kind::Metric;
    m.task_ = task_metric.substr(0, slash);
    m.metric_ = task_metric.substr(slash + 1);
    return m;
  }
  /// The mean of every task's primary metric.
  static Monitor mean_primary() { return Monitor(); }
  /// The mean validation loss over the tasks.
  static Monitor mean_loss() {
    Monitor m;
    m.kind_ = Kind::MeanLoss;
    return m;
  }
  /// Δm (percent, higher-better) against `baseline`, a report holding every task.
  static Monitor delta_m(model::EvalReport baseline,
                         model::DeltaMTerms terms = model::DeltaMTerms::PrimaryMetric) {
    Monitor m;
    m.kind_ = Kind::DeltaM;
    m.baseline_ = std::move(baseline);
    m.terms_ = terms;
    return m;
  }

  /// Which quantity is monitored.
  Kind kind() const noexcept { return kind_; }
  /// A short name: "item/accuracy", "mean_primary", "mean_loss" or "delta_m".
  std::string name() const {
    switch (kind_) {
      case Kind::Metric:
        return task_ + "/" + metric_;
      case Kind::MeanPrimary:
        return "mean_primary";
      case Kind::MeanLoss:
        return "mean_loss";
      case Kind::DeltaM:
        return "delta_m";
    }
    return "";
  }

  /// The monitored value of `r`; throws std::invalid_argument naming what is missing.
  double value(const model::EvalReport& r) const {
    switch (kind_) {
      case Kind::Metric:
        return task_of(r).get(metric_);
      case Kind::MeanLoss:
        return r.mean_loss();
      case Kind::DeltaM:
        for (const auto& t : r.tasks) (void)baseline_task(t.task);
        return model::delta_m(r, baseline_, terms_);
      case Kind::MeanPrimary: {
        if (r.tasks.empty()) throw std::invalid_argument("Monitor: the report has no task");
        const bool mixed = mixed_directions(r);
        double s = 0;
        for (const auto& t : r.tasks) {
          const double v = t.primary_value();
          s += (mixed && !primary_higher(t)) ? -v : v;
        }
        return s / static_cast<double>(r.tasks.size());
      }
    }
    return std::nan("");
  }
  /// Whether a higher value of `r`'s monitored quantity is better.
  bool higher_is_better(const model::EvalReport& r) const {
    switch (kind_) {
      case Kind::Metric:
        return metric_ == "loss" ? false : task_of(r).higher_is_better(metric_);
      case Kind::MeanLoss:
        return false;
      case Kind::DeltaM:
        return true;
      case Kind::MeanPrimary:
        if (r.tasks.empty()) return true;
        return mixed_directions(r) ? true : primary_higher(r.tasks.front());
    }
    return true;
  }

 private:
  static bool primary_higher(const model::TaskMetrics& t) {
    const std::string n = t.primary_name();
    return n == "loss" ? false : t.higher_is_better(n);
  }
  static bool mixed_directions(const model::EvalReport& r) {
    for (const auto& t : r.tasks)
      if (primary_higher(t) != primary_higher(r.tasks.front())) return true;
    return false;
  }
  const model::TaskMetrics& task_of(const model::EvalReport& r) const {
    for (const auto& t : r.tasks)
      if (t.task == task_) {
        if (!t.has(metric_))
          throw std::invalid_argument("Monitor \"" + name() + "\": task '" + task_ +
                                      "' reports no metric '" + metric_ + "'");
        return t;
      }
    throw std::invalid_argument("Monitor \"" + name() + "\": the validation report has no task '" +
                                task_ + "'");
  }
  const model::TaskMetrics& baseline_task(const std::string& task) const {
    for (const auto& t : baseline_.tasks)
      if (t.task == task) return t;
    throw std::invalid_argument("Monitor \"delta_m\": the baseline report has no task '" + task +
                                "'");
  }

  Kind kind_ = Kind::MeanPrimary;
  std::string task_, metric_;
  model::EvalReport baseline_;
  model::DeltaMTerms terms_ = model::DeltaMTerms::PrimaryMetric;
};

}  // namespace train
}  // namespace onestone
