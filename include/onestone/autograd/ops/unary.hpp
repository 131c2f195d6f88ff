#pragma once
/// @file unary.hpp
/// Element-wise functions: relu, leaky_relu, gelu, silu, sigmoid, tanh, softplus, exp, log,
/// sqrt, pow, abs, square, clamp. Each is one function struct (value and derivative) run by one
/// operation template, split across threads for large tensors.

#include <cmath>
#include <type_traits>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {
namespace detail {

struct ReluFn;

/// d = g where x > 0, else 0 (assigned or added): with Eigen's packet primitives (compare, and),
/// since Eigen 3.4 does not vectorize `select` and compilers keep the comparison as a branch.
template <typename T>
inline void relu_backward(T* d, const T* g, const T* x, Index n, bool assign) {
  using P = typename Eigen::internal::packet_traits<T>::type;
  constexpr Index W = Eigen::internal::packet_traits<T>::size;
  Index i = 0;
  const P zero = Eigen::internal::pset1<P>(T(0));
  for (; i + W <= n; i += W) {
    const P m = Eigen::internal::pcmp_lt(zero, Eigen::internal::ploadu<P>(x + i));
    const P r = Eigen::internal::pand(m, Eigen::internal::ploadu<P>(g + i));
    Eigen::internal::pstoreu(
        d + i, assign ? r : Eigen::internal::padd(Eigen::internal::ploadu<P>(d + i), r));
  }
  for (; i < n; ++i) {
    const T r = x[i] > T(0) ? g[i] : T(0);
    d[i] = assign ? r : d[i] + r;
  }
}

/// An element-wise function Fn as an operation: forward (`apply`), saved state (the function's
/// parameters) and backward. Fn gives the value f(x) and the gradient term g·f'(x) (y = f(x)
/// is the output, p and q the function's scalar parameters).
template <typename T, typename Fn>
struct UnaryOp {
  T p, q;
  const char* name() const { return Fn::name; }
  static Var<T> apply(const Var<T>& x, T p, T q);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T, typename Fn>
Var<T> UnaryOp<T, Fn>::apply(const Var<T>& x, T p, T q) {
  Tape<T>& t = x.tape();
  const int out = make_output(t, x.shape(), x.requires_grad());
  const T* xv = x.data();
  T* yv = t.value(out);
  onestone::detail::parallel_ranges(
      x.numel(), onestone::detail::kParallelElements,
      [&](Index lo, Index hi) { flat(yv + lo, hi - lo) = Fn::f(cflat(xv + lo, hi - lo), p, q); });
  return emit(t, out, UnaryOp{p, q}, {x.id()});
}

template <typename T, typename Fn>
void UnaryOp<T, Fn>::backward(const BackwardContext<T>& c) const {
  const GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  const T* x = c.input(0);
  const T* y = c.output();
  const T* g = c.grad_output();
  const T pp = p, qq = q;
  onestone::detail::parallel_ranges(
      c.output_shape().numel(), onestone::detail::kParallelElements, [&](Index lo, Index hi) {
        const Index n = hi - lo;
        if constexpr (std::is_same<Fn, ReluFn>::value) {
          relu_backward(gs.ptr + lo, g + lo, x + lo, n, gs.fresh);
        } else {
          accumulate(gs, flat(gs.ptr + lo, n),
                     Fn::df(cflat(g + lo, n), cflat(x + lo, n), cflat(y + lo, n), pp, qq));
        }
      });
}

template <typename T, typename Fn>
inline Var<T> unary(const Var<T>& x, T p = T(0), T q = T(0)) {
  return UnaryOp<T, Fn>::apply(x, p, q);
}

/// Element-wise functor of `relu` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `relu(x)`, not this type).
struct ReluFn {
  static constexpr const char* name = "relu";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x.max(S(0));
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S, S) {
    return (x > S(0)).select(g, S(0));
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, ReluFn)
/// Element-wise functor of `leaky_relu` for `UnaryOp`: value `f` and derivative `df` (one
/// definition per operation; use the function `leaky_relu(x)`, not this type).
struct LeakyReluFn {
  static constexpr const char* name = "leaky_relu";
  template <class X, class S>
  static auto f(const X& x, S p, S) {
    return (x > S(0)).select(x, x * p);
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S p, S) {
    return (x > S(0)).select(g, g * p);
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, LeakyReluFn)
/// Element-wise functor of `gelu` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `gelu(x)`, not this type).
struct GeluFn {
  static constexpr const char* name = "gelu";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x.unaryExpr(
        [](S v) { return S(0.5) * v * (S(1) + std::erf(v * S(0.7071067811865476))); });
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S, S) {
    return g * x.unaryExpr([](S v) {
      const S cdf = S(0.5) * (S(1) + std::erf(v * S(0.7071067811865476)));
      const S pdf = std::exp(S(-0.5) * v * v) * S(0.3989422804014327);
      return cdf + v * pdf;
    });
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, GeluFn)
/// Element-wise functor of `GeluTanhFn` for `UnaryOp`: value `f` and derivative `df` (one
/// definition per operation; use the function `GeluTanhFn(x)`, not this type).
struct GeluTanhFn {
  static constexpr const char* name = "gelu(tanh)";
  template <class S>
  static S inner(S v) {
    return S(0.7978845608028654) * (v + S(0.044715) * v * v * v);
  }
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x.unaryExpr([](S v) { return S(0.5) * v * (S(1) + std::tanh(inner(v))); });
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S, S) {
    return g * x.unaryExpr([](S v) {
      const S th = std::tanh(inner(v));
      const S dinner = S(0.7978845608028654) * (S(1) + S(3 * 0.044715) * v * v);
      return S(0.5) * (S(1) + th) + S(0.5) * v * (S(1) - th * th) * dinner;
    });
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, GeluTanhFn)
/// Element-wise functor of `silu` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `silu(x)`, not this type).
struct SiluFn {
  static constexpr const char* name = "silu";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x / (S(1) + (-x).exp());
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y& y, S, S) {
    // s = σ(x): d/dx x·s = s + x·s(1 − s) = s + y(1 − s)
    return g * (S(1) / (S(1) + (-x).exp())) * (S(1) - y) + g * y;
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, SiluFn)
/// Element-wise functor of `sigmoid` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `sigmoid(x)`, not this type).
struct SigmoidFn {
  static constexpr const char* name = "sigmoid";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return S(1) / (S(1) + (-x).exp());
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X&, const Y& y, S, S) {
    return g * y * (S(1) - y);
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, SigmoidFn)
/// Element-wise functor of `tanh` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `tanh(x)`, not this type).
struct TanhFn {
  static constexpr const char* name = "tanh";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x.tanh();
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X&, const Y& y, S, S) {
    return g * (S(1) - y.square());
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, TanhFn)
/// log(1 + eˣ), linear above the threshold p (20, as PyTorch's default).
struct SoftplusFn {
  static constexpr const char* name = "softplus";
  template <class X, class S>
  static auto f(const X& x, S p, S) {
    return (x > p).select(x, x.exp().log1p());
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S p, S) {
    return (x > p).select(g, g / (S(1) + (-x).exp()));
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, SoftplusFn)
/// Element-wise functor of `exp` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `exp(x)`, not this type).
struct ExpFn {
  static constexpr const char* name = "exp";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x.exp();
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X&, const Y& y, S, S) {
    return g * y;
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, ExpFn)
/// Element-wise functor of `log` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `log(x)`, not this type).
struct LogFn {
  static constexpr const char* name = "log";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x.log();
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S, S) {
    return g / x;
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, LogFn)
/// Element-wise functor of `sqrt` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `sqrt(x)`, not this type).
struct SqrtFn {
  static constexpr const char* name = "sqrt";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x.sqrt();
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X&, const Y& y, S, S) {
    return g * S(0.5) / y;
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, SqrtFn)
/// Element-wise functor of `pow` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `pow(x)`, not this type).
struct PowFn {
  static constexpr const char* name = "pow";
  template <class X, class S>
  static auto f(const X& x, S p, S) {
    return x.pow(p);
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S p, S) {
    return g * p * x.pow(p - S(1));
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, PowFn)
/// Element-wise functor of `square` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `square(x)`, not this type).
struct SquareFn {
  static constexpr const char* name = "square";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x.square();
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S, S) {
    return g * S(2) * x;
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, SquareFn)
/// Element-wise functor of `abs` for `UnaryOp`: value `f` and derivative `df` (one definition
/// per operation; use the function `abs(x)`, not this type).
struct AbsFn {
  static constexpr const char* name = "abs";
  template <class X, class S>
  static auto f(const X& x, S, S) {
    return x.abs();
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S, S) {
    return g * x.sign();
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, AbsFn)
/// min(max(x, p), q); the gradient passes where p ≤ x ≤ q (as PyTorch's `clamp`).
struct ClampFn {
  static constexpr const char* name = "clamp";
  template <class X, class S>
  static auto f(const X& x, S p, S q) {
    return x.max(p).min(q);
  }
  template <class G, class X, class Y, class S>
  static auto df(const G& g, const X& x, const Y&, S p, S q) {
    return (x >= p && x <= q).select(g, S(0));
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, UnaryOp, ClampFn)

}  // namespace detail

/// max(x, 0) element-wise.
template <typename T>
inline Var<T> relu(const Var<T>& x) {
  return detail::unary<T, detail::ReluFn>(x);
}
/// x for x > 0, slope·x otherwise.
template <typename T>
inline Var<T> leaky_relu(const Var<T>& x, detail::type_identity_t<T> slope = T(0.01)) {
  return detail::unary<T, detail::LeakyReluFn>(x, slope);
}
/// GELU, x·Φ(x) with the exact normal CDF; `approximate_tanh` uses the tanh approximation.
template <typename T>
inline Var<T> gelu(const Var<T>& x, bool approximate_tanh = false) {
  return approximate_tanh ? detail::unary<T, detail::GeluTanhFn>(x)
                          : detail::unary<T, detail::GeluFn>(x);
}
/// SiLU (swish), x·σ(x).
template <typename T>
inline Var<T> silu(const Var<T>& x) {
  return detail::unary<T, detail::SiluFn>(x);
}
/// 1 / (1 + e^{−x}) element-wise.
template <typename T>
inline Var<T> sigmoid(const Var<T>& x) {
  return detail::unary<T, detail::SigmoidFn>(x);
}
/// Hyperbolic tangent element-wise.
template <typename T>
inline Var<T> tanh(const Var<T>& x) {
  return detail::unary<T, detail::TanhFn>(x);
}
/// log(1 + eˣ) element-wise, x itself above `threshold` (PyTorch's default 20).
template <typename T>
inline Var<T> softplus(const Var<T>& x, detail::type_identity_t<T> threshold = T(20)) {
  return detail::unary<T, detail::SoftplusFn>(x, threshold);
}
/// e^x element-wise.
template <typename T>
inline Var<T> exp(const Var<T>& x) {
  return detail::unary<T, detail::ExpFn>(x);
}
/// Natural logarithm element-wise.
template <typename T>
inline Var<T> log(const Var<T>& x) {
  return detail::unary<T, detail::LogFn>(x);
}
/// Square root element-wise.
template <typename T>
inline Var<T> sqrt(const Var<T>& x) {
  return detail::unary<T, detail::SqrtFn>(x);
}
/// x^p element-wise for a scalar exponent p.
template <typename T>
inline Var<T> pow(const Var<T>& x, detail::type_identity_t<T> p) {
  return detail::unary<T, detail::PowFn>(x, p);
}
/// |x| element-wise (gradient sign(x), 0 at 0).
template <typename T>
inline Var<T> abs(const Var<T>& x) {
  return detail::unary<T, detail::AbsFn>(x);
}
/// x² element-wise.
template <typename T>
inline Var<T> square(const Var<T>& x) {
  return detail::unary<T, detail::SquareFn>(x);
}
/// min(max(x, lo), hi) element-wise; the gradient passes where lo ≤ x ≤ hi. Throws
/// std::invalid_argument when lo > hi.
template <typename T>
inline Var<T> clamp(const Var<T>& x, detail::type_identity_t<T> lo, detail::type_identity_t<T> hi) {
  if (!(lo <= hi))
    throw std::invalid_argument("clamp: lower bound " + std::to_string(lo) + " above upper bound " +
                                std::to_string(hi));
  return detail::unary<T, detail::ClampFn>(x, lo, hi);
}

}  // namespace autograd
using autograd::abs;
using autograd::clamp;
using autograd::exp;
using autograd::gelu;
using autograd::leaky_relu;
using autograd::log;
using autograd::pow;
using autograd::relu;
using autograd::sigmoid;
using autograd::silu;
using autograd::softplus;
using autograd::sqrt;
using autograd::square;
using autograd::tanh;
}  // namespace onestone
