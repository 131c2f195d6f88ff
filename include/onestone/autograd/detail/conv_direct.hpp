#pragma once
/// @file conv_direct.hpp
/// Direct convolution kernels (no im2col) for convolutions with few input channels per group,
/// stride 1, no dilation and no padding (a network's first layer on grey or RGB images, such as
/// LeNet's conv 1→10 5×5): the forward and the weight's gradient, vectorised along output rows,
/// with the instruction set chosen at run time as for GEMM (gemm_simd.hpp). Where neither
/// AVX-512 nor AVX2+FMA is available the convolution stays on im2col + GEMM.

#include <algorithm>
#include <type_traits>

#include "onestone/autograd/detail/gemm_simd.hpp"
#include "onestone/tensor/shape.hpp"

namespace onestone {
namespace autograd {
namespace detail {

#define ONESTONE_ISA_KERNELS "onestone/autograd/detail/conv_kernels.inc"
#include "onestone/autograd/detail/isa_kernels.inc"

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

#ifdef ONESTONE_HAVE_GEMM_SIMD
ONESTONE_SIMD_DIAGNOSTICS_PUSH
namespace avx512 {
// One vector of float or double for col2im_gather (16 or 8 lanes).
struct Col2imF {
  using R = __m512;
  static constexpr int L = 16;
  ONESTONE_TARGET_AVX512 static R load(const float* p, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, p);
  }
  ONESTONE_TARGET_AVX512 static void store(float* p, __mmask16 m, R v) {
    _mm512_mask_storeu_ps(p, m, v);
  }
  // Lane k of the result = lane k + s of v where `m` is set, 0 elsewhere.
  ONESTONE_TARGET_AVX512 static R shift(R v, Index s, __mmask16 m) {
    const __m512i idx =
        _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(static_cast<int>(s)));
    return _mm512_maskz_permutexvar_ps(m, idx, v);
  }
  ONESTONE_TARGET_AVX512 static R add(R a, R b) { return _mm512_add_ps(a, b); }
};
struct Col2imD {
  using R = __m512d;
  static constexpr int L = 8;
  ONESTONE_TARGET_AVX512 static R load(const double* p, __mmask16 m) {
    return _mm512_maskz_loadu_pd(static_cast<__mmask8>(m), p);
  }
  ONESTONE_TARGET_AVX512 static void store(double* p, __mmask16 m, R v) {
    _mm512_mask_storeu_pd(p, static_cast<__mmask8>(m), v);
  }
  ONESTONE_TARGET_AVX512 static R shift(R v, Index s, __mmask16 m) {
    const __m512i idx = _mm512_add_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7),
                                         _mm512_set1_epi64(static_cast<long long>(s)));
    return _mm512_maskz_permutexvar_pd(static_cast<__mmask8>(m), idx, v);
  }
  ONESTONE_TARGET_AVX512 static R add(R a, R b) { return _mm512_add_pd(a, b); }
};
inline __mmask16 col2im_lanes(Index n) {
  return n <= 0 ? __mmask16(0)
                : (n >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u));
}

/// col2im for unit strides and horizontal dilation (any padding, vertical dilation dh), written
/// as a gather: each vector of one input row dx[c, y, x0 .. x0 + L) is loaded once, receives
/// the col entries that read it in the order (i, j) — the order of the scattering col2im, so
/// the same bits — and is stored once. The scatter's stores and reloads of overlapping rows
/// (one per kernel column) stall on store-to-load forwarding; this makes none. RB input rows
/// are gathered side by side (their sums are independent chains: one row alone waits on the
/// latency of each addition).
template <typename T, int RB>
ONESTONE_TARGET_AVX512 inline void col2im_gather_rows(const T* col, Index H, Index W, Index KH,
                                                      Index KW, Index HO, Index WO, Index ph,
                                                      Index pw, Index dh, Index c, Index y0, T* dx,
                                                      Index ld) {
  using X = typename std::conditional<std::is_same<T, float>::value, Col2imF, Col2imD>::type;
  using R = typename X::R;
  constexpr int L = X::L;
  for (Index x0 = 0; x0 < W; x0 += L) {
    const Index n = std::min<Index>(L, W - x0);
    const __mmask16 store_mask = col2im_lanes(n);
    R acc[RB];
#pragma GCC unroll 4
    for (int r = 0; r < RB; ++r) acc[r] = X::load(dx + (c * H + y0 + r) * W + x0, store_mask);
    for (Index i = 0; i < KH; ++i) {
      const Index oy0 = y0 + ph - i * dh;
      if (oy0 + RB <= 0 || oy0 >= HO) continue;
      for (Index j = 0; j < KW; ++j) {
        // Lane k (x = x0 + k) reads column ox = x0 + k + pw − j of the col row.
        const Index s = x0 + pw - j;
        const Index kmin = std::max<Index>(0, -s), kmax = std::min(n, WO - s);
        if (kmin >= kmax) continue;
        const Index base = std::max<Index>(0, s);
        const T* rows = col + ((c * KH + i) * KW + j) * ld + base;
        const __mmask16 load_mask = col2im_lanes(std::min<Index>(L, WO - base));
        const __mmask16 m = static_cast<__mmask16>(col2im_lanes(kmax) & ~col2im_lanes(kmin));
#pragma GCC unroll 4
        for (int r = 0; r < RB; ++r) {
          const Index oy = oy0 + r;
          if (oy < 0 || oy >= HO) continue;
          acc[r] = X::add(acc[r], X::shift(X::load(rows + oy * WO, load_mask), s - base, m));
        }
      }
    }
#pragma GCC unroll 4
    for (int r = 0; r < RB; ++r) X::store(dx + (c * H + y0 + r) * W + x0, store_mask, acc[r]);
  }
}
template <typename T>
ONESTONE_TARGET_AVX512 inline void col2im_gather(const T* col, Index H, Index W, Index KH, Index KW,
                                                 Index HO, Index WO, Index ph, Index pw, Index dh,
                                                 Index c0, Index c1, T* dx, Index ld) {
  for (Index c = c0; c < c1; ++c) {
    Index y = 0;
    for (; y + 4 <= H; y += 4)
      col2im_gather_rows<T, 4>(col, H, W, KH, KW, HO, WO, ph, pw, dh, c, y, dx, ld);
    for (; y < H; ++y)
      col2im_gather_rows<T, 1>(col, H, W, KH, KW, HO, WO, ph, pw, dh, c, y, dx, ld);
  }
}
}  // namespace avx512
ONESTONE_SIMD_DIAGNOSTICS_POP
#endif

/// im2col (add = false) or its adjoint col2im (add = true) for horizontal stride sw of 1 or 2 and
/// unit horizontal dilation with the kernels of `isa` (see conv_kernels.inc); false when `isa`
/// has none or the stride is larger (the caller then uses its portable loops).
template <typename T>
inline bool im2col_kernel_isa(GemmIsa isa, bool add, const T* src, T* dst, Index H, Index W,
                              Index KH, Index KW, Index HO, Index WO, Index sh, Index ph, Index pw,
                              Index dh, Index c0, Index c1, Index ld, Index sw = 1) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (sw == 2 && isa != GemmIsa::Eigen) {
    // Horizontal stride 2 (downsampling layers): vectorised loops on the chosen set.
    if (isa == GemmIsa::Avx512 && add)
      avx512::col2im_stride2<T>(src, H, W, KH, KW, HO, WO, sh, ph, pw, dh, c0, c1, dst, ld);
    else if (isa == GemmIsa::Avx512)
      avx512::im2col_stride2<T>(src, H, W, KH, KW, HO, WO, sh, ph, pw, dh, c0, c1, dst, ld);
    else if (add)
      avx2::col2im_stride2<T>(src, H, W, KH, KW, HO, WO, sh, ph, pw, dh, c0, c1, dst, ld);
    else
      avx2::im2col_stride2<T>(src, H, W, KH, KW, HO, WO, sh, ph, pw, dh, c0, c1, dst, ld);
    return true;
  }
  if (sw != 1) return false;
  // Output rows of at most half an AVX-512 vector are copied with AVX2's vectors: measured 1.4
  // times faster for LeNet's conv2 (rows of 8 floats) than masked 16-lane loads and stores.
  if (isa == GemmIsa::Avx512 && !add && WO <= Index(32 / sizeof(T))) isa = GemmIsa::Avx2;
  if (isa == GemmIsa::Avx512) {
    if (add && sh == 1)
      avx512::col2im_gather<T>(src, H, W, KH, KW, HO, WO, ph, pw, dh, c0, c1, dst, ld);
    else if (add)
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
  (void)WO, (void)sh, (void)ph, (void)pw, (void)dh, (void)c0, (void)c1, (void)ld, (void)sw;
  return false;
}

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
