#pragma once
/// @file delta_m.hpp
/// Δm of a multi-task model's evaluation against single-task baselines' evaluations.

#include <algorithm>
#include <string>
#include <vector>

#include "onestone/metrics/delta_m.hpp"
#include "onestone/model/eval_report.hpp"

namespace onestone {
namespace model {

/// Which metrics Δm averages: each task's primary metric (one term per task, Maninis et al.'s
/// definition; default) or every metric every task reports (one term per metric, as some papers
/// do). The loss is never a term unless a task reports no metric.
enum class DeltaMTerms { PrimaryMetric, AllMetrics };

/// The terms of Δm of `mtl` against `single` (one report holding every task's single-task
/// baseline; see `merge_reports`). Every task of `mtl` must be in `single` with the same
/// metrics.
inline std::vector<metrics::DeltaMTerm> delta_m_terms(
    const EvalReport& mtl, const EvalReport& single,
    DeltaMTerms which = DeltaMTerms::PrimaryMetric) {
  std::vector<metrics::DeltaMTerm> terms;
  for (const auto& t : mtl.tasks) {
    const TaskMetrics& s = single.task(t.task);
    if (which == DeltaMTerms::PrimaryMetric || t.values.empty()) {
      const std::string m = t.primary_name();
      terms.push_back({t.task, m, t.primary_value(), s.get(m),
                       m == "loss" ? false : t.higher_is_better(m), 0.0});
    } else {
      for (std::size_t k = 0; k < t.values.size(); ++k)
        terms.push_back({t.task, t.values[k].first, t.values[k].second, s.get(t.values[k].first),
                         k < t.higher.size() ? bool(t.higher[k]) : true, 0.0});
    }
  }
  return terms;
}

/// Δm in percent of a multi-task evaluation against the single-task baselines' (positive: the
/// multi-task model is better on average). See `metrics::delta_m`.
///
/// Example:
/// @code
/// auto mtl = model.evaluate(test_loader);
/// auto single = onestone::model::merge_reports({left_only.evaluate(test_loader),
///                                               right_only.evaluate(test_loader)});
/// double dm = onestone::model::delta_m(mtl, single);
/// @endcode
inline double delta_m(const EvalReport& mtl, const EvalReport& single,
                      DeltaMTerms which = DeltaMTerms::PrimaryMetric) {
  auto terms = delta_m_terms(mtl, single, which);
  return metrics::delta_m(terms);
}

/// One report with the tasks of several (e.g. each single-task baseline's report).
inline EvalReport merge_reports(const std::vector<EvalReport>& reports) {
  EvalReport out;
  for (const auto& r : reports) {
    for (const auto& t : r.tasks) out.tasks.push_back(t);
    out.samples = std::max(out.samples, r.samples);
  }
  return out;
}

}  // namespace model
}  // namespace onestone
