#pragma once
/// @file pool_simd.hpp
/// AVX-512 kernels for the 2×2, stride-2 max pooling of LeNet-style networks: the forward (the
/// maximum of each window and its flat index within the plane) and the one-pass backward that
/// writes every input element of a row pair. One call handles one output row. The instruction
/// set is chosen at run time (`gemm_isa_setting()`); elsewhere pool.hpp runs its scalar loops,
/// which these kernels match bit for bit (same candidate order, first maximum wins, NaN wins).

#include <algorithm>
#include <cstdint>

#include "onestone/autograd/detail/gemm_simd.hpp"
#include "onestone/tensor/shape.hpp"

namespace onestone {
namespace autograd {
namespace detail {

#ifdef ONESTONE_HAVE_GEMM_SIMD
ONESTONE_SIMD_DIAGNOSTICS_PUSH
namespace avx512 {

/// Lane masks for `n` elements (n may exceed the lanes: all set).
inline std::uint16_t lanes16(Index n) {
  return n >= 16 ? std::uint16_t(0xFFFF) : static_cast<std::uint16_t>((1u << n) - 1u);
}
inline std::uint8_t lanes8(Index n) {
  return n >= 8 ? std::uint8_t(0xFF) : static_cast<std::uint8_t>((1u << n) - 1u);
}

/// One output row of the 2×2 / 2 max pooling: y[ox] = max of r0[2ox], r0[2ox+1], r1[2ox],
/// r1[2ox+1] (in this order: a later candidate replaces the maximum when larger, or when it is
/// NaN and the maximum is not); a[ox] = its index base + offset (offsets 0, 1, W, W+1).
ONESTONE_TARGET_AVX512 inline void maxpool2x2_row(const float* r0, const float* r1, Index WO,
                                                  float* y, std::int32_t* a, std::int32_t base,
                                                  std::int32_t W) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (Index ox = 0; ox < WO; ox += 16) {
    const Index n = std::min<Index>(16, WO - ox);
    const __mmask16 lo = lanes16(2 * n), hi = lanes16(std::max<Index>(0, 2 * n - 16));
    const __mmask16 out = lanes16(n);
    const float* p0 = r0 + 2 * ox;
    const float* p1 = r1 + 2 * ox;
    const __m512 a0 = _mm512_maskz_loadu_ps(lo, p0), b0 = _mm512_maskz_loadu_ps(hi, p0 + 16);
    const __m512 a1 = _mm512_maskz_loadu_ps(lo, p1), b1 = _mm512_maskz_loadu_ps(hi, p1 + 16);
    const __m512 c1 = _mm512_permutex2var_ps(a0, odd, b0);
    const __m512 c2 = _mm512_permutex2var_ps(a1, even, b1);
    const __m512 c3 = _mm512_permutex2var_ps(a1, odd, b1);
    __m512 m = _mm512_permutex2var_ps(a0, even, b0);
    const __m512i at =
        _mm512_add_epi32(_mm512_set1_epi32(base + static_cast<std::int32_t>(2 * ox)), even);
    __m512i idx = at;
    const __m512 cand[3] = {c1, c2, c3};
    const std::int32_t off[3] = {1, W, W + 1};
    for (int k = 0; k < 3; ++k) {
      const __mmask16 u = _mm512_cmp_ps_mask(cand[k], m, _CMP_GT_OQ) |
                          (_mm512_cmp_ps_mask(cand[k], cand[k], _CMP_UNORD_Q) &
                           _mm512_cmp_ps_mask(m, m, _CMP_ORD_Q));
      m = _mm512_mask_mov_ps(m, u, cand[k]);
      idx = _mm512_mask_mov_epi32(idx, u, _mm512_add_epi32(at, _mm512_set1_epi32(off[k])));
    }
    _mm512_mask_storeu_ps(y + ox, out, m);
    _mm512_mask_storeu_epi32(a + ox, out, idx);
  }
}

ONESTONE_TARGET_AVX512 inline void maxpool2x2_row(const double* r0, const double* r1, Index WO,
                                                  double* y, std::int32_t* a, std::int32_t base,
                                                  std::int32_t W) {
  const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
  const __m512i odd = _mm512_add_epi64(even, _mm512_set1_epi64(1));
  const __m256i even32 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  for (Index ox = 0; ox < WO; ox += 8) {
    const Index n = std::min<Index>(8, WO - ox);
    const __mmask8 lo = lanes8(2 * n), hi = lanes8(std::max<Index>(0, 2 * n - 8));
    const __mmask8 out = lanes8(n);
    const double* p0 = r0 + 2 * ox;
    const double* p1 = r1 + 2 * ox;
    const __m512d a0 = _mm512_maskz_loadu_pd(lo, p0), b0 = _mm512_maskz_loadu_pd(hi, p0 + 8);
    const __m512d a1 = _mm512_maskz_loadu_pd(lo, p1), b1 = _mm512_maskz_loadu_pd(hi, p1 + 8);
    const __m512d c1 = _mm512_permutex2var_pd(a0, odd, b0);
    const __m512d c2 = _mm512_permutex2var_pd(a1, even, b1);
    const __m512d c3 = _mm512_permutex2var_pd(a1, odd, b1);
    __m512d m = _mm512_permutex2var_pd(a0, even, b0);
    const __m256i at =
        _mm256_add_epi32(_mm256_set1_epi32(base + static_cast<std::int32_t>(2 * ox)), even32);
    __m256i idx = at;
    const __m512d cand[3] = {c1, c2, c3};
    const std::int32_t off[3] = {1, W, W + 1};
    for (int k = 0; k < 3; ++k) {
      const __mmask8 u = _mm512_cmp_pd_mask(cand[k], m, _CMP_GT_OQ) |
                         (_mm512_cmp_pd_mask(cand[k], cand[k], _CMP_UNORD_Q) &
                          _mm512_cmp_pd_mask(m, m, _CMP_ORD_Q));
      m = _mm512_mask_mov_pd(m, u, cand[k]);
      idx = _mm256_mask_mov_epi32(idx, u, _mm256_add_epi32(at, _mm256_set1_epi32(off[k])));
    }
    _mm512_mask_storeu_pd(y + ox, out, m);
    _mm256_mask_storeu_epi32(a + ox, out, idx);
  }
}

/// The backward of one output row: input rows d0 (= 2·oy) and d1 (= 2·oy + 1), columns
/// [0, 2·WO), get g[ox] where a[ox] points at them and 0 elsewhere (`base` = 2·oy·W).
ONESTONE_TARGET_AVX512 inline void maxpool2x2_row_backward(const float* g, const std::int32_t* a,
                                                           Index WO, float* d0, float* d1,
                                                           std::int32_t base, std::int32_t W) {
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i il_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i il_hi =
      _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  for (Index ox = 0; ox < WO; ox += 16) {
    const Index n = std::min<Index>(16, WO - ox);
    const __mmask16 in = lanes16(n);
    const __mmask16 lo = lanes16(2 * n), hi = lanes16(std::max<Index>(0, 2 * n - 16));
    const __m512 gv = _mm512_maskz_loadu_ps(in, g + ox);
    const __m512i off = _mm512_sub_epi32(
        _mm512_maskz_loadu_epi32(in, a + ox),
        _mm512_add_epi32(_mm512_set1_epi32(base + static_cast<std::int32_t>(2 * ox)), even));
    const __m512 e0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(off, _mm512_setzero_si512()), gv);
    const __m512 o0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(off, _mm512_set1_epi32(1)), gv);
    const __m512 e1 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(off, _mm512_set1_epi32(W)), gv);
    const __m512 o1 =
        _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(off, _mm512_set1_epi32(W + 1)), gv);
    _mm512_mask_storeu_ps(d0 + 2 * ox, lo, _mm512_permutex2var_ps(e0, il_lo, o0));
    _mm512_mask_storeu_ps(d0 + 2 * ox + 16, hi, _mm512_permutex2var_ps(e0, il_hi, o0));
    _mm512_mask_storeu_ps(d1 + 2 * ox, lo, _mm512_permutex2var_ps(e1, il_lo, o1));
    _mm512_mask_storeu_ps(d1 + 2 * ox + 16, hi, _mm512_permutex2var_ps(e1, il_hi, o1));
  }
}

ONESTONE_TARGET_AVX512 inline void maxpool2x2_row_backward(const double* g, const std::int32_t* a,
                                                           Index WO, double* d0, double* d1,
                                                           std::int32_t base, std::int32_t W) {
  const __m256i even32 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m512i il_lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
  const __m512i il_hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
  for (Index ox = 0; ox < WO; ox += 8) {
    const Index n = std::min<Index>(8, WO - ox);
    const __mmask8 in = lanes8(n);
    const __mmask8 lo = lanes8(2 * n), hi = lanes8(std::max<Index>(0, 2 * n - 8));
    const __m512d gv = _mm512_maskz_loadu_pd(in, g + ox);
    const __m256i off = _mm256_sub_epi32(
        _mm256_maskz_loadu_epi32(in, a + ox),
        _mm256_add_epi32(_mm256_set1_epi32(base + static_cast<std::int32_t>(2 * ox)), even32));
    const __m512d e0 =
        _mm512_maskz_mov_pd(_mm256_cmpeq_epi32_mask(off, _mm256_setzero_si256()), gv);
    const __m512d o0 = _mm512_maskz_mov_pd(_mm256_cmpeq_epi32_mask(off, _mm256_set1_epi32(1)), gv);
    const __m512d e1 = _mm512_maskz_mov_pd(_mm256_cmpeq_epi32_mask(off, _mm256_set1_epi32(W)), gv);
    const __m512d o1 =
        _mm512_maskz_mov_pd(_mm256_cmpeq_epi32_mask(off, _mm256_set1_epi32(W + 1)), gv);
    _mm512_mask_storeu_pd(d0 + 2 * ox, lo, _mm512_permutex2var_pd(e0, il_lo, o0));
    _mm512_mask_storeu_pd(d0 + 2 * ox + 8, hi, _mm512_permutex2var_pd(e0, il_hi, o0));
    _mm512_mask_storeu_pd(d1 + 2 * ox, lo, _mm512_permutex2var_pd(e1, il_lo, o1));
    _mm512_mask_storeu_pd(d1 + 2 * ox + 8, hi, _mm512_permutex2var_pd(e1, il_hi, o1));
  }
}

}  // namespace avx512
ONESTONE_SIMD_DIAGNOSTICS_POP
#endif

/// True when the AVX-512 pooling kernels run (the processor has AVX-512 and ONESTONE_GEMM does
/// not ask for less).
inline bool pool_simd_enabled() {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  return gemm_isa_setting() == GemmIsa::Avx512;
#else
  return false;
#endif
}

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
