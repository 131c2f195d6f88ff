#pragma once
/// @file cox.hpp
/// `cox_loss`: the negative Cox partial log-likelihood with right censoring over the samples of
/// a batch (Breslow or Efron ties, per-sample weights), an autograd op with an analytic
/// backward in O(N log N).

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/losses/reduction.hpp"

namespace onestone {
namespace losses {

/// How `cox_loss` treats events at the same time: Breslow's approximation (every tied event
/// sees the whole risk set; R's `ties = "breslow"`) or Efron's (the tied events leave the risk
/// set gradually; R's default `ties = "efron"`). Without ties both equal the exact partial
/// likelihood.
enum class CoxTies { Breslow, Efron };

/// Options of `cox_loss`: tie handling, reduction and per-sample weights.
///
/// - `ties(CoxTies::Breslow)` (default) or `CoxTies::Efron`;
/// - `reduction(Reduction::Mean)` (default): the negative log partial likelihood divided by the
///   weighted number of events Σ wᵢδᵢ; `Reduction::Sum`: not divided;
/// - `sample_weight(w)` ([N], not owned, must outlive the forward call): case weights as in R's
///   `coxph(weights = )`. A sample of weight 0 is absent entirely — neither an event nor a member
///   of any risk set — which is how an unlabelled sample (missing survival label) is skipped.
///
/// Example: `CoxOptions<float>().ties(CoxTies::Efron).sample_weight(target.weight)`
template <typename T>
struct CoxOptions {
  CoxOptions& ties(CoxTies t) {
    ties_ = t;
    return *this;
  }
  CoxOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  CoxOptions& sample_weight(const Tensor<T>& w) {
    sample_weight_ = &w;
    return *this;
  }
  CoxTies ties_ = CoxTies::Breslow;
  Reduction reduction_ = Reduction::Mean;
  const Tensor<T>* sample_weight_ = nullptr;
};

namespace detail {

/// Saved state of cox_loss: the gradient of the unscaled loss with respect to each risk score
/// (computed in forward, where the sorted cumulative sums are at hand), and the scale.
template <typename T>
struct CoxOp {
  const T* dloss;  ///< [N] d(unscaled loss)/d risk_j
  Index N;
  T scale;
  const char* name() const { return "cox_loss"; }
  void backward(const autograd::BackwardContext<T>& c) const {
    autograd::GradSink<T> gs = c.input_grad(0);
    if (!gs) return;
    const T g = c.grad_output()[0] * scale;
    autograd::accumulate(gs, autograd::detail::flat(gs.ptr, N),
                         autograd::detail::cflat(dloss, N) * g);
  }
};

/// True for a tensor of N elements laid out as [N] or [N, 1].
template <typename U>
inline bool is_column(const Tensor<U>& x, Index N) {
  return (x.rank() == 1 && x.size(0) == N) || (x.rank() == 2 && x.size(0) == N && x.size(1) == 1);
}

template <typename T>
Var<T> cox_apply(const Var<T>& risk, const Tensor<T>& time, const Tensor<T>& event,
                 const CoxOptions<T>& opt) {
  using namespace autograd::detail;
  const char* name = "cox_loss";
  autograd::Tape<T>& t = risk.tape();
  const Shape& s = risk.shape();
  if (!(s.rank() == 1 || (s.rank() == 2 && s[1] == 1)))
    throw std::invalid_argument(std::string(name) + ": risk scores must be [N] or [N, 1], got " +
                                s.str());
  const Index N = s[0];
  if (!is_column(time, N))
    throw std::invalid_argument(shapes_msg(name, s, time.shape(), "risk and time differ in shape"));
  if (!is_column(event, N))
    throw std::invalid_argument(
        shapes_msg(name, s, event.shape(), "risk and event differ in shape"));
  check_sample_weight(name, opt.sample_weight_, N);
  const T* w = opt.sample_weight_ ? opt.sample_weight_->data() : nullptr;
  for (Index i = 0; i < N; ++i) {
    if (w && w[i] == T(0)) continue;  // absent samples may hold anything (missing labels)
    if (!(time[i] >= T(0)) || !std::isfinite(static_cast<double>(time[i])))
      throw std::invalid_argument(std::string(name) + ": time at position " + std::to_string(i) +
                                  " is " + std::to_string(static_cast<double>(time[i])) +
                                  " (must be finite and >= 0)");
    if (event[i] != T(0) && event[i] != T(1))
      throw std::invalid_argument(std::string(name) + ": event at position " + std::to_string(i) +
                                  " is " + std::to_string(static_cast<double>(event[i])) +
                                  " (must be 1 = event or 0 = censored)");
  }
  const T* eta = risk.data();
  T* dloss = t.arena().template allocate<T>(static_cast<std::size_t>(N ? N : 1));
  Index* order = t.arena().template allocate<Index>(static_cast<std::size_t>(N ? N : 1));
  // Risk-set sum per tie group (stored at the group's first sorted position), in double.
  double* group_sum = t.arena().template allocate<double>(static_cast<std::size_t>(N ? N : 1));
  // Present samples only, sorted by time (ascending).
  Index n = 0;
  double m = -std::numeric_limits<double>::infinity();
  for (Index i = 0; i < N; ++i) {
    dloss[i] = T(0);
    if (w && w[i] == T(0)) continue;
    order[n++] = i;
    m = std::max(m, static_cast<double>(eta[i]));
  }
  std::sort(order, order + n,
            [&](Index a, Index b) { return time[a] < time[b] || (time[a] == time[b] && a < b); });
  auto wt = [&](Index i) { return w ? static_cast<double>(w[i]) : 1.0; };
  // θ_j = w_j exp(η_j − m): exp never overflows; log S adds m back.
  auto theta = [&](Index i) { return wt(i) * std::exp(static_cast<double>(eta[i]) - m); };
  // Descending pass: S(t) = Σ_{t_j >= t} θ_j per tie group.
  double S = 0.0;
  for (Index end = n; end > 0;) {
    Index begin = end - 1;
    while (begin > 0 && time[order[begin - 1]] == time[order[end - 1]]) --begin;
    for (Index k = begin; k < end; ++k) S += theta(order[k]);
    group_sum[begin] = S;
    end = begin;
  }
  // Ascending pass: log-likelihood and dloss_j = θ_j·Σ_{event times t <= t_j} A(t) − [j event
  // at t_j]·θ_j·B(t_j) − δ_j w_j, where for a group with d events of weight sum D_w, tied-event
  // sum E and a = D_w/d: Breslow A = D_w/S, B = 0; Efron A = a Σ_k 1/(S − kE/d),
  // B = a Σ_k (k/d)/(S − kE/d), k = 0..d−1 (R's coxph conventions for weighted Efron).
  const bool efron = opt.ties_ == CoxTies::Efron;
  double loglik = 0.0, events_w = 0.0, cum_a = 0.0;
  for (Index begin = 0; begin < n;) {
    Index end = begin + 1;
    while (end < n && time[order[end]] == time[order[begin]]) ++end;
    double d = 0.0, dw = 0.0, E = 0.0, eta_sum = 0.0;
    for (Index k = begin; k < end; ++k) {
      const Index i = order[k];
      if (event[i] == T(0)) continue;
      d += 1.0;
      dw += wt(i);
      E += theta(i);
      eta_sum += wt(i) * static_cast<double>(eta[i]);
    }
    double B = 0.0;
    if (d > 0.0) {
      const double Sg = group_sum[begin];
      events_w += dw;
      loglik += eta_sum - dw * m;
      if (!efron || d == 1.0) {
        loglik -= dw * std::log(Sg);
        cum_a += dw / Sg;
      } else {
        const double a = dw / d;
        double A = 0.0;
        for (double k = 0.0; k < d; k += 1.0) {
          // max(): guards rounding when the tied events hold all of the risk set.
          const double Sk = std::max(Sg - k / d * E, Sg * 1e-300);
          loglik -= a * std::log(Sk);
          A += a / Sk;
          B += a * (k / d) / Sk;
        }
        cum_a += A;
      }
    }
    for (Index k = begin; k < end; ++k) {
      const Index i = order[k];
      const bool ev = event[i] != T(0);
      const double th = theta(i);
      dloss[i] = static_cast<T>(th * (cum_a - (ev ? B : 0.0)) - (ev ? wt(i) : 0.0));
    }
    begin = end;
  }
  T scale = T(1);
  if (opt.reduction_ == Reduction::Mean)
    scale = events_w > 0.0 ? static_cast<T>(1.0 / events_w) : T(0);
  const int out = make_output(t, Shape{}, risk.requires_grad());
  t.value(out)[0] = static_cast<T>(-loglik) * scale;
  return emit(t, out, CoxOp<T>{dloss, N, scale}, {risk.id()});
}

}  // namespace detail

/// The negative Cox partial log-likelihood of log-hazard scores `risk` ([N] or [N, 1]) for
/// right-censored survival data `time` ([N] or [N, 1], finite, >= 0) and `event` (1 = event
/// observed at `time`, 0 = censored at `time`), over the samples of the batch:
///
///   L = −Σ_{i: δᵢ=1} wᵢ [ηᵢ − log Σ_{j: tⱼ >= tᵢ} wⱼ exp ηⱼ]   (Breslow; Efron: see CoxTies),
///
/// divided by the weighted number of events Σ wᵢδᵢ (`Reduction::Mean`, default; the loss is 0
/// when the batch holds no event) or not (`Reduction::Sum`). A sample censored at the time of
/// an event is in that event's risk set. Only the order of the risk scores within the batch
/// matters, so batches should hold enough events (large batches, or the whole set).
/// Numerically stable (the largest score is subtracted before exponentiating); the gradient is
/// analytic, from one sort by time and cumulative sums (O(N log N), arena buffers only).
///
/// @throws std::invalid_argument for shapes other than [N]/[N, 1] of equal N (naming the
///         shapes), a negative or non-finite time, an event other than 0/1 (naming the
///         position), or bad sample weights. Samples of weight 0 are not checked.
///
/// Example:
/// @code
/// auto loss = onestone::losses::cox_loss(risk, time, event);       // Breslow, mean per event
/// auto efron = onestone::losses::cox_loss(risk, time, event,
///     onestone::losses::CoxOptions<double>().ties(onestone::losses::CoxTies::Efron));
/// @endcode
template <typename T>
inline Var<T> cox_loss(const Var<T>& risk, const Tensor<T>& time, const Tensor<T>& event,
                       const CoxOptions<T>& opt = CoxOptions<T>()) {
  return detail::cox_apply(risk, time, event, opt);
}

/// `cox_loss` on a survival target (a `data::Target<T>`, or any type with the same members):
/// its fields "time" and "event", and its per-sample weights (weight 0 = missing label: the
/// sample is absent). `opt.sample_weight` is ignored here. (A template on the target type, so
/// that the losses layer does not depend on the data layer.)
///
/// Example (a task's loss):
/// @code
/// TaskOptions<float>("survival").head(head).loss(
///     [](const Var<float>& p, const data::Target<float>& t) { return losses::cox_loss(p, t); });
/// @endcode
template <typename T, class SurvivalTarget,
          class = decltype(std::declval<const SurvivalTarget&>().field("time"))>
inline Var<T> cox_loss(const Var<T>& risk, const SurvivalTarget& target,
                       CoxOptions<T> opt = CoxOptions<T>()) {
  opt.sample_weight_ = target.weighted() ? &target.weight : nullptr;
  return detail::cox_apply(risk, target.field("time"), target.field("event"), opt);
}

}  // namespace losses
}  // namespace onestone
