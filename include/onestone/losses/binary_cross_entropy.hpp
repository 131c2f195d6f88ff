#pragma once
/// @file binary_cross_entropy.hpp
/// Binary cross entropy on logits (stable form).

#include <cmath>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/losses/cross_entropy.hpp"

namespace onestone {
namespace losses {
namespace detail {
template <typename T>
inline void bce_backward(autograd::Tape<T>& t, const autograd::Node<T>& n) {
  const Index N = t.shape(n.in[0]).numel();
  const T g = t.grad_in(n.out)[0] * n.s[0];
  autograd::detail::ConstFlatArray<T> x(t.value(n.in[0]), N);
  autograd::detail::ConstFlatArray<T> y(t.value(n.in[1]), N);
  if (auto gx = t.sink(n.in[0]))
    autograd::accumulate(gx, autograd::detail::flat(gx.ptr, N),
                         (T(1) / (T(1) + (-x).exp()) - y) * g);
  if (auto gy = t.sink(n.in[1]))
    autograd::accumulate(gy, autograd::detail::flat(gy.ptr, N), -x * g);
}
}  // namespace detail

/// Binary cross entropy between logits and targets in [0, 1] of the same shape, computed
/// stably as max(x, 0) − x·y + log(1 + e^{−|x|}), averaged (or summed) over all elements.
///
/// Example: `auto loss = onestone::losses::binary_cross_entropy_with_logits(logits, targets);`
template <typename T>
inline Var<T> binary_cross_entropy_with_logits(const Var<T>& logits, const Var<T>& targets,
                                               Reduction reduction = Reduction::Mean) {
  using namespace autograd::detail;
  autograd::Tape<T>& t = common_tape(logits, targets, "binary_cross_entropy_with_logits");
  if (logits.numel() != targets.numel())
    throw std::invalid_argument(shapes_msg("binary_cross_entropy_with_logits", logits.shape(),
                                           targets.shape(), "logits and targets differ in size"));
  const Index N = logits.numel();
  ConstFlatArray<T> x(t.value(logits.id()), N);
  ConstFlatArray<T> y(t.value(targets.id()), N);
  const T total = (x.max(T(0)) - x * y + (T(1) + (-x.abs()).exp()).log()).sum();
  const T scale = reduction == Reduction::Mean ? T(1) / static_cast<T>(N ? N : 1) : T(1);
  const int out = make_output(t, Shape{}, logits.requires_grad() || targets.requires_grad());
  t.value(out)[0] = total * scale;
  record(t, &detail::bce_backward<T>, "binary_cross_entropy_with_logits", out, logits.id(),
         targets.id(), -1, nullptr, scale);
  t.check_forward(out, "binary_cross_entropy_with_logits");
  return Var<T>(&t, out);
}
/// Overload taking constant targets (viewed, not copied; they must outlive backward).
template <typename T>
inline Var<T> binary_cross_entropy_with_logits(const Var<T>& logits, const Tensor<T>& targets,
                                               Reduction reduction = Reduction::Mean) {
  return binary_cross_entropy_with_logits(logits, Var<T>::from(targets, logits.tape()), reduction);
}

}  // namespace losses
}  // namespace onestone
