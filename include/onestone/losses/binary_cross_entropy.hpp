#pragma once
/// @file binary_cross_entropy.hpp
/// Binary cross entropy on logits (stable form), with per-sample weights.

#include <cmath>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/losses/reduction.hpp"

namespace onestone {
namespace losses {
namespace detail {

/// Saved state of binary_cross_entropy_with_logits: the per-element weights (arena; null when
/// all are 1) and the scale of the reduction.
template <typename T>
struct BceOp {
  static Var<T> apply(const Var<T>& logits, const Var<T>& targets, const LossOptions<T>& opt);
  const T* ew;
  T scale;
  const char* name() const { return "binary_cross_entropy_with_logits"; }
  void backward(const autograd::BackwardContext<T>& c) const;
};

template <typename T>
void BceOp<T>::backward(const autograd::BackwardContext<T>& c) const {
  using autograd::detail::cflat;
  using autograd::detail::flat;
  const Index N = c.input_shape(0).numel();
  const T g = c.grad_output()[0] * scale;
  autograd::detail::ConstFlatArray<T> x = cflat(c.input(0), N), y = cflat(c.input(1), N);
  if (auto gx = c.input_grad(0)) {
    if (ew)
      autograd::accumulate(gx, flat(gx.ptr, N),
                           (T(1) / (T(1) + (-x).exp()) - y) * cflat(ew, N) * g);
    else
      autograd::accumulate(gx, flat(gx.ptr, N), (T(1) / (T(1) + (-x).exp()) - y) * g);
  }
  if (auto gy = c.input_grad(1)) {
    if (ew)
      autograd::accumulate(gy, flat(gy.ptr, N), -x * cflat(ew, N) * g);
    else
      autograd::accumulate(gy, flat(gy.ptr, N), -x * g);
  }
}

/// Per-element weights from per-sample ones (null when there are none): sample n's weight
/// repeated over its `per` elements; returns their sum in `total`.
template <typename T>
inline const T* element_weights(autograd::Tape<T>& t, const Tensor<T>* sw, Index samples, Index per,
                                T& total) {
  if (!sw) {
    total = static_cast<T>(samples * per);
    return nullptr;
  }
  const Index n_el = samples * per;
  T* ew = t.arena().template allocate<T>(static_cast<std::size_t>(n_el > 0 ? n_el : 1));
  total = 0;
  for (Index n = 0; n < samples; ++n) {
    const T w = (*sw)[n];
    for (Index k = 0; k < per; ++k) ew[n * per + k] = w;
    total += w * static_cast<T>(per);
  }
  return ew;
}

template <typename T>
Var<T> BceOp<T>::apply(const Var<T>& logits, const Var<T>& targets, const LossOptions<T>& opt) {
  using namespace autograd::detail;
  using namespace autograd::detail;
  const char* name = "binary_cross_entropy_with_logits";
  autograd::Tape<T>& t = common_tape(logits, targets, name);
  if (logits.numel() != targets.numel())
    throw std::invalid_argument(
        shapes_msg(name, logits.shape(), targets.shape(), "logits and targets differ in size"));
  const Index N = logits.numel();
  const Index samples = logits.shape().rank() ? logits.shape()[0] : 1;
  check_sample_weight(name, opt.sample_weight_, samples);
  T denom;
  const T* ew = element_weights(t, opt.sample_weight_, samples, samples ? N / samples : 0, denom);
  ConstFlatArray<T> x = cflat(logits.data(), N), y = cflat(targets.data(), N);
  const T total = ew ? ((x.max(T(0)) - x * y + (-x.abs()).exp().log1p()) * cflat(ew, N)).sum()
                     : (x.max(T(0)) - x * y + (-x.abs()).exp().log1p()).sum();
  const T scale = opt.reduction_ == Reduction::Mean ? (denom > T(0) ? T(1) / denom : T(0)) : T(1);
  const int out = make_output(t, Shape{}, logits.requires_grad() || targets.requires_grad());
  t.value(out)[0] = total * scale;
  return emit(t, out, BceOp<T>{ew, scale}, {logits.id(), targets.id()});
}
ONESTONE_EXTERN_CLASS(LOSSES, BceOp)

}  // namespace detail

/// Binary cross entropy between logits and targets in [0, 1] of the same shape, computed
/// stably as max(x, 0) − x·y + log(1 + e^{−|x|}), averaged (or summed) over all elements;
/// per-sample weights (options) weigh each sample's elements and the mean divides by their sum.
///
/// Example: `auto loss = onestone::losses::binary_cross_entropy_with_logits(logits, targets);`
template <typename T>
inline Var<T> binary_cross_entropy_with_logits(const Var<T>& logits, const Var<T>& targets,
                                               const LossOptions<T>& opt) {
  return detail::BceOp<T>::apply(logits, targets, opt);
}
template <typename T>
inline Var<T> binary_cross_entropy_with_logits(const Var<T>& logits, const Var<T>& targets,
                                               Reduction reduction = Reduction::Mean) {
  return binary_cross_entropy_with_logits(logits, targets, LossOptions<T>().reduction(reduction));
}
/// Overloads taking constant targets (viewed, not copied; they must outlive backward).
template <typename T>
inline Var<T> binary_cross_entropy_with_logits(const Var<T>& logits, const Tensor<T>& targets,
                                               Reduction reduction = Reduction::Mean) {
  return binary_cross_entropy_with_logits(logits, Var<T>::from(targets, logits.tape()), reduction);
}
template <typename T>
inline Var<T> binary_cross_entropy_with_logits(const Var<T>& logits, const Tensor<T>& targets,
                                               const LossOptions<T>& opt) {
  return binary_cross_entropy_with_logits(logits, Var<T>::from(targets, logits.tape()), opt);
}

}  // namespace losses
}  // namespace onestone
