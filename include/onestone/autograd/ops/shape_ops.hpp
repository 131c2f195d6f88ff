#pragma once
/// @file shape_ops.hpp
/// Shape operations: `reshape` (no copy), `concat` / `narrow` / `split` along the last
/// dimension, and `gather_rows`.

#include <initializer_list>
#include <vector>

#include "onestone/autograd/detail/op_common.hpp"

namespace onestone {
namespace autograd {
namespace detail {

template <typename T>
inline void copy_grad_backward(Tape<T>& t, const Node<T>& n) {
  const GradSink<T> gs = t.sink(n.in[0]);
  if (!gs) return;
  const Index N = t.shape(n.out).numel();
  accumulate(gs, flat(gs.ptr, N), cflat(t.grad_in(n.out), N));
}

template <typename T>
inline void concat_backward(Tape<T>& t, const Node<T>& n) {
  const int* ids = static_cast<const int*>(n.aux);
  const Index count = n.i[0];
  const Shape& so = t.shape(n.out);
  const Index R = so.rows(), C = so.cols();
  ConstMatrixMap<T> G(t.grad_in(n.out), R, C);
  Index off = 0;
  for (Index k = 0; k < count; ++k) {
    const Index c = t.shape(ids[k]).cols();
    const GradSink<T> gs = t.sink(ids[k]);
    if (gs) {
      MatrixMap<T> D(gs.ptr, R, c);
      accumulate(gs, D, G.middleCols(off, c));
    }
    off += c;
  }
}

template <typename T>
inline void narrow_backward(Tape<T>& t, const Node<T>& n) {
  const GradSink<T> gs = t.sink(n.in[0]);
  if (!gs) return;
  const Shape& si = t.shape(n.in[0]);
  const Index R = si.rows(), C = si.cols(), start = n.i[0], len = n.i[1];
  MatrixMap<T> D(gs.ptr, R, C);
  ConstMatrixMap<T> G(t.grad_in(n.out), R, len);
  if (gs.fresh) {
    D.leftCols(start).setZero();
    D.rightCols(C - start - len).setZero();
    D.middleCols(start, len) = G;
  } else {
    D.middleCols(start, len) += G;
  }
}

template <typename T>
inline void gather_rows_backward(Tape<T>& t, const Node<T>& n) {
  const GradSink<T> gs = t.sink(n.in[0]);
  if (!gs) return;
  const Index* idx = static_cast<const Index*>(n.aux);
  const Index K = n.i[0];
  const Shape& si = t.shape(n.in[0]);
  const Index C = si.cols();
  MatrixMap<T> D(gs.ptr, si.rows(), C);
  if (gs.fresh) D.setZero();
  ConstMatrixMap<T> G(t.grad_in(n.out), K, C);
  for (Index k = 0; k < K; ++k) D.row(idx[k]) += G.row(k);
}

template <typename T>
inline Var<T> concat_impl(const Var<T>* xs, std::size_t count) {
  if (count == 0) throw std::invalid_argument("concat: no inputs");
  Tape<T>& t = xs[0].tape();
  const Shape& s0 = xs[0].shape();
  Index C = 0;
  bool rg = false;
  for (std::size_t k = 0; k < count; ++k) {
    const Shape& s = xs[k].shape();
    if (&xs[k].tape() != &t) throw std::invalid_argument("concat: inputs live on different tapes");
    if (s.rank() != s0.rank() || s.rows() != s0.rows() || s.rank() < 1)
      throw std::invalid_argument(
          shapes_msg("concat", s0, s, "inputs must agree on all but the last dimension"));
    for (int d = 0; d + 1 < s.rank(); ++d)
      if (s[d] != s0[d])
        throw std::invalid_argument(
            shapes_msg("concat", s0, s, "inputs must agree on all but the last dimension"));
    C += s.cols();
    rg = rg || xs[k].requires_grad();
  }
  Shape so = s0;
  so.set(so.rank() - 1, C);
  const int out = make_output(t, so, rg);
  const Index R = so.rows();
  MatrixMap<T> Y(t.value(out), R, C);
  int* ids = t.arena().template allocate<int>(count);
  Index off = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const Index c = xs[k].cols();
    ids[k] = xs[k].id();
    Y.middleCols(off, c) = cmat(t, ids[k]);
    off += c;
  }
  record(t, &concat_backward<T>, "concat", out, ids[0], count > 1 ? ids[1] : -1,
         count > 2 ? ids[2] : -1, ids, T(0), T(0), static_cast<Index>(count));
  return Var<T>(&t, out);
}

}  // namespace detail

/// A view of x with another shape of the same element count (no copy).
/// Example: `auto flat = reshape(images, Shape{batch, 784});`
template <typename T>
inline Var<T> reshape(const Var<T>& x, const Shape& shape) {
  Tape<T>& t = x.tape();
  if (shape.numel() != x.numel())
    throw std::invalid_argument(
        detail::shapes_msg("reshape", x.shape(), shape, "element counts differ"));
  const int out = t.alias_var(t.value(x.id()), shape, x.requires_grad());
  detail::record(t, &detail::copy_grad_backward<T>, "reshape", out, x.id());
  return Var<T>(&t, out);
}

/// Concatenation along the last dimension. Example: `auto h = concat({a, b});`
template <typename T>
inline Var<T> concat(std::initializer_list<Var<T>> xs) {
  return detail::concat_impl(xs.begin(), xs.size());
}
template <typename T>
inline Var<T> concat(const std::vector<Var<T>>& xs) {
  return detail::concat_impl(xs.data(), xs.size());
}

/// Columns [start, start + length) of the last dimension.
template <typename T>
inline Var<T> narrow(const Var<T>& x, Index start, Index length) {
  Tape<T>& t = x.tape();
  const Shape& s = x.shape();
  if (s.rank() < 1 || start < 0 || length < 0 || start + length > s.cols())
    throw std::invalid_argument("narrow: columns [" + std::to_string(start) + ", " +
                                std::to_string(start + length) + ") out of range for shape " +
                                s.str());
  Shape so = s;
  so.set(so.rank() - 1, length);
  const int out = detail::make_output(t, so, x.requires_grad());
  MatrixMap<T>(t.value(out), s.rows(), length) = detail::cmat(t, x.id()).middleCols(start, length);
  detail::record(t, &detail::narrow_backward<T>, "narrow", out, x.id(), -1, -1, nullptr, T(0), T(0),
                 start, length);
  return Var<T>(&t, out);
}

/// Splits the last dimension into pieces of the given sizes (which must add up to it).
template <typename T>
inline std::vector<Var<T>> split(const Var<T>& x, const std::vector<Index>& sizes) {
  Index total = 0;
  for (Index s : sizes) total += s;
  if (total != x.cols())
    throw std::invalid_argument("split: sizes add up to " + std::to_string(total) +
                                " but the last dimension of " + x.shape().str() + " is " +
                                std::to_string(x.cols()));
  std::vector<Var<T>> out;
  out.reserve(sizes.size());
  Index off = 0;
  for (Index s : sizes) {
    out.push_back(narrow(x, off, s));
    off += s;
  }
  return out;
}

/// Rows of x [R, C] picked by `index` (values in [0, R)), giving [K, C]; gradients scatter-add.
/// Example (embedding lookup): `auto e = gather_rows(table, token_ids);`
template <typename T>
inline Var<T> gather_rows(const Var<T>& x, const Tensor<Index>& index) {
  Tape<T>& t = x.tape();
  const Shape& s = x.shape();
  if (s.rank() != 2)
    throw std::invalid_argument("gather_rows: expected a [R, C] input, got " + s.str());
  const Index K = index.numel(), R = s[0], C = s[1];
  Index* idx = t.arena().template allocate<Index>(static_cast<std::size_t>(K ? K : 1));
  for (Index k = 0; k < K; ++k) {
    const Index v = index[k];
    if (v < 0 || v >= R)
      throw std::invalid_argument("gather_rows: index " + std::to_string(v) + " at position " +
                                  std::to_string(k) + " out of range for " + s.str());
    idx[k] = v;
  }
  const int out = detail::make_output(t, Shape{K, C}, x.requires_grad());
  MatrixMap<T> Y(t.value(out), K, C);
  ConstMatrixMap<T> X = detail::cmat(t, x.id());
  for (Index k = 0; k < K; ++k) Y.row(k) = X.row(idx[k]);
  detail::record(t, &detail::gather_rows_backward<T>, "gather_rows", out, x.id(), -1, -1, idx, T(0),
                 T(0), K);
  return Var<T>(&t, out);
}

}  // namespace autograd
using autograd::concat;
using autograd::gather_rows;
using autograd::narrow;
using autograd::reshape;
using autograd::split;
}  // namespace onestone
