#pragma once
/// @file softmax.hpp
/// `softmax` and `log_softmax` along any axis (default the last), numerically stable:
/// log_softmax(x) = (x − m) − log Σ exp(x − m) with m the maximum, so small losses keep their
/// digits.

#include <algorithm>
#include <cmath>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// log Σᵢ exp(yᵢ) for shifted values y = x − max(x) (so every yᵢ ≤ 0), as log1p of the sum
/// without the maximal term: the terms below the maximum keep their digits even when they are
/// far below 1 (a confident prediction's loss of 1e-20 stays 1e-20, not 0). NaN propagates.
template <typename A>
inline typename A::Scalar log_sum_exp_shifted(const A& y) {
  using S = typename A::Scalar;
  const S zeros = static_cast<S>((y == S(0)).count());
  const S rest = (y < S(0)).select(y.exp(), (y == S(0)).select(S(0), y)).sum();
  return std::log1p(rest + (zeros - S(1)));
}

/// Row-wise log-softmax of X into Y (rows of the last dimension): (x − m) − log Σ exp(x − m).
template <typename T>
inline void log_softmax_rows(ConstMatrixMap<T> X, MatrixMap<T> Y) {
  for (Index r = 0; r < X.rows(); ++r) {
    const T m = X.row(r).maxCoeff();
    Y.row(r).array() = X.row(r).array() - m;
    const T lse = log_sum_exp_shifted(Y.row(r).array());
    Y.row(r).array() -= lse;
  }
}

/// Log-softmax along the middle axis of an outer × len × inner view (inner > 1), using `tmp`
/// (2·inner values) as scratch.
template <typename T>
inline void log_softmax_strided(const T* X, Index outer, Index len, Index inner, T* Y, T* tmp) {
  Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>> acc(tmp, inner), zeros(tmp + inner, inner);
  using Arr = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  for (Index o = 0; o < outer; ++o) {
    Eigen::Map<const Arr> x(X + o * len * inner, len, inner);
    Eigen::Map<Arr> y(Y + o * len * inner, len, inner);
    acc = x.colwise().maxCoeff();
    y = x.rowwise() - acc;
    zeros = (y == T(0)).template cast<T>().colwise().sum();
    acc = (y < T(0)).select(y.exp(), (y == T(0)).select(T(0), y)).colwise().sum();
    acc = (acc + (zeros - T(1))).log1p();
    y.rowwise() -= acc;
  }
}

/// softmax / log_softmax along an axis; saved: the split around the axis.
template <typename T>
struct SoftmaxOp {
  Index outer, len, inner;
  bool log_form;
  const char* name() const { return log_form ? "log_softmax" : "softmax"; }
  static Var<T> apply(const Var<T>& x, int axis, bool log_form);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
Var<T> SoftmaxOp<T>::apply(const Var<T>& x, int axis, bool log_form) {
  const char* name = log_form ? "log_softmax" : "softmax";
  Tape<T>& t = x.tape();
  const Shape& s = x.shape();
  const int ax = normalize_axis(name, axis, s);
  Index outer, len, inner;
  axis_split(s, ax, outer, len, inner);
  const int out = make_output(t, s, x.requires_grad());
  T* Y = t.value(out);
  if (inner == 1 && !log_form) {
    // softmax over contiguous rows: exp(x − max) / Σ, vectorized, rows split across threads.
    const T* X = x.data();
    onestone::detail::parallel_ranges(
        outer, std::max<Index>(1, onestone::detail::kParallelElements / std::max<Index>(1, len)),
        [&](Index lo, Index hi) {
          for (Index r = lo; r < hi; ++r) {
            Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>> xr(X + r * len, len);
            Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>> yr(Y + r * len, len);
            const T m = len > 0 ? xr.maxCoeff() : T(0);
            yr = (xr - m).exp();
            yr *= T(1) / yr.sum();
          }
        });
    return emit(t, out, SoftmaxOp{outer, len, inner, log_form}, {x.id()});
  }
  if (inner == 1) {
    MatrixMap<T> Ym(Y, outer, len);
    log_softmax_rows<T>(ConstMatrixMap<T>(x.data(), outer, len), Ym);
  } else {
    log_softmax_strided(x.data(), outer, len, inner, Y,
                        t.arena().template allocate<T>(static_cast<std::size_t>(2 * inner)));
  }
  if (!log_form) flat(Y, s.numel()) = cflat(Y, s.numel()).exp();
  return emit(t, out, SoftmaxOp{outer, len, inner, log_form}, {x.id()});
}

template <typename T>
void SoftmaxOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  const T* Yp = c.output();
  const T* Gp = c.grad_output();
  if (inner == 1) {
    ConstMatrixMap<T> Y(Yp, outer, len), G(Gp, outer, len);
    MatrixMap<T> D(gs.ptr, outer, len);
    onestone::detail::parallel_ranges(
        outer, std::max<Index>(1, onestone::detail::kParallelElements / std::max<Index>(1, len)),
        [&](Index lo, Index hi) {
          for (Index r = lo; r < hi; ++r) {
            if (log_form) {
              const T gsum = G.row(r).sum();
              accumulate(gs, D.row(r).array(), G.row(r).array() - Y.row(r).array().exp() * gsum);
            } else {
              const T dot = G.row(r).dot(Y.row(r));
              accumulate(gs, D.row(r).array(), Y.row(r).array() * (G.row(r).array() - dot));
            }
          }
        });
    return;
  }
  using Arr = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>> acc(c.template scratch<T>(inner), inner);
  for (Index o = 0; o < outer; ++o) {
    const Index off = o * len * inner;
    Eigen::Map<const Arr> y(Yp + off, len, inner), g(Gp + off, len, inner);
    Eigen::Map<Arr> d(gs.ptr + off, len, inner);
    if (log_form) {
      acc = g.colwise().sum();
      accumulate(gs, d, g - y.exp().rowwise() * acc);
    } else {
      acc = (g * y).colwise().sum();
      accumulate(gs, d, y * (g.rowwise() - acc));
    }
  }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, SoftmaxOp)

}  // namespace detail

/// Softmax along `axis` (default: the last).
/// Example: attention weights `softmax(scores, -1)`; per-pixel class probabilities
/// `softmax(logits, 1)` for logits [B, C, H, W].
template <typename T>
inline Var<T> softmax(const Var<T>& x, int axis = -1) {
  return detail::SoftmaxOp<T>::apply(x, axis, false);
}
/// Log-softmax along `axis` (default: the last), stable.
template <typename T>
inline Var<T> log_softmax(const Var<T>& x, int axis = -1) {
  return detail::SoftmaxOp<T>::apply(x, axis, true);
}

}  // namespace autograd
using autograd::log_softmax;
using autograd::softmax;
}  // namespace onestone
