#pragma once
/// @file dropout.hpp
/// Inverted dropout: in training, zero each element (`dropout`) or each whole channel
/// (`dropout2d`) with probability p and scale the rest by 1/(1−p); identity otherwise.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "onestone/autograd/detail/gemm_simd.hpp"
#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/threads.hpp"

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
/// splitmix64's output function: the dropout stream's 64 bits for pair j.
inline std::uint64_t dropout_bits(std::uint64_t base, Index j) {
  std::uint64_t z = base + static_cast<std::uint64_t>(j + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Mask and output of dropout for the element pairs [lo, hi): mask 0 (dropped) or `keep`,
/// y = x·mask.
template <typename T>
inline void dropout_fill_scalar(const T* x, T* y, T* mask, Index n, Index lo, Index hi,
                                std::uint64_t base, std::uint32_t thr, T keep) {
  for (Index j = lo; j < hi; ++j) {
    const std::uint64_t z = dropout_bits(base, j);
    const Index k = 2 * j;
    mask[k] = static_cast<std::uint32_t>(z >> 32) < thr ? T(0) : keep;
    y[k] = x[k] * mask[k];
    if (k + 1 < n) {
      mask[k + 1] = static_cast<std::uint32_t>(z) < thr ? T(0) : keep;
      y[k + 1] = x[k + 1] * mask[k + 1];
    }
  }
}

#ifdef ONESTONE_HAVE_GEMM_SIMD
// GCC 12 reports its own AVX-512 shift intrinsics as "maybe used uninitialized" when they are
// inlined into a function with a target attribute (as in gemm_simd.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/// The float loop with AVX-512 (8 pairs = 16 elements per iteration), bit-identical to
/// `dropout_fill_scalar`.
__attribute__((target("avx512f,avx512dq"))) inline void dropout_fill_avx512(
    const float* x, float* y, float* mask, Index n, Index lo, Index hi, std::uint64_t base,
    std::uint32_t thr, float keep) {
  const __m512i phi = _mm512_set1_epi64(static_cast<long long>(0x9E3779B97F4A7C15ULL));
  const __m512i c1 = _mm512_set1_epi64(static_cast<long long>(0xBF58476D1CE4E5B9ULL));
  const __m512i c2 = _mm512_set1_epi64(static_cast<long long>(0x94D049BB133111EBULL));
  const __m512i step = _mm512_set1_epi64(static_cast<long long>(8 * 0x9E3779B97F4A7C15ULL));
  const __m512i vthr = _mm512_set1_epi32(static_cast<int>(thr));
  const __m512 vkeep = _mm512_set1_ps(keep), zero = _mm512_setzero_ps();
  Index j = lo;
  // counter(j + lane) = base + (j + lane + 1)·φ
  __m512i ctr = _mm512_add_epi64(
      _mm512_set1_epi64(
          static_cast<long long>(base + static_cast<std::uint64_t>(j + 1) * 0x9E3779B97F4A7C15ULL)),
      _mm512_mullo_epi64(_mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0), phi));
  for (; j + 8 <= hi && 2 * (j + 8) <= n; j += 8) {
    __m512i z = ctr;
    // The zero-masked forms: the plain ones pass GCC 12's undefined vector, which it reports as
    // "may be used uninitialized" here.
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_maskz_srli_epi64(0xFF, z, 30)), c1);
    z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_maskz_srli_epi64(0xFF, z, 27)), c2);
    z = _mm512_xor_si512(z, _mm512_maskz_srli_epi64(0xFF, z, 31));
    // Element 2j takes the high half: swap the 32-bit halves of each 64-bit lane.
    z = _mm512_maskz_shuffle_epi32(0xFFFF, z, static_cast<_MM_PERM_ENUM>(0xB1));
    const __mmask16 dropped = _mm512_cmplt_epu32_mask(z, vthr);
    const __m512 m = _mm512_mask_blend_ps(dropped, vkeep, zero);
    _mm512_storeu_ps(mask + 2 * j, m);
    _mm512_storeu_ps(y + 2 * j, _mm512_mul_ps(_mm512_loadu_ps(x + 2 * j), m));
    ctr = _mm512_add_epi64(ctr, step);
  }
  dropout_fill_scalar(x, y, mask, n, j, hi, base, thr, keep);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

template <typename T>
inline void dropout_fill(const T* x, T* y, T* mask, Index n, Index lo, Index hi, std::uint64_t base,
                         std::uint32_t thr, T keep) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if constexpr (std::is_same<T, float>::value) {
    if (best_gemm_isa() == GemmIsa::Avx512) {
      dropout_fill_avx512(x, y, mask, n, lo, hi, base, thr, keep);
      return;
    }
  }
#endif
  dropout_fill_scalar(x, y, mask, n, lo, hi, base, thr, keep);
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
  // splitmix64(base + (j+1)·φ) and each element one 32-bit half (the high half for the even
  // element); the element is dropped when its half is below p·2³² (the drop probability is p to
  // within 2⁻³²). Independent per element: the loop is vectorized (AVX-512 when the CPU has it,
  // the same bits as the scalar loop) and split across threads, with the same mask on any
  // machine and thread count.
  const double pd = static_cast<double>(p);
  const std::uint32_t thr = pd >= 1.0 ? 0xffffffffu : static_cast<std::uint32_t>(pd * 4294967296.0);
  const std::uint64_t base = gen.next_u64();
  const int out = make_output(t, x.shape(), x.requires_grad());
  const T* X = t.value(x.id());
  T* Y = t.value(out);
  const Index pairs = (N + 1) / 2;
  onestone::detail::parallel_ranges(
      pairs, onestone::detail::kParallelElements / 2,
      [&](Index lo, Index hi) { dropout_fill(X, Y, mask, N, lo, hi, base, thr, keep_scale); });
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
