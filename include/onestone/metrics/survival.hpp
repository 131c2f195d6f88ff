#pragma once
/// @file survival.hpp
/// Harrell's concordance index of risk scores against right-censored survival times:
/// `concordance_index` and the `ConcordanceIndex<T>` metric.

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/metrics/metric.hpp"

namespace onestone::metrics {

namespace detail {

/// Harrell's C over plain arrays (n samples; `w` may be null = all 1; samples of weight 0 are
/// skipped). Returns NaN when no pair is comparable. Sorting by time once, then each event
/// against the later samples: O(n log n + n·k) with k the later samples, O(n²) at worst — about
/// 0.1 s for n = 10⁴ (an O(n log n) order-statistics version was not needed for evaluation).
template <typename T>
double harrell_c(const T* risk, const T* time, const T* event, const T* w, Index n,
                 const char* op) {
  std::vector<Index> order;
  order.reserve(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    if (w && !(w[i] > T(0))) continue;
    if (!(time[i] >= T(0)) || !std::isfinite(static_cast<double>(time[i])))
      throw std::invalid_argument(std::string(op) + ": time at position " + std::to_string(i) +
                                  " is " + std::to_string(static_cast<double>(time[i])) +
                                  " (must be finite and >= 0)");
    if (event[i] != T(0) && event[i] != T(1))
      throw std::invalid_argument(std::string(op) + ": event at position " + std::to_string(i) +
                                  " is " + std::to_string(static_cast<double>(event[i])) +
                                  " (must be 1 = event or 0 = censored)");
    order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](Index a, Index b) { return time[a] < time[b]; });
  const std::size_t m = order.size();
  double num = 0.0, den = 0.0;
  std::size_t group_end = 0;
  for (std::size_t a = 0; a < m; ++a) {
    const Index i = order[a];
    if (group_end <= a) {
      group_end = a + 1;
      while (group_end < m && time[order[group_end]] == time[i]) ++group_end;
    }
    if (event[i] == T(0)) continue;
    const double wi = w ? static_cast<double>(w[i]) : 1.0;
    const double ri = static_cast<double>(risk[i]);
    // Same time: only censored samples are comparable (they outlived the event at that time).
    for (std::size_t b = a + 1; b < m; ++b) {
      const Index j = order[b];
      if (b < group_end && event[j] != T(0)) continue;
      const double pw = wi * (w ? static_cast<double>(w[j]) : 1.0);
      const double rj = static_cast<double>(risk[j]);
      den += pw;
      num += ri > rj ? pw : (ri == rj ? 0.5 * pw : 0.0);
    }
    // Censored samples tied with i that sort before it.
    for (std::size_t b = a; b-- > 0 && time[order[b]] == time[i];) {
      const Index j = order[b];
      if (event[j] != T(0)) continue;
      const double pw = wi * (w ? static_cast<double>(w[j]) : 1.0);
      const double rj = static_cast<double>(risk[j]);
      den += pw;
      num += ri > rj ? pw : (ri == rj ? 0.5 * pw : 0.0);
    }
  }
  return den > 0.0 ? num / den : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace detail

/// Harrell's concordance index of risk scores (higher = shorter expected survival) for
/// right-censored data: over the comparable pairs — the sample with the shorter time had an
/// event — the fraction in which that sample has the higher risk; equal risks count 0.5.
///
/// Tied times follow R's `survival::concordance` (and lifelines): two events at the same time
/// are not comparable; an event and a censoring at the same time are (the censored sample
/// outlived the event). With weights, a pair counts wᵢ·wⱼ (as R's `concordance(weights = )`);
/// samples of weight 0 are skipped. 0.5 is chance, 1 a perfect ranking.
///
/// @param risk, time, event  [N] or [N, 1] each; event 1 = observed, 0 = censored
/// @param weight             optional [N] per-sample weights (nullptr = all 1)
/// @returns the C-index, or NaN when no pair is comparable (e.g. no event)
/// @throws std::invalid_argument on size mismatches, negative/non-finite times or events
///         other than 0/1 (naming the position)
///
/// Example:
/// @code
/// double c = onestone::metrics::concordance_index(risk, time, event);
/// @endcode
template <typename T>
double concordance_index(const Tensor<T>& risk, const Tensor<T>& time, const Tensor<T>& event,
                         const Tensor<T>* weight = nullptr) {
  const Index N = risk.numel();
  if (time.numel() != N || event.numel() != N || (weight && weight->numel() != N))
    throw std::invalid_argument("concordance_index: risk " + risk.shape().str() + ", time " +
                                time.shape().str() + ", event " + event.shape().str() +
                                (weight ? ", weight " + weight->shape().str() : std::string()) +
                                " differ in size");
  return detail::harrell_c(risk.data(), time.data(), event.data(),
                           weight ? weight->data() : nullptr, N, "concordance_index");
}

/// Harrell's C-index of a survival task (see `concordance_index`), metric "c_index" (higher is
/// better): the prediction is a risk score per sample ([B] or [B, 1]); the target's fields
/// "time" and "event" hold the labels and its weights mark unlabelled samples (weight 0,
/// skipped). Batches are accumulated and the index is computed over the whole evaluation set
/// in `values()` (pairs across batches count). NaN when no pair is comparable.
///
/// Example:
/// @code
/// TaskOptions<float>("survival").head(head).loss(cox)
///     .metric(std::make_shared<onestone::metrics::ConcordanceIndex<float>>());
/// @endcode
template <class T>
class ConcordanceIndex : public Metric<T> {
 public:
  std::string name() const override { return "c_index"; }
  void reset() override {
    risk_.clear();
    time_.clear();
    event_.clear();
    weight_.clear();
  }
  void update(const Tensor<T>& p, const data::Target<T>& t) override {
    const Tensor<T>& time = t.field("time");
    const Tensor<T>& event = t.field("event");
    const Index B = p.rank() > 0 ? p.size(0) : 0;
    if (p.numel() != B || time.numel() != B || event.numel() != B)
      throw std::invalid_argument("ConcordanceIndex: prediction " + p.shape().str() +
                                  " (expected [B] or [B, 1]), time " + time.shape().str() +
                                  " and event " + event.shape().str() + " do not match");
    for (Index i = 0; i < B; ++i) {
      const T wi = t.weight_of(i);
      if (!(wi > T(0))) continue;
      risk_.push_back(p[i]);
      time_.push_back(time[i]);
      event_.push_back(event[i]);
      weight_.push_back(wi);
    }
  }
  void values(std::vector<MetricValue>& out) const override {
    out.push_back({"c_index",
                   detail::harrell_c(risk_.data(), time_.data(), event_.data(), weight_.data(),
                                     static_cast<Index>(risk_.size()), "ConcordanceIndex"),
                   true});
  }
  std::shared_ptr<Metric<T>> clone() const override { return std::make_shared<ConcordanceIndex>(); }

 private:
  std::vector<T> risk_, time_, event_, weight_;
};

}  // namespace onestone::metrics
