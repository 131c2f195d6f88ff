#pragma once
/// @file arithmetic.hpp
/// Element-wise binary operations with NumPy broadcasting — add, sub, mul, div, maximum,
/// minimum — the affine map α·x + β, and the arithmetic operators on `Var`.
///
/// Broadcasting follows NumPy: shapes are aligned from the right and a dimension of size 1 (or
/// a missing one) stretches to the other's size; `[8, 1, 5] + [3, 1]` gives `[8, 3, 5]`. The
/// gradient of a stretched operand is the sum over the dimensions it was stretched along.

#include "onestone/autograd/detail/broadcast.hpp"
#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// Calls f(a_row, b_row) with the rows of two operands of length `len` at a and b: a Map when
/// the operand's row stride is 1, a constant when it is 0 (broadcast along the row).
template <typename T, typename F>
inline void with_rows(Index sa, Index sb, const T* a, const T* b, Index len, F&& f) {
  using Arr = Eigen::Array<T, Eigen::Dynamic, 1>;
  if (len == 1 || (sa && sb))
    f(cflat(a, len), cflat(b, len));
  else if (sa)
    f(cflat(a, len), Arr::Constant(len, *b));
  else
    f(Arr::Constant(len, *a), cflat(b, len));
}

/// A broadcast binary function Fn as an operation: forward (`apply`), saved state (the
/// iteration plan) and backward. Fn gives the value f(a, b) and the gradient terms g·∂f/∂a and
/// g·∂f/∂b (o is the output f(a, b)).
template <typename T, typename Fn>
struct BinaryOp {
  Plan plan;
  const char* name() const { return Fn::name; }
  static Var<T> apply(const Var<T>& a, const Var<T>& b);
  /// Writes f(a, b) into o for rows [r0, r1) (or, for a one-row plan, elements [r0, r1)).
  static void forward_part(const Plan& p, const T* A, const T* B, T* O, Index r0, Index r1);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T, typename Fn>
void BinaryOp<T, Fn>::forward_part(const Plan& p, const T* A, const T* B, T* O, Index r0,
                                   Index r1) {
  const Index len = p.row_length();
  if (p.rows() == 1) {  // one long row: the range is of elements
    const Index sa = p.inner(0), sb = p.inner(1);
    const Index n = r1 - r0;
    with_rows<T>(sa, sb, A + sa * r0, B + sb * r0, n,
                 [&](const auto& a, const auto& b) { flat(O + r0, n) = Fn::f(a, b); });
    return;
  }
  for_rows(p, r0, r1, [&](Index row, const Index* off) {
    with_rows<T>(p.inner(0), p.inner(1), A + off[0], B + off[1], len,
                 [&](const auto& a, const auto& b) { flat(O + row * len, len) = Fn::f(a, b); });
  });
}

template <typename T, typename Fn>
Var<T> BinaryOp<T, Fn>::apply(const Var<T>& a, const Var<T>& b) {
  Tape<T>& t = common_tape(a, b, Fn::name);
  Shape so;
  if (!broadcast_shapes(a.shape(), b.shape(), so))
    throw std::invalid_argument(shapes_msg(
        Fn::name, a.shape(), b.shape(),
        "shapes do not broadcast (aligned from the right, each pair of dimensions must be equal "
        "or one of them 1)"));
  const int out = make_output(t, so, a.requires_grad() || b.requires_grad());
  BinaryOp op;
  op.plan = broadcast_plan(so, {&a.shape(), &b.shape()});
  if (so.numel() > 0) {
    const Plan& p = op.plan;
    const Index units = p.rows() == 1 ? p.row_length() : p.rows();
    const Index min_units =
        p.rows() == 1 ? onestone::detail::kParallelElements
                      : (onestone::detail::kParallelElements + p.row_length() - 1) / p.row_length();
    const T* A = a.data();
    const T* B = b.data();
    T* O = t.value(out);
    onestone::detail::parallel_ranges(
        units, std::max<Index>(min_units, 2),
        [&](Index lo, Index hi) { forward_part(p, A, B, O, lo, hi); });
  }
  return emit(t, out, op, {a.id(), b.id()});
}

template <typename T, typename Fn>
void BinaryOp<T, Fn>::backward(const BackwardContext<T>& c) const {
  GradSink<T> ga = c.input_grad(0), gb = c.input_grad(1);
  if (!ga && !gb) return;
  const T* G = c.grad_output();
  const T* A = c.input(0);
  const T* B = c.input(1);
  const T* O = c.output();
  const Index N = c.output_shape().numel();
  const Index na = c.input_shape(0).numel(), nb = c.input_shape(1).numel();
  // A broadcast operand's gradient is accumulated over the rows it was stretched along.
  if (ga && na != N) ga.zero_if_fresh(na);
  if (gb && nb != N) gb.zero_if_fresh(nb);
  const Index len = plan.row_length();
  const Index sa = len == 1 ? 1 : plan.inner(0), sb = len == 1 ? 1 : plan.inner(1);
  auto row_grads = [&](Index go, Index oa, Index ob, Index n) {
    ConstFlatArray<T> g = cflat(G + go, n), o = cflat(O + go, n);
    with_rows<T>(sa, sb, A + oa, B + ob, n, [&](const auto& a, const auto& b) {
      if (ga) {
        if (sa)
          accumulate(ga, flat(ga.ptr + oa, n), Fn::da(g, a, b, o));
        else
          ga.ptr[oa] += Fn::da(g, a, b, o).sum();
      }
      if (gb) {
        if (sb)
          accumulate(gb, flat(gb.ptr + ob, n), Fn::db(g, a, b, o));
        else
          gb.ptr[ob] += Fn::db(g, a, b, o).sum();
      }
    });
  };
  if (plan.rows() == 1 && na == N && nb == N) {
    // Same shapes: one flat pass, split across threads when large.
    onestone::detail::parallel_ranges(N, onestone::detail::kParallelElements,
                                      [&](Index lo, Index hi) { row_grads(lo, lo, lo, hi - lo); });
    return;
  }
  for_rows(plan, 0, plan.rows(),
           [&](Index row, const Index* off) { row_grads(row * len, off[0], off[1], len); });
}

template <typename T, typename Fn>
inline Var<T> binary(const Var<T>& a, const Var<T>& b) {
  return BinaryOp<T, Fn>::apply(a, b);
}

/// Element-wise functor of `add` for `BinaryOp` (value and both partial derivatives, with
/// broadcasting handled by `BinaryOp`); use the operator or function, not this type.
struct AddFn {
  static constexpr const char* name = "add";
  template <class A, class B>
  static auto f(const A& a, const B& b) {
    return a + b;
  }
  template <class G, class A, class B, class O>
  static auto da(const G& g, const A&, const B&, const O&) {
    return g;
  }
  template <class G, class A, class B, class O>
  static auto db(const G& g, const A&, const B&, const O&) {
    return g;
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, BinaryOp, AddFn)
/// Element-wise functor of `sub` for `BinaryOp` (value and both partial derivatives, with
/// broadcasting handled by `BinaryOp`); use the operator or function, not this type.
struct SubFn {
  static constexpr const char* name = "sub";
  template <class A, class B>
  static auto f(const A& a, const B& b) {
    return a - b;
  }
  template <class G, class A, class B, class O>
  static auto da(const G& g, const A&, const B&, const O&) {
    return g;
  }
  template <class G, class A, class B, class O>
  static auto db(const G& g, const A&, const B&, const O&) {
    return -g;
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, BinaryOp, SubFn)
/// Element-wise functor of `mul` for `BinaryOp` (value and both partial derivatives, with
/// broadcasting handled by `BinaryOp`); use the operator or function, not this type.
struct MulFn {
  static constexpr const char* name = "mul";
  template <class A, class B>
  static auto f(const A& a, const B& b) {
    return a * b;
  }
  template <class G, class A, class B, class O>
  static auto da(const G& g, const A&, const B& b, const O&) {
    return g * b;
  }
  template <class G, class A, class B, class O>
  static auto db(const G& g, const A& a, const B&, const O&) {
    return g * a;
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, BinaryOp, MulFn)
/// Element-wise functor of `div` for `BinaryOp` (value and both partial derivatives, with
/// broadcasting handled by `BinaryOp`); use the operator or function, not this type.
struct DivFn {
  static constexpr const char* name = "div";
  template <class A, class B>
  static auto f(const A& a, const B& b) {
    return a / b;
  }
  template <class G, class A, class B, class O>
  static auto da(const G& g, const A&, const B& b, const O&) {
    return g / b;
  }
  template <class G, class A, class B, class O>
  static auto db(const G& g, const A&, const B& b, const O& o) {
    return -(g * o) / b;
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, BinaryOp, DivFn)
/// max(a, b); NaN propagates, and on ties each side gets half the gradient (as PyTorch's
/// `maximum`).
struct MaximumFn {
  static constexpr const char* name = "maximum";
  template <class A, class B>
  static auto f(const A& a, const B& b) {
    using S = typename A::Scalar;
    return a.binaryExpr(b, Eigen::internal::scalar_max_op<S, S, Eigen::PropagateNaN>());
  }
  template <class G, class A, class B, class O>
  static auto da(const G& g, const A& a, const B& b, const O&) {
    using S = typename G::Scalar;
    return (a > b).select(g, (a == b).select(g * S(0.5), S(0)));
  }
  template <class G, class A, class B, class O>
  static auto db(const G& g, const A& a, const B& b, const O&) {
    using S = typename G::Scalar;
    return (b > a).select(g, (a == b).select(g * S(0.5), S(0)));
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, BinaryOp, MaximumFn)
/// min(a, b); ties split the gradient as in `maximum`.
struct MinimumFn {
  static constexpr const char* name = "minimum";
  template <class A, class B>
  static auto f(const A& a, const B& b) {
    using S = typename A::Scalar;
    return a.binaryExpr(b, Eigen::internal::scalar_min_op<S, S, Eigen::PropagateNaN>());
  }
  template <class G, class A, class B, class O>
  static auto da(const G& g, const A& a, const B& b, const O&) {
    using S = typename G::Scalar;
    return (a < b).select(g, (a == b).select(g * S(0.5), S(0)));
  }
  template <class G, class A, class B, class O>
  static auto db(const G& g, const A& a, const B& b, const O&) {
    using S = typename G::Scalar;
    return (b < a).select(g, (a == b).select(g * S(0.5), S(0)));
  }
};
ONESTONE_EXTERN_CLASS2(AUTOGRAD, BinaryOp, MinimumFn)

/// Saved state of y = α·x + β.
template <typename T>
struct AffineOp {
  T alpha;
  const char* name() const { return "affine"; }
  static Var<T> apply(const Var<T>& x, T alpha, T beta);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
Var<T> AffineOp<T>::apply(const Var<T>& x, T alpha, T beta) {
  Tape<T>& t = x.tape();
  const int out = make_output(t, x.shape(), x.requires_grad());
  const Index N = x.numel();
  flat(t.value(out), N) = cflat(x.data(), N) * alpha + beta;
  return emit(t, out, AffineOp{alpha}, {x.id()});
}

template <typename T>
void AffineOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> g = c.input_grad(0);
  if (!g) return;
  const Index N = c.output_shape().numel();
  accumulate(g, flat(g.ptr, N), cflat(c.grad_output(), N) * alpha);
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, AffineOp)

}  // namespace detail

/// Element-wise a + b with NumPy broadcasting (e.g. [B, C, H, W] + [C, 1, 1]).
template <typename T>
inline Var<T> add(const Var<T>& a, const Var<T>& b) {
  return detail::binary<T, detail::AddFn>(a, b);
}
/// Element-wise a − b with NumPy broadcasting.
template <typename T>
inline Var<T> sub(const Var<T>& a, const Var<T>& b) {
  return detail::binary<T, detail::SubFn>(a, b);
}
/// Element-wise a ∘ b with NumPy broadcasting.
template <typename T>
inline Var<T> mul(const Var<T>& a, const Var<T>& b) {
  return detail::binary<T, detail::MulFn>(a, b);
}
/// Element-wise a / b with NumPy broadcasting.
template <typename T>
inline Var<T> div(const Var<T>& a, const Var<T>& b) {
  return detail::binary<T, detail::DivFn>(a, b);
}
/// Element-wise max(a, b) with NumPy broadcasting; ties split the gradient in halves.
template <typename T>
inline Var<T> maximum(const Var<T>& a, const Var<T>& b) {
  return detail::binary<T, detail::MaximumFn>(a, b);
}
/// Element-wise min(a, b) with NumPy broadcasting; ties split the gradient in halves.
template <typename T>
inline Var<T> minimum(const Var<T>& a, const Var<T>& b) {
  return detail::binary<T, detail::MinimumFn>(a, b);
}

/// y = alpha·x + beta element-wise (covers x + s, x − s, s − x, x·s, x / s).
template <typename T>
inline Var<T> affine(const Var<T>& x, detail::type_identity_t<T> alpha,
                     detail::type_identity_t<T> beta) {
  return detail::AffineOp<T>::apply(x, alpha, beta);
}

template <typename T>
inline Var<T> operator+(const Var<T>& a, const Var<T>& b) {
  return add(a, b);
}
template <typename T>
inline Var<T> operator-(const Var<T>& a, const Var<T>& b) {
  return sub(a, b);
}
template <typename T>
inline Var<T> operator*(const Var<T>& a, const Var<T>& b) {
  return mul(a, b);
}
template <typename T>
inline Var<T> operator/(const Var<T>& a, const Var<T>& b) {
  return div(a, b);
}
template <typename T>
inline Var<T> operator-(const Var<T>& a) {
  return affine(a, T(-1), T(0));
}
template <typename T>
inline Var<T> operator+(const Var<T>& a, detail::type_identity_t<T> s) {
  return affine(a, T(1), s);
}
template <typename T>
inline Var<T> operator+(detail::type_identity_t<T> s, const Var<T>& a) {
  return affine(a, T(1), s);
}
template <typename T>
inline Var<T> operator-(const Var<T>& a, detail::type_identity_t<T> s) {
  return affine(a, T(1), -s);
}
template <typename T>
inline Var<T> operator-(detail::type_identity_t<T> s, const Var<T>& a) {
  return affine(a, T(-1), s);
}
template <typename T>
inline Var<T> operator*(const Var<T>& a, detail::type_identity_t<T> s) {
  return affine(a, s, T(0));
}
template <typename T>
inline Var<T> operator*(detail::type_identity_t<T> s, const Var<T>& a) {
  return affine(a, s, T(0));
}
template <typename T>
inline Var<T> operator/(const Var<T>& a, detail::type_identity_t<T> s) {
  if (s == T(0)) throw std::invalid_argument("div: division of a variable by the scalar 0");
  return affine(a, T(1) / s, T(0));
}

}  // namespace autograd
using autograd::add;
using autograd::affine;
using autograd::div;
using autograd::maximum;
using autograd::minimum;
using autograd::mul;
using autograd::sub;
}  // namespace onestone
