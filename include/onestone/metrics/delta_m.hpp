#pragma once
/// @file delta_m.hpp
/// Δm: the average relative gain of a multi-task model over single-task baselines (Maninis et
/// al. 2019; Vandenhende et al. 2021).

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace onestone::metrics {

/// One term of Δm: a metric of a task, its value for the multi-task model and for the
/// single-task baseline, its direction, and the signed relative gain in percent,
/// (−1)^l (M_mtl − M_single) / M_single × 100 with l = 1 when lower is better.
struct DeltaMTerm {
  std::string task, metric;
  double mtl = 0, single = 0;
  bool higher_is_better = true;
  double gain_percent = 0;
};

/// The signed relative gain of one metric in percent (positive = the multi-task model is
/// better). Throws std::invalid_argument when the baseline is 0 or a value is not finite.
///
/// Example: `relative_gain(0.90, 0.88, true)` is +2.27 (accuracy), `relative_gain(0.5, 0.4,
/// false)` is −25 (an error that grew).
inline double relative_gain(double mtl, double single, bool higher_is_better) {
  if (!std::isfinite(mtl) || !std::isfinite(single) || single == 0.0)
    throw std::invalid_argument("delta_m: cannot take a relative gain of " + std::to_string(mtl) +
                                " over the baseline " + std::to_string(single) +
                                " (the baseline must be finite and non-zero)");
  const double rel = (mtl - single) / single * 100.0;
  return higher_is_better ? rel : -rel;
}

/// Δm = (1/K) Σ_k (−1)^{l_k} (M_mtl,k − M_single,k) / M_single,k × 100 over the given terms
/// (their `gain_percent` is filled in). With one term per task this is the per-task Δm of
/// Maninis et al.; with every metric of every task it is the per-metric average some papers
/// report — say which one you use.
///
/// Example:
/// @code
/// std::vector<onestone::metrics::DeltaMTerm> terms = {
///     {"left", "accuracy", 0.83, 0.82, true}, {"right", "accuracy", 0.80, 0.81, true}};
/// double dm = onestone::metrics::delta_m(terms);   // (1.22 − 1.23) / 2 ≈ −0.006
/// @endcode
inline double delta_m(std::vector<DeltaMTerm>& terms) {
  if (terms.empty()) throw std::invalid_argument("delta_m: no terms");
  double sum = 0;
  for (auto& t : terms) {
    t.gain_percent = relative_gain(t.mtl, t.single, t.higher_is_better);
    sum += t.gain_percent;
  }
  return sum / static_cast<double>(terms.size());
}

}  // namespace onestone::metrics
