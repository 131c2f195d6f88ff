#pragma once
/// @file eval_report.hpp
/// `EvalReport`: per-task metrics from `MultiTaskModel::evaluate`, and their averages.

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace onestone {
namespace model {

/// Metrics of one task: its mean loss and named metric values ("accuracy", "macro_f1", "mse",
/// "mae").
struct TaskMetrics {
  std::string task;
  double loss = 0.0;
  /// Samples with a label for this task.
  std::size_t labelled = 0;
  std::vector<std::pair<std::string, double>> values;
  /// Per entry of `values`: true when a higher value is better (accuracy, F1, IoU).
  std::vector<bool> higher;
  /// The metric used for Δm and early stopping ("" = the first value).
  std::string primary;

  /// Appends a metric value.
  void add(const std::string& name, double value, bool higher_is_better) {
    values.emplace_back(name, value);
    higher.push_back(higher_is_better);
  }
  /// Whether higher is better for `metric` (true for unknown directions).
  bool higher_is_better(const std::string& metric) const {
    for (std::size_t k = 0; k < values.size(); ++k)
      if (values[k].first == metric) return k < higher.size() ? bool(higher[k]) : true;
    throw std::invalid_argument("TaskMetrics: task '" + task + "' has no metric '" + metric + "'");
  }
  /// The name of the primary metric ("loss" when the task reports no metric).
  std::string primary_name() const {
    if (!primary.empty()) return primary;
    return values.empty() ? std::string("loss") : values.front().first;
  }
  /// The value of the primary metric (the loss when the task reports none).
  double primary_value() const {
    const std::string n = primary_name();
    return n == "loss" ? loss : get(n);
  }

  /// The value of `metric` ("loss" included); throws std::invalid_argument when the task has
  /// no such metric.
  double get(const std::string& metric) const {
    if (metric == "loss") return loss;
    for (auto& v : values)
      if (v.first == metric) return v.second;
    throw std::invalid_argument("TaskMetrics: task '" + task + "' has no metric '" + metric + "'");
  }
  bool has(const std::string& metric) const {
    if (metric == "loss") return true;
    for (auto& v : values)
      if (v.first == metric) return true;
    return false;
  }
};

/// The result of evaluating a multi-task model: one `TaskMetrics` per task.
///
/// Example:
/// @code
/// auto report = model.evaluate(test_loader);
/// double acc = report.get("item", "accuracy");
/// double mean_acc = report.mean("accuracy");   // over the tasks that report accuracy
/// std::cout << report.str();
/// @endcode
struct EvalReport {
  std::vector<TaskMetrics> tasks;
  std::size_t samples = 0;

  const TaskMetrics& task(const std::string& name) const {
    for (auto& t : tasks)
      if (t.task == name) return t;
    throw std::invalid_argument("EvalReport: no task '" + name + "'");
  }
  double get(const std::string& task_name, const std::string& metric) const {
    return task(task_name).get(metric);
  }
  /// Mean of `metric` over the tasks that report it (NaN when none does).
  double mean(const std::string& metric) const {
    double s = 0;
    int n = 0;
    for (auto& t : tasks)
      if (t.has(metric)) {
        s += t.get(metric);
        ++n;
      }
    return n ? s / n : std::nan("");
  }
  /// Mean of the tasks' losses.
  double mean_loss() const {
    double s = 0;
    for (auto& t : tasks) s += t.loss;
    return tasks.empty() ? 0.0 : s / static_cast<double>(tasks.size());
  }
  /// One line per task, e.g. "item: loss 0.4123  accuracy 0.8512  macro_f1 0.8490".
  std::string str() const {
    std::string out;
    char buf[64];
    for (auto& t : tasks) {
      std::snprintf(buf, sizeof buf, "%.4f", t.loss);
      out += "  " + t.task + ": loss " + buf;
      for (auto& v : t.values) {
        std::snprintf(buf, sizeof buf, "%.4f", v.second);
        out += "  " + v.first + " " + buf;
      }
      out += "\n";
    }
    return out;
  }
};

}  // namespace model
}  // namespace onestone
