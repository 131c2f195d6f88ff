#pragma once
/// @file gemm_simd.hpp
/// onestone's own matrix-product kernels for x86-64: a register-blocked micro-kernel (6 rows by
/// 4 vectors on AVX-512, 6 by 2 on AVX2+FMA) over a packed panel of B, reading A in place, with
/// the instruction set chosen once at run time from what the processor supports. A portable
/// build (no -march flag) therefore runs AVX-512 kernels on a processor that has them. Where
/// neither set is available (or on another architecture) `gemm_simd_available()` is false and
/// the caller uses Eigen's kernels.
///
/// The environment variable ONESTONE_GEMM picks a kernel by hand: `eigen`, `avx2` or `avx512`
/// (a set the processor lacks falls back to the best one it has).

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "onestone/tensor/shape.hpp"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define ONESTONE_HAVE_GEMM_SIMD 1
#include <immintrin.h>
/// The target attributes of onestone's two kernel sets (every SIMD kernel file uses these).
#define ONESTONE_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#define ONESTONE_TARGET_AVX2 __attribute__((target("avx2,fma")))
// GCC 12 reports its own intrinsics (`_mm512_undefined_ps`, used inside the shuffles) as
// "used uninitialized" when they are inlined into a function with a target attribute.
#if defined(__GNUC__) && !defined(__clang__)
#define ONESTONE_SIMD_DIAGNOSTICS_PUSH                                                 \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wuninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"")
#define ONESTONE_SIMD_DIAGNOSTICS_POP _Pragma("GCC diagnostic pop")
#else
#define ONESTONE_SIMD_DIAGNOSTICS_PUSH
#define ONESTONE_SIMD_DIAGNOSTICS_POP
#endif
#endif

namespace onestone {
namespace autograd {
namespace detail {

/// Depth of one packed panel of B: K is cut into equal blocks of at most 256.
template <typename T>
inline Index gemm_block_k(Index K) {
  const Index kmax = 256;
  const Index blocks = (K + kmax - 1) / kmax;
  return blocks > 0 ? (K + blocks - 1) / blocks : 1;
}

/// Columns of one packed panel of B (kc deep): about 384 KiB, so that it stays in L2.
template <typename T>
inline Index gemm_block_n(Index kc) {
  const Index budget = (384 * 1024) / static_cast<Index>(sizeof(T));
  return std::max<Index>(64, budget / kc / 64 * 64);
}

/// The instruction sets onestone's own GEMM can use.
enum class GemmIsa { Eigen = 0, Avx2 = 1, Avx512 = 2 };

#ifdef ONESTONE_HAVE_GEMM_SIMD

ONESTONE_SIMD_DIAGNOSTICS_PUSH

namespace avx512 {
#define ONESTONE_SIMD_FN ONESTONE_TARGET_AVX512 inline
template <typename T>
struct V;
/// 16 floats in a zmm register; 24 accumulators (6 rows x 4 vectors) of the 32 registers.
template <>
struct V<float> {
  using R = __m512;
  static constexpr int L = 16, MR = 6, NV = 4;
  ONESTONE_SIMD_FN static R zero() { return _mm512_setzero_ps(); }
  ONESTONE_SIMD_FN static R load(const float* p) { return _mm512_loadu_ps(p); }
  ONESTONE_SIMD_FN static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  ONESTONE_SIMD_FN static R bcast(const float* p) { return _mm512_set1_ps(*p); }
  ONESTONE_SIMD_FN static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  ONESTONE_SIMD_FN static R add(R a, R b) { return _mm512_add_ps(a, b); }
  // _mm512_reduce_add_ps's order (halves, quarters, pairs), without its undefined-vector
  // intrinsics, which GCC 12 reports as "may be used uninitialized" wherever they are inlined.
  ONESTONE_SIMD_FN static float hsum(R a) {
    const __m256 s =
        _mm256_add_ps(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(a), 1)),
                      _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, _mm512_castps_pd(a), 0)));
    __m128 q = _mm_add_ps(_mm256_extractf128_ps(s, 1), _mm256_castps256_ps128(s));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
  }
  ONESTONE_SIMD_FN static R load_n(const float* p, int n) {
    return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1u), p);
  }
  ONESTONE_SIMD_FN static void store_n(float* p, R v, int n) {
    _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1u), v);
  }
  /// Transposes a block of `rows` (<= 16) rows of `kl` (1..16) values, row j at src + j·lds,
  /// into kl rows of 16 values at dst + k·ldd (rows past `rows` give zeros): four rounds of
  /// in-register shuffles instead of 256 scalar stores.
  static constexpr bool kTranspose = true;
  ONESTONE_SIMD_FN static void transpose(const float* src, Index lds, int rows, int kl, float* dst,
                                         Index ldd) {
    R r[16], t[16];
    const __mmask16 km = static_cast<__mmask16>((1u << kl) - 1u);
    for (int j = 0; j < 16; ++j)
      r[j] = j < rows ? _mm512_maskz_loadu_ps(km, src + j * lds) : _mm512_setzero_ps();
    // Rows 2i, 2i+1 interleaved: t[2i] holds columns 4l, 4l+1, t[2i+1] columns 4l+2, 4l+3 of
    // each 128-bit lane l.
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // r[4i + x], lane l: column 4l + x of rows 4i..4i+3.
    for (int i = 0; i < 4; ++i) {
      const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]),
                    c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
      r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
      r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
      r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
      r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // Gather lane l of r[x], r[4+x], r[8+x], r[12+x] into column 4l + x.
    for (int x = 0; x < 4; ++x) {
      const R p = _mm512_shuffle_f32x4(r[x], r[4 + x], 0x88);
      const R q = _mm512_shuffle_f32x4(r[x], r[4 + x], 0xdd);
      const R p2 = _mm512_shuffle_f32x4(r[8 + x], r[12 + x], 0x88);
      const R q2 = _mm512_shuffle_f32x4(r[8 + x], r[12 + x], 0xdd);
      t[x] = _mm512_shuffle_f32x4(p, p2, 0x88);
      t[8 + x] = _mm512_shuffle_f32x4(p, p2, 0xdd);
      t[4 + x] = _mm512_shuffle_f32x4(q, q2, 0x88);
      t[12 + x] = _mm512_shuffle_f32x4(q, q2, 0xdd);
    }
    for (int k = 0; k < kl; ++k) _mm512_storeu_ps(dst + k * ldd, t[k]);
  }
};
/// 8 doubles in a zmm register; same tile as float.
template <>
struct V<double> {
  using R = __m512d;
  static constexpr int L = 8, MR = 6, NV = 4;
  ONESTONE_SIMD_FN static R zero() { return _mm512_setzero_pd(); }
  ONESTONE_SIMD_FN static R load(const double* p) { return _mm512_loadu_pd(p); }
  ONESTONE_SIMD_FN static void store(double* p, R v) { _mm512_storeu_pd(p, v); }
  ONESTONE_SIMD_FN static R bcast(const double* p) { return _mm512_set1_pd(*p); }
  ONESTONE_SIMD_FN static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  ONESTONE_SIMD_FN static R add(R a, R b) { return _mm512_add_pd(a, b); }
  ONESTONE_SIMD_FN static double hsum(R a) {  // _mm512_reduce_add_pd's order, as above
    const __m256d s = _mm256_add_pd(_mm512_maskz_extractf64x4_pd(0xF, a, 1),
                                    _mm512_maskz_extractf64x4_pd(0xF, a, 0));
    const __m128d q = _mm_add_pd(_mm256_extractf128_pd(s, 1), _mm256_castpd256_pd128(s));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
  }
  ONESTONE_SIMD_FN static R load_n(const double* p, int n) {
    return _mm512_maskz_loadu_pd(static_cast<__mmask8>((1u << n) - 1u), p);
  }
  ONESTONE_SIMD_FN static void store_n(double* p, R v, int n) {
    _mm512_mask_storeu_pd(p, static_cast<__mmask8>((1u << n) - 1u), v);
  }
};
#include "onestone/autograd/detail/gemm_kernels.inc"
#undef ONESTONE_SIMD_FN
}  // namespace avx512

namespace avx2 {
#define ONESTONE_SIMD_FN ONESTONE_TARGET_AVX2 inline
/// Lane mask of the first n of 8 32-bit lanes (for AVX2's masked loads and stores).
ONESTONE_SIMD_FN __m256i lanes32(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
ONESTONE_SIMD_FN __m256i lanes64(int n) {
  return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}
template <typename T>
struct V;
/// 8 floats in a ymm register; 12 accumulators (6 rows x 2 vectors) of the 16 registers.
template <>
struct V<float> {
  using R = __m256;
  static constexpr int L = 8, MR = 6, NV = 2;
  ONESTONE_SIMD_FN static R zero() { return _mm256_setzero_ps(); }
  ONESTONE_SIMD_FN static R load(const float* p) { return _mm256_loadu_ps(p); }
  ONESTONE_SIMD_FN static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
  ONESTONE_SIMD_FN static R bcast(const float* p) { return _mm256_broadcast_ss(p); }
  ONESTONE_SIMD_FN static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  ONESTONE_SIMD_FN static R add(R a, R b) { return _mm256_add_ps(a, b); }
  ONESTONE_SIMD_FN static float hsum(R a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  ONESTONE_SIMD_FN static R load_n(const float* p, int n) {
    return _mm256_maskload_ps(p, lanes32(n));
  }
  ONESTONE_SIMD_FN static void store_n(float* p, R v, int n) {
    _mm256_maskstore_ps(p, lanes32(n), v);
  }
};
/// 4 doubles in a ymm register; same tile as float.
template <>
struct V<double> {
  using R = __m256d;
  static constexpr int L = 4, MR = 6, NV = 2;
  ONESTONE_SIMD_FN static R zero() { return _mm256_setzero_pd(); }
  ONESTONE_SIMD_FN static R load(const double* p) { return _mm256_loadu_pd(p); }
  ONESTONE_SIMD_FN static void store(double* p, R v) { _mm256_storeu_pd(p, v); }
  ONESTONE_SIMD_FN static R bcast(const double* p) { return _mm256_broadcast_sd(p); }
  ONESTONE_SIMD_FN static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  ONESTONE_SIMD_FN static R add(R a, R b) { return _mm256_add_pd(a, b); }
  ONESTONE_SIMD_FN static double hsum(R a) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
  ONESTONE_SIMD_FN static R load_n(const double* p, int n) {
    return _mm256_maskload_pd(p, lanes64(n));
  }
  ONESTONE_SIMD_FN static void store_n(double* p, R v, int n) {
    _mm256_maskstore_pd(p, lanes64(n), v);
  }
};
#include "onestone/autograd/detail/gemm_kernels.inc"
#undef ONESTONE_SIMD_FN
}  // namespace avx2

ONESTONE_SIMD_DIAGNOSTICS_POP

/// The best instruction set this processor supports (ONESTONE_GEMM may lower it).
inline GemmIsa detect_gemm_isa() {
  __builtin_cpu_init();
  GemmIsa best = GemmIsa::Eigen;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = GemmIsa::Avx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    best = GemmIsa::Avx512;
  if (const char* env = std::getenv("ONESTONE_GEMM")) {
    if (std::strcmp(env, "eigen") == 0) return GemmIsa::Eigen;
    if (std::strcmp(env, "avx2") == 0 && best != GemmIsa::Eigen) return GemmIsa::Avx2;
  }
  return best;
}
#else
inline GemmIsa detect_gemm_isa() { return GemmIsa::Eigen; }
#endif

/// The processor's best GEMM instruction set, detected once (see ONESTONE_GEMM).
inline GemmIsa best_gemm_isa() {
  static const GemmIsa isa = detect_gemm_isa();
  return isa;
}

/// The instruction set onestone's products use now: the detected one unless changed by
/// `set_gemm_isa` (tests and benchmarks compare the kernels this way).
inline GemmIsa& gemm_isa_setting() {
  static GemmIsa isa = best_gemm_isa();
  return isa;
}

/// Uses `isa` for the products that follow (never above what the processor supports).
inline void set_gemm_isa(GemmIsa isa) { gemm_isa_setting() = std::min(isa, best_gemm_isa()); }

/// Size, in elements of T, of the packing buffer `gemm_simd_serial` needs for N columns, depth K.
template <typename T>
inline Index gemm_simd_pack_size(GemmIsa isa, Index N, Index K) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512) return avx512::pack_size<T>(N, K);
  if (isa == GemmIsa::Avx2) return avx2::pack_size<T>(N, K);
#endif
  (void)isa, (void)N, (void)K;
  return 0;
}

/// C[M, N] (+)= op(A)·op(B) on the calling thread with the kernels of `isa` (Avx2 or Avx512).
template <typename T>
inline void gemm_simd_serial(GemmIsa isa, Index M, Index N, Index K, const T* A, Index lda, bool ta,
                             const T* B, Index ldb, bool tb, T* C, Index ldc, bool accumulate,
                             T* pack) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512)
    avx512::gemm_serial<T>(M, N, K, A, lda, ta, B, ldb, tb, C, ldc, accumulate, pack);
  else
    avx2::gemm_serial<T>(M, N, K, A, lda, ta, B, ldb, tb, C, ldc, accumulate, pack);
#else
  (void)isa, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)ta, (void)B, (void)ldb;
  (void)tb, (void)C, (void)ldc, (void)accumulate, (void)pack;
#endif
}

/// y[N] (+)= x[K]·op(B) on the calling thread with the kernels of `isa` (Avx2 or Avx512); x has
/// stride incx.
template <typename T>
inline void gemv_simd(GemmIsa isa, Index N, Index K, const T* x, Index incx, const T* B, Index ldb,
                      bool tb, T* y, bool accumulate) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (isa == GemmIsa::Avx512)
    avx512::gemv<T>(N, K, x, incx, B, ldb, tb, y, accumulate);
  else
    avx2::gemv<T>(N, K, x, incx, B, ldb, tb, y, accumulate);
#else
  (void)isa, (void)N, (void)K, (void)x, (void)incx, (void)B, (void)ldb, (void)tb, (void)y;
  (void)accumulate;
#endif
}

/// Lanes of one vector register of `isa` for T.
template <typename T>
inline Index gemm_simd_lanes(GemmIsa isa) {
  return isa == GemmIsa::Avx512 ? Index(64 / sizeof(T)) : Index(32 / sizeof(T));
}

/// Columns of one register tile (the split unit across threads) for `isa`.
template <typename T>
inline Index gemm_simd_tile_cols(GemmIsa isa) {
  return isa == GemmIsa::Avx512 ? Index(256 / sizeof(T)) : Index(64 / sizeof(T));
}

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
