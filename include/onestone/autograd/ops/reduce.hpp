#pragma once
/// @file reduce.hpp
/// Reductions: `sum`, `mean`, `max`, `min` over all elements or along one axis (keepdim or not),
/// `logsumexp` along an axis, and `argmax` (indices, no gradient).

#include <cmath>
#include <limits>
#include <vector>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// The output shape of a reduction of `s` along `axis`.
inline Shape reduced_shape(const Shape& s, int axis, bool keepdim) {
  if (keepdim) {
    Shape o = s;
    o.set(axis, 1);
    return o;
  }
  return s.without(axis);
}

/// sum / mean over all elements; saved: the scale (1 or 1/N).
template <typename T>
struct ReduceAllOp {
  T scale;
  bool is_mean;
  const char* name() const { return is_mean ? "mean" : "sum"; }
  static Var<T> apply(const Var<T>& x, bool mean);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
Var<T> ReduceAllOp<T>::apply(const Var<T>& x, bool mean) {
  Tape<T>& t = x.tape();
  const Index N = x.numel();
  const int out = make_output(t, Shape{}, x.requires_grad());
  const T s = cflat(x.data(), N).sum();
  const T scale = mean ? T(1) / static_cast<T>(N ? N : 1) : T(1);
  t.value(out)[0] = s * scale;
  return emit(t, out, ReduceAllOp{scale, mean}, {x.id()});
}

template <typename T>
void ReduceAllOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  const Index N = c.input_shape(0).numel();
  const T g = c.grad_output()[0] * scale;
  FlatArray<T> d = flat(gs.ptr, N);
  if (gs.fresh)
    d.setConstant(g);
  else
    d += g;
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, ReduceAllOp)

/// sum / mean along an axis; saved: the split outer × len × inner and the scale.
template <typename T>
struct ReduceAxisOp {
  Index outer, len, inner;
  T scale;
  bool is_mean;
  const char* name() const { return is_mean ? "mean" : "sum"; }
  static Var<T> apply(const Var<T>& x, int axis, bool keepdim, bool mean);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
Var<T> ReduceAxisOp<T>::apply(const Var<T>& x, int axis, bool keepdim, bool mean) {
  const char* name = mean ? "mean" : "sum";
  Tape<T>& t = x.tape();
  const Shape& sx = x.shape();
  const int ax = normalize_axis(name, axis, sx);
  Index outer, len, inner;
  axis_split(sx, ax, outer, len, inner);
  const int out = make_output(t, reduced_shape(sx, ax, keepdim), x.requires_grad());
  const T scale = mean ? T(1) / static_cast<T>(len ? len : 1) : T(1);
  const T* X = x.data();
  T* Y = t.value(out);
  if (inner == 1) {
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(Y, outer).noalias() =
        ConstMatrixMap<T>(X, outer, len).rowwise().sum() * scale;
  } else {
    for (Index o = 0; o < outer; ++o) {
      ConstMatrixMap<T> xs(X + o * len * inner, len, inner);
      MatrixMap<T> y(Y + o * inner, 1, inner);
      y.noalias() = xs.colwise().sum() * scale;
    }
  }
  return emit(t, out, ReduceAxisOp{outer, len, inner, scale, mean}, {x.id()});
}

template <typename T>
void ReduceAxisOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  const T* G = c.grad_output();
  if (inner == 1) {  // each output spreads over one contiguous row of len
    for (Index o = 0; o < outer; ++o) {
      FlatArray<T> d = flat(gs.ptr + o * len, len);
      if (gs.fresh)
        d.setConstant(G[o] * scale);
      else
        d += G[o] * scale;
    }
    return;
  }
  for (Index o = 0; o < outer; ++o) {
    ConstFlatArray<T> g = cflat(G + o * inner, inner);
    for (Index l = 0; l < len; ++l)
      accumulate(gs, flat(gs.ptr + (o * len + l) * inner, inner), g * scale);
  }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, ReduceAxisOp)

/// max / min along an axis (or over everything); saved: the position along the axis of the
/// chosen element of each output.
template <typename T>
struct ExtremumOp {
  Index outer, len, inner;
  const Index* arg;  ///< [outer·inner] positions along the axis (arena)
  bool is_min;
  const char* name() const { return is_min ? "min" : "max"; }
  static Var<T> apply(const Var<T>& x, int axis, bool keepdim, bool is_min, bool all);
  /// Positions of the maxima along `axis` (argmax).
  static Tensor<Index> argmax(const Var<T>& x, int axis);
  /// Arg-max (or min) along the axis of an outer × len × inner view; NaN wins (it propagates).
  static void scan(const T* X, Index outer, Index len, Index inner, bool is_min, T* Y, Index* arg);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void ExtremumOp<T>::scan(const T* X, Index outer, Index len, Index inner, bool is_min, T* Y,
                         Index* arg) {
  for (Index o = 0; o < outer; ++o) {
    const T* base = X + o * len * inner;
    for (Index i = 0; i < inner; ++i) {
      Index best = 0;
      T m = base[i];
      for (Index l = 1; l < len && m == m; ++l) {
        const T v = base[l * inner + i];
        if ((is_min ? v < m : v > m) || v != v) {
          m = v;
          best = l;
        }
      }
      Y[o * inner + i] = m;
      arg[o * inner + i] = best;
    }
  }
}

template <typename T>
Var<T> ExtremumOp<T>::apply(const Var<T>& x, int axis, bool keepdim, bool is_min, bool all) {
  const char* name = is_min ? "min" : "max";
  Tape<T>& t = x.tape();
  const Shape& sx = x.shape();
  if (sx.numel() == 0)
    throw std::invalid_argument(std::string(name) + ": empty input of shape " + sx.str());
  Index outer = 1, len = sx.numel(), inner = 1;
  Shape so;
  if (!all) {
    const int ax = normalize_axis(name, axis, sx);
    axis_split(sx, ax, outer, len, inner);
    so = reduced_shape(sx, ax, keepdim);
  }
  const int out = make_output(t, so, x.requires_grad());
  Index* arg = t.arena().template allocate<Index>(static_cast<std::size_t>(outer * inner));
  scan(x.data(), outer, len, inner, is_min, t.value(out), arg);
  return emit(t, out, ExtremumOp{outer, len, inner, arg, is_min}, {x.id()});
}

template <typename T>
Tensor<Index> ExtremumOp<T>::argmax(const Var<T>& x, int axis) {
  const Shape& sx = x.shape();
  const int ax = normalize_axis("argmax", axis, sx);
  Index outer, len, inner;
  axis_split(sx, ax, outer, len, inner);
  if (len == 0) throw std::invalid_argument("argmax: axis of length 0 in shape " + sx.str());
  Tensor<Index> out(sx.without(ax));
  std::vector<T> vals(static_cast<std::size_t>(outer * inner));
  scan(x.data(), outer, len, inner, false, vals.data(), out.data());
  return out;
}

template <typename T>
void ExtremumOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  gs.zero_if_fresh(outer * len * inner);
  const T* G = c.grad_output();
  for (Index o = 0; o < outer; ++o)
    for (Index i = 0; i < inner; ++i)
      gs.ptr[(o * len + arg[o * inner + i]) * inner + i] += G[o * inner + i];
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, ExtremumOp)

/// logsumexp along an axis (saved: the split around it).
template <typename T>
struct LogSumExpOp {
  Index outer, len, inner;
  const char* name() const { return "logsumexp"; }
  static Var<T> apply(const Var<T>& x, int axis, bool keepdim);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
Var<T> LogSumExpOp<T>::apply(const Var<T>& x, int axis, bool keepdim) {
  Tape<T>& t = x.tape();
  const Shape& sx = x.shape();
  const int ax = normalize_axis("logsumexp", axis, sx);
  Index outer, len, inner;
  axis_split(sx, ax, outer, len, inner);
  const int out = make_output(t, reduced_shape(sx, ax, keepdim), x.requires_grad());
  const T* X = x.data();
  T* Y = t.value(out);
  for (Index o = 0; o < outer; ++o)
    for (Index i = 0; i < inner; ++i) {
      const T* p = X + o * len * inner + i;
      T m = -std::numeric_limits<T>::infinity();
      for (Index l = 0; l < len; ++l) {
        const T v = p[l * inner];
        m = v > m || v != v ? v : m;
      }
      const T shift = std::isinf(m) ? T(0) : m;
      T s = 0;
      for (Index l = 0; l < len; ++l) s += std::exp(p[l * inner] - shift);
      Y[o * inner + i] = shift + std::log(s);
    }
  return emit(t, out, LogSumExpOp{outer, len, inner}, {x.id()});
}

template <typename T>
void LogSumExpOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  const T* X = c.input(0);
  const T* Y = c.output();
  const T* G = c.grad_output();
  for (Index o = 0; o < outer; ++o)
    for (Index l = 0; l < len; ++l) {
      const Index base = (o * len + l) * inner;
      for (Index i = 0; i < inner; ++i) {
        const Index r = o * inner + i;
        gs.add(base + i, G[r] * std::exp(X[base + i] - Y[r]));
      }
    }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, LogSumExpOp)

}  // namespace detail

/// Sum of all elements (a one-element result).
template <typename T>
inline Var<T> sum(const Var<T>& x) {
  return detail::ReduceAllOp<T>::apply(x, false);
}
/// Mean of all elements.
template <typename T>
inline Var<T> mean(const Var<T>& x) {
  return detail::ReduceAllOp<T>::apply(x, true);
}
/// Sum along `axis` (negative counts from the end); `keepdim` keeps it with size 1.
/// Example: for x [32, 10], `sum(x, 1)` is [32] and `sum(x, 0, true)` is [1, 10].
template <typename T>
inline Var<T> sum(const Var<T>& x, int axis, bool keepdim = false) {
  return detail::ReduceAxisOp<T>::apply(x, axis, keepdim, false);
}
/// Mean along `axis`; see `sum(x, axis, keepdim)`.
template <typename T>
inline Var<T> mean(const Var<T>& x, int axis, bool keepdim = false) {
  return detail::ReduceAxisOp<T>::apply(x, axis, keepdim, true);
}
/// Maximum along `axis`; the gradient goes to the first maximal element (NaN propagates).
/// Example: for x [B, T, C], `max(x, 1)` is [B, C] (max pooling over time).
template <typename T>
inline Var<T> max(const Var<T>& x, int axis, bool keepdim = false) {
  return detail::ExtremumOp<T>::apply(x, axis, keepdim, false, false);
}
/// Minimum along `axis`; see `max(x, axis, keepdim)`.
template <typename T>
inline Var<T> min(const Var<T>& x, int axis, bool keepdim = false) {
  return detail::ExtremumOp<T>::apply(x, axis, keepdim, true, false);
}
/// Maximum of all elements (a one-element result).
template <typename T>
inline Var<T> max(const Var<T>& x) {
  return detail::ExtremumOp<T>::apply(x, 0, false, false, true);
}
/// Minimum of all elements.
template <typename T>
inline Var<T> min(const Var<T>& x) {
  return detail::ExtremumOp<T>::apply(x, 0, false, true, true);
}

/// log Σ exp(x) along `axis`, computed stably as m + log Σ exp(x − m) with m the maximum
/// (−∞ when every element is −∞).
template <typename T>
inline Var<T> logsumexp(const Var<T>& x, int axis, bool keepdim = false) {
  return detail::LogSumExpOp<T>::apply(x, axis, keepdim);
}

/// Positions of the maxima along `axis` (first one on ties), without gradient: shape of x
/// without `axis`. Example: `argmax(logits, -1)` gives the predicted classes.
template <typename T>
inline Tensor<Index> argmax(const Var<T>& x, int axis) {
  return detail::ExtremumOp<T>::argmax(x, axis);
}

}  // namespace autograd
using autograd::argmax;
using autograd::logsumexp;
using autograd::max;
using autograd::mean;
using autograd::min;
using autograd::sum;
}  // namespace onestone
