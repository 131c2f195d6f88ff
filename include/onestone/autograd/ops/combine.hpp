#pragma once
/// @file combine.hpp
/// Weighted combinations of several same-shaped variables: `weighted_sum` (one weight per input,
/// as in cross-stitch units) and `mixture` (one weight per input and per row, as in gated
/// mixtures of experts); and `pairwise_distance_penalty` (soft parameter sharing).

#include <initializer_list>
#include <vector>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// The ids of xs (which must share one shape), after an optional leading id `first` (>= 0).
template <typename T>
inline const int* store_ids(Tape<T>& t, const Var<T>* xs, std::size_t n, const char* op,
                            int first = -1) {
  if (n == 0) throw std::invalid_argument(std::string(op) + ": no inputs");
  int* ids = t.arena().template allocate<int>(n + 1);
  ids[0] = first;
  if (first >= 0) ++ids;
  const Shape& s0 = xs[0].shape();
  for (std::size_t k = 0; k < n; ++k) {
    if (&xs[k].tape() != &t)
      throw std::invalid_argument(std::string(op) + ": inputs live on different tapes");
    if (xs[k].shape() != s0)
      throw std::invalid_argument(shapes_msg(op, s0, xs[k].shape(), "inputs must share one shape"));
    ids[k] = xs[k].id();
  }
  return ids;
}

template <typename T>
inline bool any_requires_grad(const Var<T>* xs, std::size_t n) {
  for (std::size_t k = 0; k < n; ++k)
    if (xs[k].requires_grad()) return true;
  return false;
}

/// Saved state of weighted_sum: inputs are (w, x_0, ..., x_{n-1}).
template <typename T>
struct WeightedSumOp {
  const char* name() const { return "weighted_sum"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void WeightedSumOp<T>::backward(const BackwardContext<T>& c) const {
  const int count = c.num_inputs() - 1;
  const Index N = c.output_shape().numel();
  ConstFlatArray<T> g = cflat(c.grad_output(), N);
  const T* W = c.input(0);
  const GradSink<T> gw = c.input_grad(0);
  for (int k = 0; k < count; ++k) {
    if (gw) gw.add(k, (g * cflat(c.input(k + 1), N)).sum());
    const GradSink<T> gx = c.input_grad(k + 1);
    if (gx) accumulate(gx, flat(gx.ptr, N), g * W[k]);
  }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, WeightedSumOp)

/// Saved state of mixture: inputs are (gates, x_0, ..., x_{E-1}).
template <typename T>
struct MixtureOp {
  const char* name() const { return "mixture"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void MixtureOp<T>::backward(const BackwardContext<T>& c) const {
  const Index E = c.num_inputs() - 1;
  const Shape& so = c.output_shape();
  const Index R = so.rows(), C = so.cols();
  ConstMatrixMap<T> G(c.grad_output(), R, C);
  ConstMatrixMap<T> gates(c.input(0), R, E);
  const GradSink<T> gg = c.input_grad(0);
  for (Index e = 0; e < E; ++e) {
    ConstMatrixMap<T> X(c.input(static_cast<int>(e) + 1), R, C);
    if (gg) {
      MatrixMap<T> D(gg.ptr, R, E);
      if (gg.fresh)
        D.col(e) = (G.array() * X.array()).rowwise().sum().matrix();
      else
        D.col(e) += (G.array() * X.array()).rowwise().sum().matrix();
    }
    const GradSink<T> gx = c.input_grad(static_cast<int>(e) + 1);
    if (gx) {
      MatrixMap<T> D(gx.ptr, R, C);
      if (gx.fresh)
        D = (G.array().colwise() * gates.col(e).array()).matrix();
      else
        D.array() += G.array().colwise() * gates.col(e).array();
    }
  }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, MixtureOp)

/// Saved state of pairwise_distance_penalty: the scale and the distance (inputs: the xs).
template <typename T>
struct PairwisePenaltyOp {
  T scale;
  bool l1;
  const char* name() const { return "pairwise_distance_penalty"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void PairwisePenaltyOp<T>::backward(const BackwardContext<T>& c) const {
  const int count = c.num_inputs();
  const Index N = c.input_shape(0).numel();
  const T g = c.grad_output()[0] * scale;
  // Σᵢ Σⱼ d(θᵢ, θⱼ): squared L2 gives ∂/∂θᵢ = 4 (T θᵢ − Σⱼ θⱼ); L1 gives 2 Σⱼ sign(θᵢ − θⱼ).
  T* sum = l1 ? nullptr : c.template scratch<T>(static_cast<std::size_t>(N));
  if (!l1) {
    FlatArray<T> s = flat(sum, N);
    s.setZero();
    for (int k = 0; k < count; ++k) s += cflat(c.input(k), N);
  }
  for (int k = 0; k < count; ++k) {
    GradSink<T> gs = c.input_grad(k);
    if (!gs) continue;
    ConstFlatArray<T> xk = cflat(c.input(k), N);
    FlatArray<T> d = flat(gs.ptr, N);
    if (!l1) {
      accumulate(gs, d, (xk * static_cast<T>(count) - cflat<T>(sum, N)) * (T(4) * g));
    } else {
      gs.zero_if_fresh(N);
      for (int j = 0; j < count; ++j)
        if (j != k) d += (xk - cflat(c.input(j), N)).sign() * (T(2) * g);
    }
  }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, PairwisePenaltyOp)

}  // namespace detail

/// out = Σₖ w[k]·xs[k] for same-shaped xs and a weight vector w of length xs.size().
/// Example (a cross-stitch unit's row): `auto y = weighted_sum({h1, h2}, alpha_row);`
template <typename T>
inline Var<T> weighted_sum(const std::vector<Var<T>>& xs, const Var<T>& w) {
  if (xs.empty()) throw std::invalid_argument("weighted_sum: no inputs");
  Tape<T>& t = detail::common_tape(xs[0], w, "weighted_sum");
  if (w.numel() != static_cast<Index>(xs.size()))
    throw std::invalid_argument("weighted_sum: " + std::to_string(xs.size()) +
                                " inputs but weights of shape " + w.shape().str());
  const int* ids = detail::store_ids(t, xs.data(), xs.size(), "weighted_sum", w.id());
  const Shape s = xs[0].shape();
  const int out = detail::make_output(
      t, s, w.requires_grad() || detail::any_requires_grad(xs.data(), xs.size()));
  const Index N = s.numel();
  detail::FlatArray<T> y = detail::flat(t.value(out), N);
  const T* W = t.value(w.id());
  y = detail::cflat(t.value(ids[0]), N) * W[0];
  for (std::size_t k = 1; k < xs.size(); ++k) y += detail::cflat(t.value(ids[k]), N) * W[k];
  return detail::emit(t, out, detail::WeightedSumOp<T>{}, ids - 1, static_cast<int>(xs.size()) + 1);
}

/// Per-row mixture out[r, :] = Σₑ gates[r, e]·xs[e][r, :] for xs of shape [R, C] and gates
/// [R, E] (E = xs.size()), as in mixture-of-experts layers.
/// Example: `auto y = mixture(expert_outputs, softmax(gate_logits));`
template <typename T>
inline Var<T> mixture(const std::vector<Var<T>>& xs, const Var<T>& gates) {
  if (xs.empty()) throw std::invalid_argument("mixture: no inputs");
  Tape<T>& t = detail::common_tape(xs[0], gates, "mixture");
  const Shape s = xs[0].shape();
  const Index E = static_cast<Index>(xs.size());
  if (gates.shape().rank() != 2 || gates.shape()[0] != s.rows() || gates.shape()[1] != E)
    throw std::invalid_argument("mixture: gates of shape " + gates.shape().str() + " for " +
                                std::to_string(E) + " inputs of shape " + s.str() + " (expected [" +
                                std::to_string(s.rows()) + ", " + std::to_string(E) + "])");
  const int* ids = detail::store_ids(t, xs.data(), xs.size(), "mixture", gates.id());
  const int out = detail::make_output(
      t, s, gates.requires_grad() || detail::any_requires_grad(xs.data(), xs.size()));
  MatrixMap<T> Y = detail::mmat(t, out);
  ConstMatrixMap<T> G = detail::cmat(t, gates.id());
  Y = (detail::cmat(t, ids[0]).array().colwise() * G.col(0).array()).matrix();
  for (Index e = 1; e < E; ++e)
    Y.array() += detail::cmat(t, ids[e]).array().colwise() * G.col(e).array();
  return detail::emit(t, out, detail::MixtureOp<T>{}, ids - 1, static_cast<int>(E) + 1);
}

/// scale · Σᵢ Σⱼ d(xᵢ, xⱼ) over all ordered pairs of same-shaped variables, with d the squared
/// L2 distance (default) or the L1 distance — the soft-sharing penalty.
/// Example: `auto r = pairwise_distance_penalty({w_task0, w_task1}, 1e-3);`
template <typename T>
inline Var<T> pairwise_distance_penalty(const std::vector<Var<T>>& xs,
                                        detail::type_identity_t<T> scale, bool l1 = false) {
  if (xs.size() < 2)
    throw std::invalid_argument("pairwise_distance_penalty: needs two or more inputs");
  Tape<T>& t = xs[0].tape();
  const int* ids = detail::store_ids(t, xs.data(), xs.size(), "pairwise_distance_penalty");
  const Index N = xs[0].numel();
  const Index count = static_cast<Index>(xs.size());
  T total = 0;
  if (!l1) {
    // Σᵢ Σⱼ ‖xᵢ − xⱼ‖² = 2T Σᵢ ‖xᵢ − x̄‖²
    T* mean = t.arena().template allocate<T>(static_cast<std::size_t>(N));
    detail::FlatArray<T> m = detail::flat(mean, N);
    m.setZero();
    for (Index k = 0; k < count; ++k) m += detail::cflat(t.value(ids[k]), N);
    m /= static_cast<T>(count);
    for (Index k = 0; k < count; ++k)
      total += (detail::cflat(t.value(ids[k]), N) - m).square().sum();
    total *= T(2) * static_cast<T>(count);
  } else {
    for (Index i = 0; i < count; ++i)
      for (Index j = i + 1; j < count; ++j)
        total +=
            T(2) *
            (detail::cflat(t.value(ids[i]), N) - detail::cflat(t.value(ids[j]), N)).abs().sum();
  }
  const int out = detail::make_output(t, Shape{}, detail::any_requires_grad(xs.data(), xs.size()));
  t.value(out)[0] = total * scale;
  return detail::emit(t, out, detail::PairwisePenaltyOp<T>{T(scale), l1}, ids,
                      static_cast<int>(count));
}

}  // namespace autograd
using autograd::mixture;
using autograd::pairwise_distance_penalty;
using autograd::weighted_sum;
}  // namespace onestone
