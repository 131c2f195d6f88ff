#pragma once
/// @file softmax.hpp
/// `softmax` and `log_softmax` over the last dimension (numerically stable).

#include "onestone/autograd/detail/op_common.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// Row-wise log-softmax of X into Y (stable: subtracts the row maximum).
template <typename T>
inline void log_softmax_rows(ConstMatrixMap<T> X, MatrixMap<T> Y) {
  for (Index r = 0; r < X.rows(); ++r) {
    const T m = X.row(r).maxCoeff();
    const T lse = m + std::log((X.row(r).array() - m).exp().sum());
    Y.row(r).array() = X.row(r).array() - lse;
  }
}

template <typename T>
inline void softmax_backward(Tape<T>& t, const Node<T>& n) {
  const GradSink<T> gs = t.sink(n.in[0]);
  if (!gs) return;
  const Shape& s = t.shape(n.out);
  ConstMatrixMap<T> Y = cmat(t, n.out);
  ConstMatrixMap<T> G(t.grad_in(n.out), s.rows(), s.cols());
  MatrixMap<T> D(gs.ptr, s.rows(), s.cols());
  const bool log_form = n.i[0] != 0;
  for (Index r = 0; r < s.rows(); ++r) {
    if (log_form) {
      const T gsum = G.row(r).sum();
      if (gs.fresh)
        D.row(r).array() = G.row(r).array() - Y.row(r).array().exp() * gsum;
      else
        D.row(r).array() += G.row(r).array() - Y.row(r).array().exp() * gsum;
    } else {
      const T dot = G.row(r).dot(Y.row(r));
      if (gs.fresh)
        D.row(r).array() = Y.row(r).array() * (G.row(r).array() - dot);
      else
        D.row(r).array() += Y.row(r).array() * (G.row(r).array() - dot);
    }
  }
}

template <typename T>
inline Var<T> softmax_impl(const Var<T>& x, bool log_form) {
  const char* name = log_form ? "log_softmax" : "softmax";
  Tape<T>& t = x.tape();
  if (x.shape().rank() < 1) throw std::invalid_argument(std::string(name) + ": needs rank >= 1");
  const int out = make_output(t, x.shape(), x.requires_grad());
  MatrixMap<T> Y = mmat(t, out);
  log_softmax_rows<T>(cmat(t, x.id()), Y);
  if (!log_form) Y.array() = Y.array().exp();
  record(t, &softmax_backward<T>, name, out, x.id(), -1, -1, nullptr, T(0), T(0), log_form ? 1 : 0);
  t.check_forward(out, name);
  return Var<T>(&t, out);
}

}  // namespace detail

/// Softmax over the last dimension.
template <typename T>
inline Var<T> softmax(const Var<T>& x) {
  return detail::softmax_impl(x, false);
}
/// Log-softmax over the last dimension (stable).
template <typename T>
inline Var<T> log_softmax(const Var<T>& x) {
  return detail::softmax_impl(x, true);
}

}  // namespace autograd
using autograd::log_softmax;
using autograd::softmax;
}  // namespace onestone
