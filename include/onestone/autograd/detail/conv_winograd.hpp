#pragma once
/// @file conv_winograd.hpp
/// Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2016) for 3x3 convolutions of stride
/// 1: each 2x2 block of outputs costs 16 multiplications per input channel instead of 36, so the
/// three products of a convolution's step (forward, input gradient, weight gradient) do 2.25
/// times fewer multiply-adds. The tile transforms (winograd_kernels.inc) run on the instruction
/// set chosen for GEMM (AVX-512 or AVX2+FMA); the 16 products per block of tiles run on
/// onestone's GEMM kernels. This header holds the kernels' dispatch and the kernel (weight)
/// transforms; the convolution's driver is in ops/conv.hpp.

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "onestone/autograd/detail/gemm_simd.hpp"
#include "onestone/tensor/shape.hpp"

namespace onestone {
namespace autograd {
namespace detail {

// The loop that follows carries no dependence between iterations (see winograd_kernels.inc).
#if defined(__clang__)
#define ONESTONE_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define ONESTONE_IVDEP _Pragma("GCC ivdep")
#else
#define ONESTONE_IVDEP
#endif
#define ONESTONE_ISA_KERNELS "onestone/autograd/detail/winograd_kernels.inc"
#include "onestone/autograd/detail/isa_kernels.inc"
#undef ONESTONE_IVDEP

/// Whether 3x3 convolutions of stride 1 may use Winograd's F(2x2, 3x3) (default: yes; the
/// environment variable ONESTONE_CONV_WINOGRAD=0 turns it off, e.g. to get im2col's rounding).
/// Tests switch it to compare both paths (not thread-safe to change).
inline bool& conv_winograd_enabled() {
  static bool on = [] {
    const char* env = std::getenv("ONESTONE_CONV_WINOGRAD");
    return !(env && std::strcmp(env, "0") == 0);
  }();
  return on;
}

/// Transforms the kernels w [O, C, 3, 3] into U = G g Gᵀ, stored twice: u [16][O][C] (for the
/// forward and the weight's gradient) and ut [16][C][O] (for the input's gradient; null: not
/// needed).
template <typename T>
inline void winograd_weights(const T* w, Index O, Index C, T* u, T* ut) {
  const T h = T(0.5);
  const Index OC = O * C;
  for (Index o = 0; o < O; ++o)
    for (Index c = 0; c < C; ++c) {
      const T* g = w + (o * C + c) * 9;
      T q[4][3];
      for (int b = 0; b < 3; ++b) {  // G along the kernel's rows
        q[0][b] = g[b];
        q[1][b] = h * (g[b] + g[3 + b] + g[6 + b]);
        q[2][b] = h * (g[b] - g[3 + b] + g[6 + b]);
        q[3][b] = g[6 + b];
      }
      for (int i = 0; i < 4; ++i) {  // then along its columns
        const T r[4] = {q[i][0], h * (q[i][0] + q[i][1] + q[i][2]),
                        h * (q[i][0] - q[i][1] + q[i][2]), q[i][2]};
        for (int j = 0; j < 4; ++j) {
          u[(4 * i + j) * OC + o * C + c] = r[j];
          if (ut) ut[(4 * i + j) * OC + c * O + o] = r[j];
        }
      }
    }
}

/// The adjoint of `winograd_weights`: the kernels' gradient Gᵀ dU G of du [16][O][C], element
/// e = (o·C + c)·9 + 3a + b passed to add(e, value).
template <typename T, typename Add>
inline void winograd_weights_grad(const T* du, Index O, Index C, Add&& add) {
  const T h = T(0.5);
  const Index OC = O * C;
  for (Index o = 0; o < O; ++o)
    for (Index c = 0; c < C; ++c) {
      T q[4][3];
      // Gᵀ along the columns: (u0 + ½u1 + ½u2, ½u1 − ½u2, ½u1 + ½u2 + u3)
      for (int i = 0; i < 4; ++i) {
        const T* ui = du + 4 * i * OC + o * C + c;
        const T u0 = ui[0], u1 = ui[OC], u2 = ui[2 * OC], u3 = ui[3 * OC];
        q[i][0] = u0 + h * (u1 + u2);
        q[i][1] = h * (u1 - u2);
        q[i][2] = h * (u1 + u2) + u3;
      }
      const Index e = (o * C + c) * 9;
      for (int b = 0; b < 3; ++b) {  // then along the rows
        add(e + b, q[0][b] + h * (q[1][b] + q[2][b]));
        add(e + 3 + b, h * (q[1][b] - q[2][b]));
        add(e + 6 + b, h * (q[1][b] + q[2][b]) + q[3][b]);
      }
    }
}

// Dispatch to the kernels of `isa` (Avx2 or Avx512; see winograd_kernels.inc for each).
template <typename T>
inline void wino_input_tiles_isa(GemmIsa isa, const T* x, Index H, Index W, Index ph, Index pw,
                                 Index TW, Index ty0, Index ty1, T* scratch, T* v, Index ld) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512)
    avx512::wino_input_tiles<T>(x, H, W, ph, pw, TW, ty0, ty1, scratch, v, ld);
  else
    avx2::wino_input_tiles<T>(x, H, W, ph, pw, TW, ty0, ty1, scratch, v, ld);
#else
  (void)isa, (void)x, (void)H, (void)W, (void)ph, (void)pw, (void)TW, (void)ty0, (void)ty1;
  (void)scratch, (void)v, (void)ld;
#endif
}
template <typename T>
inline void wino_output_tiles_isa(GemmIsa isa, const T* m, Index ld, Index TW, Index ty0, Index ty1,
                                  Index HO, Index WO, T bias, T* y, T* scratch) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512)
    avx512::wino_output_tiles<T>(m, ld, TW, ty0, ty1, HO, WO, bias, y, scratch);
  else
    avx2::wino_output_tiles<T>(m, ld, TW, ty0, ty1, HO, WO, bias, y, scratch);
#else
  (void)isa, (void)m, (void)ld, (void)TW, (void)ty0, (void)ty1, (void)HO, (void)WO, (void)bias;
  (void)y, (void)scratch;
#endif
}
template <typename T>
inline void wino_grad_output_tiles_isa(GemmIsa isa, const T* dy, Index HO, Index WO, Index TW,
                                       Index ty0, Index ty1, T* scratch, T* dm, Index ld) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512)
    avx512::wino_grad_output_tiles<T>(dy, HO, WO, TW, ty0, ty1, scratch, dm, ld);
  else
    avx2::wino_grad_output_tiles<T>(dy, HO, WO, TW, ty0, ty1, scratch, dm, ld);
#else
  (void)isa, (void)dy, (void)HO, (void)WO, (void)TW, (void)ty0, (void)ty1, (void)scratch;
  (void)dm, (void)ld;
#endif
}
template <typename T>
inline void wino_input_grad_tiles_isa(GemmIsa isa, const T* dv, Index ld, Index TW, Index ty0,
                                      Index ty1, T* plane, T* scratch) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512)
    avx512::wino_input_grad_tiles<T>(dv, ld, TW, ty0, ty1, plane, scratch);
  else
    avx2::wino_input_grad_tiles<T>(dv, ld, TW, ty0, ty1, plane, scratch);
#else
  (void)isa, (void)dv, (void)ld, (void)TW, (void)ty0, (void)ty1, (void)plane, (void)scratch;
#endif
}
template <typename T>
inline void wino_plane_to_grad_isa(GemmIsa isa, const T* plane, Index TW, Index H, Index W,
                                   Index ph, Index pw, T* dx) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512)
    avx512::wino_plane_to_grad<T>(plane, TW, H, W, ph, pw, dx);
  else
    avx2::wino_plane_to_grad<T>(plane, TW, H, W, ph, pw, dx);
#else
  (void)isa, (void)plane, (void)TW, (void)H, (void)W, (void)ph, (void)pw, (void)dx;
#endif
}

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
