#pragma once
/// @file arithmetic.hpp
/// Element-wise add, sub, mul, div with broadcasting of a row vector, a column, or a scalar;
/// affine maps with scalars; the arithmetic operators on `Var`.

#include "onestone/autograd/detail/op_common.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// How an operand of a binary op is laid over the output [R, C].
enum class Bcast : Index { Same = 0, Row = 1, Col = 2, Scalar = 3 };
enum class BinOp : Index { Add = 0, Sub = 1, Mul = 2, Div = 3 };

inline const char* binop_name(BinOp op) {
  switch (op) {
    case BinOp::Add:
      return "add";
    case BinOp::Sub:
      return "sub";
    case BinOp::Mul:
      return "mul";
    default:
      return "div";
  }
}

template <typename T>
using ConstRow = Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>;
template <typename T>
using MutRow = Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>>;

/// Calls f(row_expression) for row r of an operand of the given broadcast kind.
template <typename T, typename F>
inline void with_row(Bcast k, const T* p, Index r, Index C, F&& f) {
  switch (k) {
    case Bcast::Same:
      f(ConstRow<T>(p + r * C, C));
      break;
    case Bcast::Row:
      f(ConstRow<T>(p, C));
      break;
    case Bcast::Col:
      f(Eigen::Array<T, 1, Eigen::Dynamic>::Constant(C, p[r]));
      break;
    case Bcast::Scalar:
      f(Eigen::Array<T, 1, Eigen::Dynamic>::Constant(C, p[0]));
      break;
  }
}

/// Rows iterated by kernels: a Same/Same or scalar-broadcast op runs as one long row.
inline void layout(Bcast ka, Bcast kb, Index R, Index C, Index& rows, Index& cols) {
  const bool one_row =
      (ka == Bcast::Same || ka == Bcast::Scalar) && (kb == Bcast::Same || kb == Bcast::Scalar);
  rows = one_row ? 1 : R;
  cols = one_row ? R * C : C;
}

/// Accumulates the full-size row `e` into the gradient of an operand of kind k at row r.
template <typename T, typename E>
inline void reduce_row(Bcast k, const GradSink<T>& g, Index r, Index C, const E& e,
                       bool first_row) {
  switch (k) {
    case Bcast::Same: {
      MutRow<T> dst(g.ptr + r * C, C);
      if (g.fresh)
        dst = e;
      else
        dst += e;
      break;
    }
    case Bcast::Row: {
      MutRow<T> dst(g.ptr, C);
      if (g.fresh && first_row)
        dst = e;
      else
        dst += e;
      break;
    }
    case Bcast::Col: {
      const T s = e.sum();
      g.ptr[r] = g.fresh ? s : g.ptr[r] + s;
      break;
    }
    case Bcast::Scalar: {
      const T s = e.sum();
      g.ptr[0] = (g.fresh && first_row) ? s : g.ptr[0] + s;
      break;
    }
  }
}

template <typename T>
inline void binary_backward(Tape<T>& t, const Node<T>& n) {
  const BinOp op = static_cast<BinOp>(n.i[0]);
  const Bcast ka = static_cast<Bcast>(n.i[1] & 0xff), kb = static_cast<Bcast>(n.i[1] >> 8);
  const int a = n.in[0], b = n.in[1];
  const Shape& so = t.shape(n.out);
  Index rows, cols;
  layout(ka, kb, so.rows(), so.cols(), rows, cols);
  const T* G = t.grad_in(n.out);
  const T* A = t.value(a);
  const T* B = t.value(b);
  const T* O = t.value(n.out);
  const GradSink<T> ga = t.sink(a);
  const GradSink<T> gb = t.sink(b);
  for (Index r = 0; r < rows; ++r) {
    ConstRow<T> g(G + r * cols, cols);
    ConstRow<T> o(O + r * cols, cols);
    with_row(kb, B, r, cols, [&](const auto& brow) {
      if (!ga) return;
      switch (op) {
        case BinOp::Add:
        case BinOp::Sub:
          reduce_row(ka, ga, r, cols, g, r == 0);
          break;
        case BinOp::Mul:
          reduce_row(ka, ga, r, cols, g * brow, r == 0);
          break;
        case BinOp::Div:
          reduce_row(ka, ga, r, cols, g / brow, r == 0);
          break;
      }
    });
    if (!gb) continue;
    switch (op) {
      case BinOp::Add:
        reduce_row(kb, gb, r, cols, g, r == 0);
        break;
      case BinOp::Sub:
        reduce_row(kb, gb, r, cols, -g, r == 0);
        break;
      case BinOp::Mul:
        with_row(ka, A, r, cols,
                 [&](const auto& arow) { reduce_row(kb, gb, r, cols, g * arow, r == 0); });
        break;
      case BinOp::Div:
        with_row(kb, B, r, cols,
                 [&](const auto& brow) { reduce_row(kb, gb, r, cols, -(g * o) / brow, r == 0); });
        break;
    }
  }
}

/// Classifies how b broadcasts against a; returns false when it cannot.
inline bool classify(const Shape& a, const Shape& b, Bcast& ka, Bcast& kb, Shape& out) {
  if (a == b) {
    ka = kb = Bcast::Same;
    out = a;
    return true;
  }
  if (b.numel() == 1) {
    ka = Bcast::Same;
    kb = Bcast::Scalar;
    out = a;
    return true;
  }
  if (a.numel() == 1) {
    ka = Bcast::Scalar;
    kb = Bcast::Same;
    out = b;
    return true;
  }
  auto is_row = [](const Shape& s) { return s.rank() == 1 || (s.rank() == 2 && s[0] == 1); };
  auto is_col = [](const Shape& s) { return s.rank() >= 1 && s.cols() == 1; };
  if (is_row(b) && b.cols() == a.cols() && a.rank() >= 2) {
    ka = Bcast::Same;
    kb = Bcast::Row;
    out = a;
    return true;
  }
  if (is_row(a) && a.cols() == b.cols() && b.rank() >= 2) {
    ka = Bcast::Row;
    kb = Bcast::Same;
    out = b;
    return true;
  }
  if (is_col(b) && b.rank() >= 2 && b.rows() == a.rows() && a.rank() >= 2) {
    ka = Bcast::Same;
    kb = Bcast::Col;
    out = a;
    return true;
  }
  if (is_col(a) && a.rank() >= 2 && a.rows() == b.rows() && b.rank() >= 2) {
    ka = Bcast::Col;
    kb = Bcast::Same;
    out = b;
    return true;
  }
  return false;
}

template <typename T>
inline Var<T> binary(const Var<T>& a, const Var<T>& b, BinOp op) {
  const char* name = binop_name(op);
  Tape<T>& t = common_tape(a, b, name);
  Bcast ka, kb;
  Shape so;
  if (!classify(a.shape(), b.shape(), ka, kb, so))
    throw std::invalid_argument(shapes_msg(
        name, a.shape(), b.shape(),
        "cannot broadcast (supported: equal shapes, a row vector [C], a column [R, 1], a scalar)"));
  const int out = make_output(t, so, a.requires_grad() || b.requires_grad());
  Index rows, cols;
  layout(ka, kb, so.rows(), so.cols(), rows, cols);
  const T* A = t.value(a.id());
  const T* B = t.value(b.id());
  T* O = t.value(out);
  for (Index r = 0; r < rows; ++r) {
    MutRow<T> o(O + r * cols, cols);
    with_row(ka, A, r, cols, [&](const auto& arow) {
      with_row(kb, B, r, cols, [&](const auto& brow) {
        switch (op) {
          case BinOp::Add:
            o = arow + brow;
            break;
          case BinOp::Sub:
            o = arow - brow;
            break;
          case BinOp::Mul:
            o = arow * brow;
            break;
          case BinOp::Div:
            o = arow / brow;
            break;
        }
      });
    });
  }
  record(t, &binary_backward<T>, name, out, a.id(), b.id(), -1, nullptr, T(0), T(0),
         static_cast<Index>(op), static_cast<Index>(ka) | (static_cast<Index>(kb) << 8));
  t.check_forward(out, name);
  return Var<T>(&t, out);
}

template <typename T>
inline void affine_backward(Tape<T>& t, const Node<T>& n) {
  auto g = t.sink(n.in[0]);
  if (!g) return;
  const Index N = t.shape(n.out).numel();
  accumulate(g, flat(g.ptr, N), cflat(t.grad_in(n.out), N) * n.s[0]);
}

}  // namespace detail

/// Element-wise a + b with broadcasting (equal shapes, a row vector [C] or [1, C], a column
/// [R, 1], or a one-element tensor on either side).
template <typename T>
inline Var<T> add(const Var<T>& a, const Var<T>& b) {
  return detail::binary(a, b, detail::BinOp::Add);
}
/// Element-wise a − b with the broadcasting rules of `add`.
template <typename T>
inline Var<T> sub(const Var<T>& a, const Var<T>& b) {
  return detail::binary(a, b, detail::BinOp::Sub);
}
/// Element-wise a ∘ b with the broadcasting rules of `add`.
template <typename T>
inline Var<T> mul(const Var<T>& a, const Var<T>& b) {
  return detail::binary(a, b, detail::BinOp::Mul);
}
/// Element-wise a / b with the broadcasting rules of `add`.
template <typename T>
inline Var<T> div(const Var<T>& a, const Var<T>& b) {
  return detail::binary(a, b, detail::BinOp::Div);
}

/// y = alpha·x + beta element-wise (covers x + s, x − s, s − x, x·s, x / s).
template <typename T>
inline Var<T> affine(const Var<T>& x, detail::type_identity_t<T> alpha,
                     detail::type_identity_t<T> beta) {
  Tape<T>& t = x.tape();
  const int out = detail::make_output(t, x.shape(), x.requires_grad());
  const Index N = x.numel();
  detail::flat(t.value(out), N) = detail::cflat(t.value(x.id()), N) * alpha + beta;
  detail::record(t, &detail::affine_backward<T>, "affine", out, x.id(), -1, -1, nullptr, alpha);
  t.check_forward(out, "affine");
  return Var<T>(&t, out);
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
using autograd::mul;
using autograd::sub;
}  // namespace onestone
