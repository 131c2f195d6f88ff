#pragma once
// Shared by the examples that repeat runs over seeds: mean and sample standard deviation.
#include <cmath>
#include <vector>

namespace examples {

/// The mean of `v` (NaN when empty).
inline double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
}

/// The sample standard deviation of `v` (0 with fewer than two values).
inline double sd_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

/// Mean and sample standard deviation of a set of runs.
struct MeanSd {
  double mean = 0, std = 0;
};
inline MeanSd mean_sd(const std::vector<double>& v) { return {mean_of(v), sd_of(v)}; }

}  // namespace examples
