#pragma once
/// @file gemm.hpp
/// onestone's matrix-product kernel: Eigen's packed GEBP micro-kernels driven with workspace
/// that stays allocated (no heap allocation per product) and onestone's own threading policy
/// (large products are split across threads along their larger output dimension; small ones
/// stay on one thread).

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <vector>

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

/// Products smaller than this many multiply-adds stay on one thread.
constexpr double kGemmParallelWork = 1 << 21;
/// Matrix-vector products smaller than this many multiply-adds stay on one thread.
constexpr double kGemvParallelWork = 1 << 15;

/// C[M, N] = op(A)·op(B) (accumulate = false) or C += op(A)·op(B), row-major, with transposes
/// given as flags. Splits large products across `get_num_threads()` threads.
template <typename T>
inline void gemm(Index M, Index N, Index K, const T* A, Index lda, bool trans_a, const T* B,
                 Index ldb, bool trans_b, T* C, Index ldc, bool accumulate) {
  if (M == 1 && (trans_b ? ldb == K : ldb == N)) {
    // A single row (batch-1 inference, bias-like products): a matrix-vector product, no packing.
    // Large ones are split across threads by output columns, so that each thread reads the same
    // block of B on every call (it stays in that core's cache).
    using RowV = Eigen::Matrix<T, 1, Eigen::Dynamic>;
    using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    using Strided = Eigen::Map<const RowV, 0, Eigen::InnerStride<>>;
    using Block = Eigen::Map<const RowMat, 0, Eigen::OuterStride<>>;
    auto row = [&](Index n0, Index len) {
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
    if (threads > 1 && (static_cast<double>(N) * static_cast<double>(K) < kGemvParallelWork ||
                        N < 64 * threads))
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
  if (!accumulate)
    for (Index i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
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

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
