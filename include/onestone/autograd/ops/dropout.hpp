#pragma once
/// @file dropout.hpp
/// Inverted dropout: in training, zero each element with probability p and scale the rest by
/// 1/(1−p); identity otherwise.

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone {
namespace autograd {
namespace detail {
/// Saved state of dropout: the mask (0 or 1/(1−p) per element, in the arena).
template <typename T>
struct DropoutOp {
  static Var<T> apply(const Var<T>& x, T p, bool training, Generator& gen);
  const T* mask;
  const char* name() const { return "dropout"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void DropoutOp<T>::backward(const BackwardContext<T>& c) const {
  const GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  const Index N = c.output_shape().numel();
  accumulate(gs, flat(gs.ptr, N), cflat(c.grad_output(), N) * cflat(mask, N));
}
template <typename T>
Var<T> DropoutOp<T>::apply(const Var<T>& x, T p, bool training, Generator& gen) {
  if (!(p >= T(0) && p <= T(1)))
    throw std::invalid_argument("dropout: probability " + std::to_string(p) + " not in [0, 1]");
  if (!training || p == T(0)) return x;
  Tape<T>& t = x.tape();
  const Index N = x.numel();
  T* mask = t.arena().template allocate<T>(static_cast<std::size_t>(N));
  const T keep_scale = p < T(1) ? T(1) / (T(1) - p) : T(0);
  const double pd = static_cast<double>(p);
  for (Index k = 0; k < N; ++k) mask[k] = gen.uniform() < pd ? T(0) : keep_scale;
  const int out = make_output(t, x.shape(), x.requires_grad());
  flat(t.value(out), N) = cflat(t.value(x.id()), N) * cflat<T>(mask, N);
  return emit(t, out, DropoutOp<T>{mask}, {x.id()});
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, DropoutOp)
}  // namespace detail

/// Inverted dropout with drop probability p in [0, 1], drawing the mask from `gen`.
/// Returns x itself when `training` is false or p is 0.
///
/// Example: `auto h = dropout(x, 0.1f, model.is_training(), gen);`
template <typename T>
inline Var<T> dropout(const Var<T>& x, detail::type_identity_t<T> p, bool training,
                      Generator& gen = default_generator()) {
  return detail::DropoutOp<T>::apply(x, p, training, gen);
}

}  // namespace autograd
using autograd::dropout;
}  // namespace onestone
