#pragma once
/// @file unary.hpp
/// Element-wise functions: relu, leaky_relu, gelu, sigmoid, tanh, exp, log, sqrt, pow, abs.

#include <cmath>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {
namespace detail {

enum class UnaryOp : Index {
  Relu,
  LeakyRelu,
  Gelu,
  GeluTanh,
  Sigmoid,
  Tanh,
  Exp,
  Log,
  Sqrt,
  Pow,
  Abs
};

inline const char* unary_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Relu:
      return "relu";
    case UnaryOp::LeakyRelu:
      return "leaky_relu";
    case UnaryOp::Gelu:
      return "gelu";
    case UnaryOp::GeluTanh:
      return "gelu(tanh)";
    case UnaryOp::Sigmoid:
      return "sigmoid";
    case UnaryOp::Tanh:
      return "tanh";
    case UnaryOp::Exp:
      return "exp";
    case UnaryOp::Log:
      return "log";
    case UnaryOp::Sqrt:
      return "sqrt";
    case UnaryOp::Pow:
      return "pow";
    default:
      return "abs";
  }
}

template <typename T>
inline T gelu_tanh_inner(T x) {
  return T(0.7978845608028654) * (x + T(0.044715) * x * x * x);
}

template <typename T>
inline void unary_forward(UnaryOp op, ConstFlatArray<T> x, FlatArray<T> y, T p) {
  const Index n = x.size();
  switch (op) {
    case UnaryOp::Relu:
      y = x.max(T(0));
      break;
    case UnaryOp::LeakyRelu:
      y = (x > T(0)).select(x, x * p);
      break;
    case UnaryOp::Gelu:
      for (Index k = 0; k < n; ++k)
        y[k] = T(0.5) * x[k] * (T(1) + std::erf(x[k] * T(0.7071067811865476)));
      break;
    case UnaryOp::GeluTanh:
      for (Index k = 0; k < n; ++k)
        y[k] = T(0.5) * x[k] * (T(1) + std::tanh(gelu_tanh_inner(x[k])));
      break;
    case UnaryOp::Sigmoid:
      y = T(1) / (T(1) + (-x).exp());
      break;
    case UnaryOp::Tanh:
      y = x.tanh();
      break;
    case UnaryOp::Exp:
      y = x.exp();
      break;
    case UnaryOp::Log:
      y = x.log();
      break;
    case UnaryOp::Sqrt:
      y = x.sqrt();
      break;
    case UnaryOp::Pow:
      y = x.pow(p);
      break;
    case UnaryOp::Abs:
      y = x.abs();
      break;
  }
}

/// d (+)= g·f'(x) over one range of elements (x the input, y = f(x) the output).
template <typename T>
inline void unary_backward_range(UnaryOp op, T p, ConstFlatArray<T> x, ConstFlatArray<T> y,
                                 ConstFlatArray<T> g, FlatArray<T> d, const GradSink<T>& gs) {
  const Index N = x.size();
  switch (op) {
    case UnaryOp::Relu:
      accumulate(gs, d, (x > T(0)).select(g, T(0)));
      break;
    case UnaryOp::LeakyRelu:
      accumulate(gs, d, (x > T(0)).select(g, g * p));
      break;
    case UnaryOp::Gelu:
      for (Index k = 0; k < N; ++k) {
        const T cdf = T(0.5) * (T(1) + std::erf(x[k] * T(0.7071067811865476)));
        const T pdf = std::exp(T(-0.5) * x[k] * x[k]) * T(0.3989422804014327);
        const T v = g[k] * (cdf + x[k] * pdf);
        d[k] = gs.fresh ? v : d[k] + v;
      }
      break;
    case UnaryOp::GeluTanh:
      for (Index k = 0; k < N; ++k) {
        const T th = std::tanh(gelu_tanh_inner(x[k]));
        const T dinner = T(0.7978845608028654) * (T(1) + T(3 * 0.044715) * x[k] * x[k]);
        const T v = g[k] * (T(0.5) * (T(1) + th) + T(0.5) * x[k] * (T(1) - th * th) * dinner);
        d[k] = gs.fresh ? v : d[k] + v;
      }
      break;
    case UnaryOp::Sigmoid:
      accumulate(gs, d, g * y * (T(1) - y));
      break;
    case UnaryOp::Tanh:
      accumulate(gs, d, g * (T(1) - y.square()));
      break;
    case UnaryOp::Exp:
      accumulate(gs, d, g * y);
      break;
    case UnaryOp::Log:
      accumulate(gs, d, g / x);
      break;
    case UnaryOp::Sqrt:
      accumulate(gs, d, g * T(0.5) / y);
      break;
    case UnaryOp::Pow:
      accumulate(gs, d, g * p * x.pow(p - T(1)));
      break;
    case UnaryOp::Abs:
      accumulate(gs, d, g * x.sign());
      break;
  }
}

template <typename T>
inline void unary_backward(Tape<T>& t, const Node<T>& n) {
  const GradSink<T> gs = t.sink(n.in[0]);
  if (!gs) return;
  const UnaryOp op = static_cast<UnaryOp>(n.i[0]);
  const T p = n.s[0];
  const T* x = t.value(n.in[0]);
  const T* y = t.value(n.out);
  const T* g = t.grad_in(n.out);
  onestone::detail::parallel_ranges(
      t.shape(n.out).numel(), onestone::detail::kParallelElements, [&](Index lo, Index hi) {
        unary_backward_range<T>(op, p, cflat(x + lo, hi - lo), cflat(y + lo, hi - lo),
                                cflat(g + lo, hi - lo), flat(gs.ptr + lo, hi - lo), gs);
      });
}

template <typename T>
inline Var<T> unary(const Var<T>& x, UnaryOp op, T p = T(0)) {
  Tape<T>& t = x.tape();
  const int out = make_output(t, x.shape(), x.requires_grad());
  const Index N = x.numel();
  const T* xv = t.value(x.id());
  T* yv = t.value(out);
  onestone::detail::parallel_ranges(
      N, onestone::detail::kParallelElements, [&](Index lo, Index hi) {
        unary_forward<T>(op, cflat(xv + lo, hi - lo), flat(yv + lo, hi - lo), p);
      });
  record(t, &unary_backward<T>, unary_name(op), out, x.id(), -1, -1, nullptr, p, T(0),
         static_cast<Index>(op));
  t.check_forward(out, unary_name(op));
  return Var<T>(&t, out);
}

}  // namespace detail

/// max(x, 0) element-wise.
template <typename T>
inline Var<T> relu(const Var<T>& x) {
  return detail::unary(x, detail::UnaryOp::Relu);
}
/// x for x > 0, slope·x otherwise.
template <typename T>
inline Var<T> leaky_relu(const Var<T>& x, detail::type_identity_t<T> slope = T(0.01)) {
  return detail::unary(x, detail::UnaryOp::LeakyRelu, slope);
}
/// GELU, x·Φ(x) with the exact normal CDF; `approximate_tanh` uses the tanh approximation.
template <typename T>
inline Var<T> gelu(const Var<T>& x, bool approximate_tanh = false) {
  return detail::unary(x, approximate_tanh ? detail::UnaryOp::GeluTanh : detail::UnaryOp::Gelu);
}
/// 1 / (1 + e^{−x}) element-wise.
template <typename T>
inline Var<T> sigmoid(const Var<T>& x) {
  return detail::unary(x, detail::UnaryOp::Sigmoid);
}
/// Hyperbolic tangent element-wise.
template <typename T>
inline Var<T> tanh(const Var<T>& x) {
  return detail::unary(x, detail::UnaryOp::Tanh);
}
/// e^x element-wise.
template <typename T>
inline Var<T> exp(const Var<T>& x) {
  return detail::unary(x, detail::UnaryOp::Exp);
}
/// Natural logarithm element-wise.
template <typename T>
inline Var<T> log(const Var<T>& x) {
  return detail::unary(x, detail::UnaryOp::Log);
}
/// Square root element-wise.
template <typename T>
inline Var<T> sqrt(const Var<T>& x) {
  return detail::unary(x, detail::UnaryOp::Sqrt);
}
/// x^p element-wise for a scalar exponent p.
template <typename T>
inline Var<T> pow(const Var<T>& x, detail::type_identity_t<T> p) {
  return detail::unary(x, detail::UnaryOp::Pow, p);
}
/// |x| element-wise (gradient sign(x), 0 at 0).
template <typename T>
inline Var<T> abs(const Var<T>& x) {
  return detail::unary(x, detail::UnaryOp::Abs);
}
/// x² element-wise.
template <typename T>
inline Var<T> square(const Var<T>& x) {
  return detail::unary(x, detail::UnaryOp::Pow, T(2));
}

}  // namespace autograd
using autograd::abs;
using autograd::exp;
using autograd::gelu;
using autograd::leaky_relu;
using autograd::log;
using autograd::pow;
using autograd::relu;
using autograd::sigmoid;
using autograd::sqrt;
using autograd::square;
using autograd::tanh;
}  // namespace onestone
