#pragma once
/// @file reduce.hpp
/// Reductions: `sum` and `mean` over all elements or along one axis.

#include "onestone/autograd/detail/op_common.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// Splits a shape around `axis` into outer × len × inner.
inline void axis_split(const Shape& s, int axis, Index& outer, Index& len, Index& inner) {
  outer = 1;
  inner = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  len = s[axis];
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
}

template <typename T>
inline void reduce_all_backward(Tape<T>& t, const Node<T>& n) {
  const GradSink<T> gs = t.sink(n.in[0]);
  if (!gs) return;
  const Index N = t.shape(n.in[0]).numel();
  const T g = t.grad_in(n.out)[0] * n.s[0];
  FlatArray<T> d = flat(gs.ptr, N);
  if (gs.fresh)
    d.setConstant(g);
  else
    d += g;
}

template <typename T>
inline void reduce_axis_backward(Tape<T>& t, const Node<T>& n) {
  const GradSink<T> gs = t.sink(n.in[0]);
  if (!gs) return;
  const Index outer = n.i[0], len = n.i[1], inner = t.shape(n.out).numel() / (outer ? outer : 1);
  const T scale = n.s[0];
  const T* G = t.grad_in(n.out);
  for (Index o = 0; o < outer; ++o) {
    Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>> g(G + o * inner, inner);
    MatrixMap<T> d(gs.ptr + o * len * inner, len, inner);
    if (gs.fresh)
      d = (g * scale).replicate(len, 1);
    else
      d.rowwise() += g * scale;
  }
}

template <typename T>
inline Var<T> reduce_all(const Var<T>& x, bool mean) {
  Tape<T>& t = x.tape();
  const Index N = x.numel();
  const int out = make_output(t, Shape{}, x.requires_grad());
  const T s = cflat(t.value(x.id()), N).sum();
  const T scale = mean ? T(1) / static_cast<T>(N ? N : 1) : T(1);
  t.value(out)[0] = s * scale;
  record(t, &reduce_all_backward<T>, mean ? "mean" : "sum", out, x.id(), -1, -1, nullptr, scale);
  t.check_forward(out, mean ? "mean" : "sum");
  return Var<T>(&t, out);
}

template <typename T>
inline Var<T> reduce_axis(const Var<T>& x, int axis, bool keepdim, bool mean) {
  const char* name = mean ? "mean" : "sum";
  Tape<T>& t = x.tape();
  const Shape& sx = x.shape();
  const int r = sx.rank();
  const int ax = axis < 0 ? axis + r : axis;
  if (ax < 0 || ax >= r)
    throw std::invalid_argument(std::string(name) + ": axis " + std::to_string(axis) +
                                " out of range for shape " + sx.str());
  Index outer, len, inner;
  axis_split(sx, ax, outer, len, inner);
  Shape so;
  for (int i = 0; i < r; ++i) {
    if (i == ax) {
      if (keepdim) so.push_back(1);
    } else {
      so.push_back(sx[i]);
    }
  }
  const int out = make_output(t, so, x.requires_grad());
  const T scale = mean ? T(1) / static_cast<T>(len ? len : 1) : T(1);
  const T* X = t.value(x.id());
  T* Y = t.value(out);
  for (Index o = 0; o < outer; ++o) {
    ConstMatrixMap<T> xs(X + o * len * inner, len, inner);
    MatrixMap<T> y(Y + o * inner, 1, inner);
    y.noalias() = xs.colwise().sum() * scale;
  }
  record(t, &reduce_axis_backward<T>, name, out, x.id(), -1, -1, nullptr, scale, T(0), outer, len);
  t.check_forward(out, name);
  return Var<T>(&t, out);
}

}  // namespace detail

/// Sum of all elements (a one-element result).
template <typename T>
inline Var<T> sum(const Var<T>& x) {
  return detail::reduce_all(x, false);
}
/// Mean of all elements.
template <typename T>
inline Var<T> mean(const Var<T>& x) {
  return detail::reduce_all(x, true);
}
/// Sum along `axis` (negative counts from the end); `keepdim` keeps it with size 1.
/// Example: for x [32, 10], `sum(x, 1)` is [32] and `sum(x, 0, true)` is [1, 10].
template <typename T>
inline Var<T> sum(const Var<T>& x, int axis, bool keepdim = false) {
  return detail::reduce_axis(x, axis, keepdim, false);
}
/// Mean along `axis`; see `sum(x, axis, keepdim)`.
template <typename T>
inline Var<T> mean(const Var<T>& x, int axis, bool keepdim = false) {
  return detail::reduce_axis(x, axis, keepdim, true);
}

}  // namespace autograd
using autograd::mean;
using autograd::sum;
}  // namespace onestone
