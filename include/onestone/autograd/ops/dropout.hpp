#pragma once
/// @file dropout.hpp
/// Inverted dropout: in training, zero each element (`dropout`) or each whole channel
/// (`dropout2d`) with probability p and scale the rest by 1/(1−p); identity otherwise.

#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {
namespace detail {

__extension__ typedef unsigned __int128 dropout_u128;  // GCC and Clang

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
  // One generator draw per call seeds a counter-based stream: element pair j gets the 64 bits
  // of wyrand's mix of base + (j+1)·c and each element one 32-bit half; the element is dropped when its
  // half is below p·2³² (the drop probability is p to within 2⁻³²). Independent per element,
  // so the loop pipelines and splits across threads with the same bits on any thread count.
  const double pd = static_cast<double>(p);
  const std::uint64_t thr =
      pd >= 1.0 ? (std::uint64_t(1) << 32) : static_cast<std::uint64_t>(pd * 4294967296.0);
  const std::uint64_t base = gen.next_u64();
  const Index pairs = (N + 1) / 2;
  onestone::detail::parallel_ranges(pairs, onestone::detail::kParallelElements / 2, [&](Index lo, Index hi) {
    for (Index j = lo; j < hi; ++j) {
      // wyrand's output function on the counter: one 64×64→128-bit product, folded.
      const std::uint64_t a = base + static_cast<std::uint64_t>(j + 1) * 0xa0761d6478bd642fULL;
      const dropout_u128 prod = static_cast<dropout_u128>(a) * (a ^ 0xe7037ed1a0b428dbULL);
      const std::uint64_t z = static_cast<std::uint64_t>(prod >> 64) ^ static_cast<std::uint64_t>(prod);
      mask[2 * j] = (z >> 32) < thr ? T(0) : keep_scale;
      if (2 * j + 1 < N) mask[2 * j + 1] = (z & 0xffffffffu) < thr ? T(0) : keep_scale;
    }
  });
  const int out = make_output(t, x.shape(), x.requires_grad());
  flat(t.value(out), N) = cflat(t.value(x.id()), N) * cflat<T>(mask, N);
  return emit(t, out, DropoutOp<T>{mask}, {x.id()});
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, DropoutOp)

/// Saved state of dropout2d: the mask per (sample, channel) (0 or 1/(1−p), in the arena) and
/// the number of values per channel.
template <typename T>
struct Dropout2dOp {
  static Var<T> apply(const Var<T>& x, T p, bool training, Generator& gen);
  const T* mask;
  Index NC, S;
  const char* name() const { return "dropout2d"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void Dropout2dOp<T>::backward(const BackwardContext<T>& c) const {
  const GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  const T* g = c.grad_output();
  for (Index p = 0; p < NC; ++p)
    accumulate(gs, flat(gs.ptr + p * S, S), cflat(g + p * S, S) * mask[p]);
}
template <typename T>
Var<T> Dropout2dOp<T>::apply(const Var<T>& x, T p, bool training, Generator& gen) {
  const Shape& s = x.shape();
  if (s.rank() != 4)
    throw std::invalid_argument("dropout2d: expected input [N, C, H, W], got " + s.str());
  if (!(p >= T(0) && p <= T(1)))
    throw std::invalid_argument("dropout2d: probability " + std::to_string(p) + " not in [0, 1]");
  if (!training || p == T(0)) return x;
  Tape<T>& t = x.tape();
  const Index NC = s[0] * s[1], S = s[2] * s[3];
  T* mask = t.arena().template allocate<T>(static_cast<std::size_t>(NC > 0 ? NC : 1));
  const T keep_scale = p < T(1) ? T(1) / (T(1) - p) : T(0);
  const double pd = static_cast<double>(p);
  for (Index k = 0; k < NC; ++k) mask[k] = gen.uniform() < pd ? T(0) : keep_scale;
  const int out = make_output(t, s, x.requires_grad());
  const T* X = t.value(x.id());
  T* Y = t.value(out);
  for (Index k = 0; k < NC; ++k) flat(Y + k * S, S) = cflat(X + k * S, S) * mask[k];
  return emit(t, out, Dropout2dOp<T>{mask, NC, S}, {x.id()});
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, Dropout2dOp)
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

/// Channel dropout of x [N, C, H, W] with drop probability p in [0, 1], as PyTorch's
/// `dropout2d`: each (sample, channel) plane is zeroed as a whole with probability p (one
/// draw from `gen` per plane, in order) and the others are scaled by 1/(1−p). Returns x itself
/// when `training` is false or p is 0.
///
/// Example: `auto h = dropout2d(features, 0.2f, model.is_training(), gen);`
template <typename T>
inline Var<T> dropout2d(const Var<T>& x, detail::type_identity_t<T> p, bool training,
                        Generator& gen = default_generator()) {
  return detail::Dropout2dOp<T>::apply(x, p, training, gen);
}

}  // namespace autograd
using autograd::dropout;
using autograd::dropout2d;
}  // namespace onestone
