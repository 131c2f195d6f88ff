#pragma once
/// @file select.hpp
/// Selection by a mask, with NumPy broadcasting: `where(cond, a, b)` and
/// `masked_fill(x, mask, value)`. Masks are `Mask` tensors (one byte per element, nonzero =
/// true); they carry no gradient.

#include <cstdint>
#include <cstring>

#include "onestone/autograd/detail/broadcast.hpp"
#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"

namespace onestone {

/// A boolean tensor: one byte per element, nonzero meaning true (padding masks, label masks).
using Mask = Tensor<std::uint8_t>;

namespace autograd {
namespace detail {

/// Saved state of where: the plan over (cond, a, b) and a copy of cond.
template <typename T>
struct WhereOp {
  Plan plan;
  const std::uint8_t* cond;
  const char* name() const { return "where"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void WhereOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> ga = c.input_grad(0), gb = c.input_grad(1);
  if (!ga && !gb) return;
  const Index N = c.output_shape().numel();
  const Index na = c.input_shape(0).numel(), nb = c.input_shape(1).numel();
  // Sinks of stretched operands, and all of them when assigned element by element below.
  if (ga) ga.zero_if_fresh(na);
  if (gb) gb.zero_if_fresh(nb);
  (void)N;
  const T* G = c.grad_output();
  const Index len = plan.row_length();
  const Index sc = plan.inner(0), sa = plan.inner(1), sb = plan.inner(2);
  for_rows(plan, 0, plan.rows(), [&](Index row, const Index* off) {
    const T* g = G + row * len;
    for (Index i = 0; i < len; ++i) {
      if (cond[off[0] + i * sc]) {
        if (ga) ga.ptr[off[1] + i * sa] += g[i];
      } else if (gb) {
        gb.ptr[off[2] + i * sb] += g[i];
      }
    }
  });
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, WhereOp)

/// Saved state of masked_fill: the plan over (x, mask) and a copy of the mask.
template <typename T>
struct MaskedFillOp {
  Plan plan;
  const std::uint8_t* mask;
  const char* name() const { return "masked_fill"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void MaskedFillOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gx = c.input_grad(0);
  if (!gx) return;
  const T* G = c.grad_output();
  const Index len = plan.row_length();
  const Index sm = len == 1 ? 1 : plan.inner(1);
  for_rows(plan, 0, plan.rows(), [&](Index row, const Index* off) {
    for (Index i = 0; i < len; ++i) {
      const Index k = row * len + i;
      gx.add(k, mask[off[1] + i * sm] ? T(0) : G[k]);
    }
  });
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, MaskedFillOp)

template <typename T>
inline const std::uint8_t* store_mask(Tape<T>& t, const Mask& m) {
  std::uint8_t* p = t.arena().template allocate<std::uint8_t>(
      static_cast<std::size_t>(m.numel() ? m.numel() : 1));
  if (m.numel()) std::memcpy(p, m.data(), static_cast<std::size_t>(m.numel()));
  return p;
}

}  // namespace detail

/// Element-wise cond ? a : b, with cond, a and b broadcast together (NumPy rules).
/// Example: `where(is_labelled, loss, zeros)`.
template <typename T>
inline Var<T> where(const Mask& cond, const Var<T>& a, const Var<T>& b) {
  Tape<T>& t = detail::common_tape(a, b, "where");
  Shape sab, so;
  if (!broadcast_shapes(a.shape(), b.shape(), sab))
    throw std::invalid_argument(
        detail::shapes_msg("where", a.shape(), b.shape(), "the two values do not broadcast"));
  if (!broadcast_shapes(cond.shape(), sab, so))
    throw std::invalid_argument(detail::shapes_msg(
        "where", cond.shape(), sab, "the condition does not broadcast to the values"));
  const int out = detail::make_output(t, so, a.requires_grad() || b.requires_grad());
  detail::WhereOp<T> op;
  op.plan = detail::broadcast_plan(so, {&cond.shape(), &a.shape(), &b.shape()});
  op.cond = detail::store_mask(t, cond);
  const Index len = op.plan.row_length();
  const Index sc = op.plan.inner(0), sa = op.plan.inner(1), sb = op.plan.inner(2);
  const T* A = a.data();
  const T* B = b.data();
  T* Y = t.value(out);
  if (so.numel() > 0)
    detail::for_rows(op.plan, 0, op.plan.rows(), [&](Index row, const Index* off) {
      T* y = Y + row * len;
      for (Index i = 0; i < len; ++i)
        y[i] = op.cond[off[0] + i * sc] ? A[off[1] + i * sa] : B[off[2] + i * sb];
    });
  return detail::emit(t, out, op, {a.id(), b.id()});
}

/// x with `value` where `mask` is true; mask broadcasts to x's shape. No gradient reaches the
/// filled elements. Example (attention padding): `masked_fill(scores, pad_mask, -1e9f)`.
template <typename T>
inline Var<T> masked_fill(const Var<T>& x, const Mask& mask, detail::type_identity_t<T> value) {
  Shape so;
  if (!broadcast_shapes(x.shape(), mask.shape(), so) || so != x.shape())
    throw std::invalid_argument(detail::shapes_msg("masked_fill", x.shape(), mask.shape(),
                                                   "the mask does not broadcast to the input"));
  Tape<T>& t = x.tape();
  const int out = detail::make_output(t, so, x.requires_grad());
  detail::MaskedFillOp<T> op;
  op.plan = detail::broadcast_plan(so, {&x.shape(), &mask.shape()});
  op.mask = detail::store_mask(t, mask);
  const Index len = op.plan.row_length();
  const Index sm = len == 1 ? 1 : op.plan.inner(1);
  const T* X = x.data();
  T* Y = t.value(out);
  if (so.numel() > 0)
    detail::for_rows(op.plan, 0, op.plan.rows(), [&](Index row, const Index* off) {
      for (Index i = 0; i < len; ++i) {
        const Index k = row * len + i;
        Y[k] = op.mask[off[1] + i * sm] ? value : X[k];
      }
    });
  return detail::emit(t, out, op, {x.id()});
}

}  // namespace autograd
using autograd::masked_fill;
using autograd::where;
}  // namespace onestone
