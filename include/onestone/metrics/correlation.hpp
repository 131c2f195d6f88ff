#pragma once
/// @file correlation.hpp
/// `pearson` and `spearman`: the linear and the rank correlation of two equally long series
/// (used to compare affinity matrices with each other and with measured gains).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace onestone {
namespace metrics {

namespace detail {
inline void check_pair(const char* op, const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size())
    throw std::invalid_argument(std::string(op) + ": the series have " + std::to_string(x.size()) +
                                " and " + std::to_string(y.size()) + " values (must be equal)");
  for (std::size_t i = 0; i < x.size(); ++i)
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
      throw std::invalid_argument(std::string(op) + ": value " + std::to_string(i) +
                                  " is NaN or infinite");
}
}  // namespace detail

/// Pearson's correlation of x and y; NaN when fewer than two values or either series is
/// constant. Throws std::invalid_argument on different lengths or non-finite values.
///
/// @code
/// double r = onestone::metrics::pearson({1, 2, 3}, {2, 4, 7});   // ≈ 0.99
/// @endcode
inline double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  detail::check_pair("pearson", x, y);
  const std::size_t n = x.size();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(n);
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

/// The ranks of x (1-based; ties get their mean rank).
///
/// @code
/// auto r = onestone::metrics::ranks({3, 1, 3});   // {2.5, 1, 2.5}
/// @endcode
inline std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), std::size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double mean_rank = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = mean_rank;
    i = j + 1;
  }
  return r;
}

/// Spearman's rank correlation (Pearson's correlation of the ranks, ties at mean rank).
///
/// @code
/// double rho = onestone::metrics::spearman({1, 2, 3}, {10, 20, 15});   // 0.5
/// @endcode
inline double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  detail::check_pair("spearman", x, y);
  return pearson(ranks(x), ranks(y));
}

}  // namespace metrics
}  // namespace onestone
