#pragma once
/// @file linalg.hpp
/// Matrix products: `matmul` and the fused `linear` (x·Wᵀ + b).

#include "onestone/autograd/detail/gemm.hpp"
#include "onestone/autograd/detail/op_common.hpp"

namespace onestone {
namespace autograd {
namespace detail {

template <typename T>
inline void matmul_backward(Tape<T>& t, const Node<T>& n) {
  const int a = n.in[0], b = n.in[1];
  ConstMatrixMap<T> G(t.grad_in(n.out), t.shape(n.out).rows(), t.shape(n.out).cols());
  const Index R = t.shape(a).rows(), K = t.shape(a).cols(), C = t.shape(b).cols();
  // dA = G·Bᵀ, dB = Aᵀ·G
  if (auto ga = t.sink(a))
    gemm<T>(R, K, C, G.data(), C, false, t.value(b), C, true, ga.ptr, K, !ga.fresh);
  if (auto gb = t.sink(b))
    gemm<T>(K, C, R, t.value(a), K, true, G.data(), C, false, gb.ptr, C, !gb.fresh);
}

template <typename T>
inline void linear_backward(Tape<T>& t, const Node<T>& n) {
  const int x = n.in[0], w = n.in[1], b = n.in[2];
  const Index R = t.shape(x).rows(), K = t.shape(x).cols(), O = t.shape(w)[0];
  ConstMatrixMap<T> G(t.grad_in(n.out), R, O);
  // dX = G·W, dW = Gᵀ·X
  if (auto gx = t.sink(x))
    gemm<T>(R, K, O, G.data(), O, false, t.value(w), K, false, gx.ptr, K, !gx.fresh);
  if (auto gw = t.sink(w))
    gemm<T>(O, K, R, G.data(), O, true, t.value(x), K, false, gw.ptr, K, !gw.fresh);
  if (b >= 0) {
    if (auto gb = t.sink(b)) {
      Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>> GB(gb.ptr, O);
      if (gb.fresh)
        GB.noalias() = G.colwise().sum();
      else
        GB.noalias() += G.colwise().sum();
    }
  }
}

}  // namespace detail

/// Matrix product of a [R, K] and b [K, C] (rank-2 views) giving [R, C].
///
/// Example: `auto y = onestone::matmul(x, w);`
template <typename T>
inline Var<T> matmul(const Var<T>& a, const Var<T>& b) {
  Tape<T>& t = detail::common_tape(a, b, "matmul");
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  if (sa.rank() != 2 || sb.rank() != 2 || sa[1] != sb[0])
    throw std::invalid_argument(detail::shapes_msg("matmul", sa, sb, "expected [R, K] x [K, C]"));
  const Index R = sa[0], C = sb[1];
  const int out = detail::make_output(t, Shape{R, C}, a.requires_grad() || b.requires_grad());
  detail::gemm<T>(R, C, sa[1], t.value(a.id()), sa[1], false, t.value(b.id()), C, false,
                  t.value(out), C, false);
  detail::record(t, &detail::matmul_backward<T>, "matmul", out, a.id(), b.id());
  t.check_forward(out, "matmul");
  return Var<T>(&t, out);
}

/// Fused affine map y = x·Wᵀ + b for x [..., K], W [O, K], b [O] (optional: pass an undefined
/// Var for no bias). The output has x's leading dimensions and O columns.
///
/// Example: `auto y = onestone::linear(x, weight, bias);`
template <typename T>
inline Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b = Var<T>()) {
  Tape<T>& t = detail::common_tape(x, w, "linear");
  const Shape& sx = x.shape();
  const Shape& sw = w.shape();
  if (sx.rank() < 1 || sw.rank() != 2 || sx.cols() != sw[1])
    throw std::invalid_argument(
        detail::shapes_msg("linear", sx, sw, "input's last dimension must equal weight's columns"));
  const Index R = sx.rows(), O = sw[0];
  if (b.defined() && (b.numel() != O || &b.tape() != &t))
    throw std::invalid_argument("linear: bias of shape " + b.shape().str() + " for weight " +
                                sw.str());
  Shape so = sx.rank() == 1 ? Shape{O} : sx;
  if (sx.rank() > 1) so.set(so.rank() - 1, O);
  const bool rg = x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad());
  const int out = detail::make_output(t, so, rg);
  MatrixMap<T> Y(t.value(out), R, O);
  if (b.defined())
    Y.rowwise() = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(t.value(b.id()), O);
  detail::gemm<T>(R, O, sx.cols(), t.value(x.id()), sx.cols(), false, t.value(w.id()), sx.cols(),
                  true, Y.data(), O, b.defined());
  detail::record(t, &detail::linear_backward<T>, "linear", out, x.id(), w.id(),
                 b.defined() ? b.id() : -1);
  t.check_forward(out, "linear");
  return Var<T>(&t, out);
}

}  // namespace autograd
using autograd::linear;
using autograd::matmul;
}  // namespace onestone
