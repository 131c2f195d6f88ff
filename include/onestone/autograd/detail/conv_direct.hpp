#pragma once
/// @file conv_direct.hpp
/// Direct convolution kernels (no im2col) for convolutions with few input channels per group,
/// stride 1, no dilation and no padding (a network's first layer on grey or RGB images, such as
/// LeNet's conv 1→10 5×5): the forward and the weight's gradient, vectorised along output rows,
/// with the instruction set chosen at run time as for GEMM (gemm_simd.hpp). Where neither
/// AVX-512 nor AVX2+FMA is available the convolution stays on im2col + GEMM.

#include <algorithm>

#include "onestone/autograd/detail/gemm_simd.hpp"
#include "onestone/tensor/shape.hpp"

namespace onestone {
namespace autograd {
namespace detail {

#ifdef ONESTONE_HAVE_GEMM_SIMD
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace avx512 {
#define ONESTONE_SIMD_FN __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma"))) inline
#include "onestone/autograd/detail/conv_kernels.inc"
#undef ONESTONE_SIMD_FN
}  // namespace avx512
namespace avx2 {
#define ONESTONE_SIMD_FN __attribute__((target("avx2,fma"))) inline
#include "onestone/autograd/detail/conv_kernels.inc"
#undef ONESTONE_SIMD_FN
}  // namespace avx2
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

/// Output channels per call of `conv_direct_forward_isa` (at most) for `isa`.
template <typename T>
inline int conv_direct_forward_block(GemmIsa isa) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512) return avx512::direct_forward_ob<T>();
  if (isa == GemmIsa::Avx2) return avx2::direct_forward_ob<T>();
#endif
  (void)isa;
  return 0;
}
/// Output channels per call of `conv_direct_weight_grad_isa` (at most) for `isa`.
template <typename T>
inline int conv_direct_wgrad_block(GemmIsa isa) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512) return avx512::direct_wgrad_ob<T>();
  if (isa == GemmIsa::Avx2) return avx2::direct_wgrad_ob<T>();
#endif
  (void)isa;
  return 0;
}
/// Lanes of one vector of `isa` for T (the direct forward's column block is two of them).
template <typename T>
inline Index conv_direct_lanes(GemmIsa isa) {
  return isa == GemmIsa::Avx512 ? Index(64 / sizeof(T)) : Index(32 / sizeof(T));
}
/// Kernel columns per call of `conv_direct_weight_grad_isa`.
constexpr int kConvDirectCols = 5;

/// The direct forward of `ob` output channels of one sample (see conv_kernels.inc), `nv` (1 or
/// 2) vectors of output columns a block. isa must be Avx2 or Avx512.
template <typename T>
inline void conv_direct_forward_isa(GemmIsa isa, int ob, int nv, const T* x, Index C, Index H,
                                    Index W, Index KH, Index KW, const T* w, Index ldw,
                                    const T* bias, T* y, Index ldy, Index HO, Index WO) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512)
    avx512::conv_direct_forward_n<T>(ob, nv, x, C, H, W, KH, KW, w, ldw, bias, y, ldy, HO, WO);
  else
    avx2::conv_direct_forward_n<T>(ob, nv, x, C, H, W, KH, KW, w, ldw, bias, y, ldy, HO, WO);
#else
  (void)isa, (void)ob, (void)nv, (void)x, (void)C, (void)H, (void)W, (void)KH, (void)KW, (void)w;
  (void)ldw, (void)bias, (void)y, (void)ldy, (void)HO, (void)WO;
#endif
}

/// The direct weight gradient of `ob` output channels, one input channel, kernel row i and
/// kernel columns [j0, j0 + cols) (cols <= kConvDirectCols) over ns samples (see
/// conv_kernels.inc). isa must be Avx2 or Avx512.
template <typename T>
inline void conv_direct_weight_grad_isa(GemmIsa isa, int ob, const T* x, Index xs, Index W,
                                        const T* dy, Index ldy, Index dys, Index ns, Index HO,
                                        Index WO, Index i, Index j0, int cols, T* out, Index ldo) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512)
    avx512::conv_direct_weight_grad_n<T>(ob, x, xs, W, dy, ldy, dys, ns, HO, WO, i, j0, cols, out,
                                         ldo);
  else
    avx2::conv_direct_weight_grad_n<T>(ob, x, xs, W, dy, ldy, dys, ns, HO, WO, i, j0, cols, out,
                                       ldo);
#else
  (void)isa, (void)ob, (void)x, (void)xs, (void)W, (void)dy, (void)ldy, (void)dys, (void)ns;
  (void)HO, (void)WO, (void)i, (void)j0, (void)cols, (void)out, (void)ldo;
#endif
}

/// im2col (add = false) or its adjoint col2im (add = true) for unit horizontal stride and
/// dilation with the kernels of `isa` (see conv_kernels.inc); false when `isa` has none (the
/// caller then uses its portable loops).
template <typename T>
inline bool im2col_unit_stride_isa(GemmIsa isa, bool add, const T* src, T* dst, Index H, Index W,
                                   Index KH, Index KW, Index HO, Index WO, Index sh, Index ph,
                                   Index pw, Index dh, Index c0, Index c1, Index ld) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512) {
    if (add)
      avx512::col2im_unit_stride<T>(src, H, W, KH, KW, HO, WO, sh, ph, pw, dh, c0, c1, dst, ld);
    else
      avx512::im2col_unit_stride<T>(src, H, W, KH, KW, HO, WO, sh, ph, pw, dh, c0, c1, dst, ld);
    return true;
  }
  if (isa == GemmIsa::Avx2) {
    if (add)
      avx2::col2im_unit_stride<T>(src, H, W, KH, KW, HO, WO, sh, ph, pw, dh, c0, c1, dst, ld);
    else
      avx2::im2col_unit_stride<T>(src, H, W, KH, KW, HO, WO, sh, ph, pw, dh, c0, c1, dst, ld);
    return true;
  }
#endif
  (void)isa, (void)add, (void)src, (void)dst, (void)H, (void)W, (void)KH, (void)KW, (void)HO;
  (void)WO, (void)sh, (void)ph, (void)pw, (void)dh, (void)c0, (void)c1, (void)ld;
  return false;
}

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
