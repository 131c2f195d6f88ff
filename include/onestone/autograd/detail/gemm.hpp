#pragma once
/// @file gemm.hpp
/// onestone's matrix-product entry point. On x86-64 processors with AVX-512 or AVX2+FMA it runs
/// onestone's own register-blocked kernels (gemm_simd.hpp, chosen at run time); elsewhere
/// Eigen's packed GEBP micro-kernels. Either way the workspace stays allocated (no heap
/// allocation per product) and onestone's threading policy applies: large products are split
/// across threads, small ones stay on one thread.

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#include "onestone/autograd/detail/gemm_simd.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/tensor.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// Per-thread packing workspace for GEMM; grows to the largest product seen, then stays.
template <typename T>
struct GemmWorkspace : Eigen::internal::level3_blocking<T, T> {
  std::vector<T, Eigen::aligned_allocator<T>> a, b;
  /// Sets the blocking for a row-major product of M x N with inner dimension K.
  void prepare(Index M, Index N, Index K) {
    // Row-major results are computed as the transposed column-major product (Eigen's convention):
    // the blocking's "rows" are N and its "cols" are M.
    Index kc = K, mc = N, nc = M;
    Eigen::internal::computeProductBlockingSizes<T, T, 1, Index>(kc, mc, nc, Index(1));
    this->m_kc = kc;
    this->m_mc = mc;
    this->m_nc = nc;
    const std::size_t sa = static_cast<std::size_t>(kc * mc),
                      sb = static_cast<std::size_t>(kc * nc);
    if (a.size() < sa) a.resize(sa);
    if (b.size() < sb) b.resize(sb);
    this->m_blockA = a.data();
    this->m_blockB = b.data();
  }
  static GemmWorkspace& local() {
    thread_local GemmWorkspace ws;
    return ws;
  }
};

/// C[M, N] (+)= alpha · op(A) · op(B) on one thread, all row-major with leading dimensions.
/// op(A) = A ([M, K], lda) or Aᵀ (A stored [K, M], lda); likewise B.
template <typename T, int LhsOrder, int RhsOrder>
inline void gemm_serial(Index M, Index N, Index K, const T* A, Index lda, const T* B, Index ldb,
                        T* C, Index ldc, T alpha) {
  if (M == 0 || N == 0 || K == 0) return;
  GemmWorkspace<T>& ws = GemmWorkspace<T>::local();
  ws.prepare(M, N, K);
  Eigen::internal::general_matrix_matrix_product<Index, T, LhsOrder, false, T, RhsOrder, false,
                                                 Eigen::RowMajor, 1>::run(M, N, K, A, lda, B, ldb,
                                                                          C, 1, ldc, alpha, ws);
}

#ifdef _OPENMP
/// Workspace of a cooperative parallel product (see `gemm_parallel`): the packed panel of the
/// shared operand (all threads pack a part of it and all read all of it) and the threads'
/// progress flags. Grows to the largest product seen, then stays.
template <typename T>
struct GemmSharedWorkspace : Eigen::internal::level3_blocking<T, T> {
  std::vector<T, Eigen::aligned_allocator<T>> a;
  std::unique_ptr<Eigen::internal::GemmParallelInfo<Index>[]> info;
  int info_size = 0;
  /// Blocking for a row-major product M x N x K on `threads` threads. Eigen computes it as the
  /// transposed column-major product: its "rows" are N (the shared, packed operand, all of it
  /// per depth panel) and its "cols" are M (split across threads). Each thread's own panel
  /// (kc x nc) is capped to fit Eigen's stack-allocation limit.
  void prepare(Index M, Index N, Index K, int threads) {
    using Traits = Eigen::internal::gebp_traits<T, T>;
    Index kc = K, mc = N, nc = M;
    Eigen::internal::computeProductBlockingSizes<T, T, 1, Index>(kc, mc, nc, Index(threads));
    const Index nc_cap =
        std::max<Index>(Index(Traits::nr), Index(EIGEN_STACK_ALLOCATION_LIMIT) / Index(sizeof(T)) /
                                               kc / Traits::nr * Traits::nr);
    this->m_kc = kc;
    this->m_mc = mc;
    this->m_nc = std::min(nc, nc_cap);
    const std::size_t sa = static_cast<std::size_t>(kc * N);
    if (a.size() < sa) a.resize(sa);
    this->m_blockA = a.data();
    this->m_blockB = nullptr;
  }
  static GemmSharedWorkspace& local() {
    thread_local GemmSharedWorkspace ws;
    return ws;
  }
};

/// Row-major C[M, N] += op(A)·op(B) on `threads` threads in the manner of Eigen's own parallel
/// GEMM: the threads split the rows of C; op(B)'s current depth panel is packed once, each thread
/// packing a slice of it, and shared by all (rather than packed again by every thread). Each
/// thread's own packing buffer is kept under Eigen's stack-allocation limit, so nothing is
/// allocated on the heap once the shared workspace has grown.
template <typename T, int LhsOrder, int RhsOrder>
inline void gemm_parallel(Index M, Index N, Index K, const T* A, Index lda, const T* B, Index ldb,
                          T* C, Index ldc, int threads) {
  using Traits = Eigen::internal::gebp_traits<T, T>;
  GemmSharedWorkspace<T>& ws = GemmSharedWorkspace<T>::local();
  ws.prepare(M, N, K, threads);
  if (ws.info_size < threads) {
    ws.info.reset(new Eigen::internal::GemmParallelInfo<Index>[static_cast<std::size_t>(threads)]);
    ws.info_size = threads;
  }
  for (int i = 0; i < threads; ++i) {
    ws.info[i].sync = -1;
    ws.info[i].users = 0;
  }
  Eigen::internal::GemmParallelInfo<Index>* info = ws.info.get();
#pragma omp parallel num_threads(threads)
  {
    const Index i = omp_get_thread_num(), nt = omp_get_num_threads();
    const Index block_m = (M / nt) & ~Index(3);
    const Index block_n = (N / nt) / Traits::mr * Traits::mr;
    const Index m0 = i * block_m, mlen = i + 1 == nt ? M - m0 : block_m;
    const Index n0 = i * block_n, nlen = i + 1 == nt ? N - n0 : block_n;
    info[i].lhs_start = n0;
    info[i].lhs_length = nlen;
    const T* a = LhsOrder == Eigen::RowMajor ? A + m0 * lda : A + m0;
    Eigen::internal::general_matrix_matrix_product<Index, T, LhsOrder, false, T, RhsOrder, false,
                                                   Eigen::RowMajor, 1>::run(mlen, N, K, a, lda, B,
                                                                            ldb, C + m0 * ldc, 1,
                                                                            ldc, T(1), ws, info);
  }
}
#endif

/// Products smaller than this many multiply-adds stay on one thread.
constexpr double kGemmParallelWork = 1 << 21;
/// Products at least this large (and at least 64 rows and columns per thread) use the
/// cooperative parallel path; smaller ones are split into independent products.
constexpr double kGemmCooperativeWork = 1 << 23;
/// Matrix-vector products smaller than this many multiply-adds stay on one thread.
constexpr double kGemvParallelWork = 1 << 15;

/// Per-thread packing buffer of onestone's own kernels; grows to the largest panel, then stays.
template <typename T>
struct SimdPackBuffer {
  std::vector<T, Eigen::aligned_allocator<T>> buf;
  T* get(Index n) {
    if (buf.size() < static_cast<std::size_t>(n)) buf.resize(static_cast<std::size_t>(n));
    return buf.data();
  }
  static SimdPackBuffer& local() {
    thread_local SimdPackBuffer b;
    return b;
  }
};

/// C (+)= op(A)·op(B) with onestone's own kernels on `threads` threads: N is split into
/// vector-aligned ranges when every thread gets at least one register tile of columns (each
/// thread packs only its own columns of B), otherwise M is split into ranges of whole tiles.
template <typename T>
inline void gemm_simd(GemmIsa isa, Index M, Index N, Index K, const T* A, Index lda, bool trans_a,
                      const T* B, Index ldb, bool trans_b, T* C, Index ldc, bool accumulate,
                      int threads) {
  auto part = [&](Index m0, Index mlen, Index n0, Index nlen) {
    if (mlen <= 0 || nlen <= 0) return;
    if (trans_b && !trans_a && 2 * nlen < gemm_simd_lanes<T>(isa)) {
      // A few output columns (a 1-unit head, a 2-way logit): each one a dot product of a row of
      // A with a row of B, along k, rather than a register tile that is mostly padding.
      for (Index i = m0; i < m0 + mlen; ++i)
        gemv_simd<T>(isa, nlen, K, A + i * lda, 1, B + n0 * ldb, ldb, true, C + i * ldc + n0,
                     accumulate);
      return;
    }
    T* pack = SimdPackBuffer<T>::local().get(gemm_simd_pack_size<T>(isa, nlen, K));
    const T* a = trans_a ? A + m0 : A + m0 * lda;
    const T* b = trans_b ? B + n0 * ldb : B + n0;
    gemm_simd_serial<T>(isa, mlen, nlen, K, a, lda, trans_a, b, ldb, trans_b, C + m0 * ldc + n0,
                        ldc, accumulate, pack);
  };
#ifdef _OPENMP
  if (threads > 1 && !omp_in_parallel()) {
    const Index tile = gemm_simd_tile_cols<T>(isa);
    const bool split_n = N >= tile * threads;
    const Index unit = split_n ? Index(64 / sizeof(T)) : Index(6);
    const Index dim = split_n ? N : M;
    const Index chunk = ((dim + threads - 1) / threads + unit - 1) / unit * unit;
#pragma omp parallel num_threads(threads)
    {
      const Index start = omp_get_thread_num() * chunk;
      const Index len = std::min(chunk, dim - start);
      if (split_n)
        part(0, M, start, len);
      else
        part(start, len, 0, N);
    }
    return;
  }
#endif
  (void)threads;
  part(0, M, 0, N);
}

/// C[M, N] = op(A)·op(B) (accumulate = false) or C += op(A)·op(B), row-major, with transposes
/// given as flags. Splits large products across `get_num_threads()` threads.
template <typename T>
void gemm(Index M, Index N, Index K, const T* A, Index lda, bool trans_a, const T* B, Index ldb,
          bool trans_b, T* C, Index ldc, bool accumulate) {
  if (M == 1 && (trans_b ? ldb == K : ldb == N)) {
    // A single row (batch-1 inference, bias-like products): a matrix-vector product, no packing.
    // Large ones are split across threads by output columns, so that each thread reads the same
    // block of B on every call (it stays in that core's cache).
    using RowV = Eigen::Matrix<T, 1, Eigen::Dynamic>;
    using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using Strided = Eigen::Map<const RowV, 0, Eigen::InnerStride<>>;
    using Block = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
    const GemmIsa isa = gemm_isa_setting();
    const Index incx = trans_a ? lda : 1;
    const bool own = isa != GemmIsa::Eigen && (!trans_b || incx == 1);
    auto row = [&](Index n0, Index len) {
      if (own) {
        gemv_simd<T>(isa, len, K, A, incx, trans_b ? B + n0 * ldb : B + n0, ldb, trans_b, C + n0,
                     accumulate);
        return;
      }
      Eigen::Map<RowV> c(C + n0, len);
      if (!accumulate) c.setZero();
      if (!trans_b) {
        const Block Bm(B + n0, K, len, Eigen::OuterStride<>(N));
        if (!trans_a)
          c.noalias() += Eigen::Map<const RowV>(A, K) * Bm;
        else
          c.noalias() += Strided(A, K, Eigen::InnerStride<>(lda)) * Bm;
      } else {
        const Block Bm(B + n0 * K, len, K, Eigen::OuterStride<>(K));
        if (!trans_a)
          c.noalias() += Eigen::Map<const RowV>(A, K) * Bm.transpose();
        else
          c.noalias() += Strided(A, K, Eigen::InnerStride<>(lda)) * Bm.transpose();
      }
    };
    int threads = get_num_threads();
    if (threads > 1 &&
        (static_cast<double>(N) * static_cast<double>(K) < kGemvParallelWork || N < 64 * threads))
      threads = 1;
#ifdef _OPENMP
    if (threads > 1 && !omp_in_parallel()) {
      const Index chunk = ((N + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel num_threads(threads)
      {
        const Index start = omp_get_thread_num() * chunk;
        const Index len = std::min(chunk, N - start);
        if (len > 0) row(start, len);
      }
      return;
    }
#endif
    row(0, N);
    return;
  }
  const GemmIsa isa = gemm_isa_setting();
  if (!accumulate && (K == 0 || isa == GemmIsa::Eigen))  // Eigen's kernels only accumulate
    for (Index i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
  if (K == 0) return;
  if (isa != GemmIsa::Eigen) {
    int threads = get_num_threads();
    const double work = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
    if (threads > 1 && work < kGemmParallelWork) threads = 1;
    gemm_simd<T>(isa, M, N, K, A, lda, trans_a, B, ldb, trans_b, C, ldc, accumulate, threads);
    return;
  }
  auto run = [&](Index m0, Index mlen, Index n0, Index nlen) {
    const T* a = trans_a ? A + m0 : A + m0 * lda;
    const T* b = trans_b ? B + n0 * ldb : B + n0;
    T* c = C + m0 * ldc + n0;
    if (!trans_a && !trans_b)
      gemm_serial<T, Eigen::RowMajor, Eigen::RowMajor>(mlen, nlen, K, a, lda, b, ldb, c, ldc, T(1));
    else if (!trans_a && trans_b)
      gemm_serial<T, Eigen::RowMajor, Eigen::ColMajor>(mlen, nlen, K, a, lda, b, ldb, c, ldc, T(1));
    else if (trans_a && !trans_b)
      gemm_serial<T, Eigen::ColMajor, Eigen::RowMajor>(mlen, nlen, K, a, lda, b, ldb, c, ldc, T(1));
    else
      gemm_serial<T, Eigen::ColMajor, Eigen::ColMajor>(mlen, nlen, K, a, lda, b, ldb, c, ldc, T(1));
  };
  int threads = get_num_threads();
  const double work = static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
  const Index split_dim = std::max(M, N);
  if (threads > 1 && (work < kGemmParallelWork || split_dim < 32 * threads)) threads = 1;
#ifdef _OPENMP
  if (threads > 1 && !omp_in_parallel() && M >= 64 * threads && N >= 64 * threads &&
      work >= kGemmCooperativeWork) {
    if (!trans_a && !trans_b)
      gemm_parallel<T, Eigen::RowMajor, Eigen::RowMajor>(M, N, K, A, lda, B, ldb, C, ldc, threads);
    else if (!trans_a && trans_b)
      gemm_parallel<T, Eigen::RowMajor, Eigen::ColMajor>(M, N, K, A, lda, B, ldb, C, ldc, threads);
    else if (trans_a && !trans_b)
      gemm_parallel<T, Eigen::ColMajor, Eigen::RowMajor>(M, N, K, A, lda, B, ldb, C, ldc, threads);
    else
      gemm_parallel<T, Eigen::ColMajor, Eigen::ColMajor>(M, N, K, A, lda, B, ldb, C, ldc, threads);
    return;
  }
  if (threads > 1 && !omp_in_parallel()) {
    const bool split_m = M >= N;
    // Chunks aligned to 16 so every thread works on whole register blocks.
    const Index chunk = ((split_dim + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel num_threads(threads)
    {
      const Index t = omp_get_thread_num();
      const Index start = t * chunk;
      const Index len = std::min(chunk, split_dim - start);
      if (len > 0) {
        if (split_m)
          run(start, len, 0, N);
        else
          run(0, M, start, len);
      }
    }
    return;
  }
#endif
  run(0, M, 0, N);
}

ONESTONE_EXPLICIT(AUTOGRAD_FLOAT, void gemm<float>(Index, Index, Index, const float*, Index, bool,
                                                   const float*, Index, bool, float*, Index, bool))
ONESTONE_EXPLICIT(AUTOGRAD_DOUBLE,
                  void gemm<double>(Index, Index, Index, const double*, Index, bool, const double*,
                                    Index, bool, double*, Index, bool))

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
