#pragma once
/// @file gemv_packed.hpp
/// `PackedRows<T>`: a weight W [N, K] (a `Linear`'s [out, in]) kept in the layout that streams
/// fastest for batch-1 products y = W·x + b: blocks of 4 rows, each block one contiguous
/// stream in which k advances a vector at a time with the block's 4 rows side by side. Reading
/// one stream instead of 4–8 rows 3 KB apart lets the hardware prefetchers keep up: on the
/// 2-core AMD EPYC test machine (Zen 5, 1 MB L2 per core) a 256×784 float product runs at
/// ~200 GB/s from L2 against ~110–170 GB/s for the row-major kernels. Products large enough
/// are split by rows across `HotTeam`'s persistent workers, so on two threads each core
/// streams only its half, which then stays in its own L2 across calls. Successive calls on one
/// thread walk the blocks in alternating directions, so that a weight slightly larger than the
/// L2 finds the blocks it read last still there.
///
/// Same bits as the row-major batch-1 kernel (`gemv` with a transposed B) for any split, any
/// direction and any number of threads. Only onestone's own kernels (AVX2, AVX-512) have this
/// path: with `GemmIsa::Eigen` `pack` returns false and callers use the ordinary product.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <new>

#include "onestone/autograd/detail/gemm_simd.hpp"
#include "onestone/autograd/detail/hot_team.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {
namespace detail {

#define ONESTONE_ISA_KERNELS "onestone/autograd/detail/gemv_packed.inc"
#include "onestone/autograd/detail/isa_kernels.inc"

/// Products of at least this many multiply-adds are split across threads (as `gemm` does for
/// its matrix-vector products).
constexpr double kPackedParallelWork = 1 << 15;

/// A weight W [N, K] packed for batch-1 products (see the file comment).
///
/// Example:
/// @code
/// PackedRows<float> p;
/// if (p.pack(w, out, in, gemm_isa_setting())) p.multiply(x, bias, y, get_num_threads());
/// @endcode
template <typename T>
class PackedRows {
 public:
  /// Rows per block.
  static constexpr int kRows = 4;

  PackedRows() = default;
  PackedRows(const PackedRows&) = delete;
  PackedRows& operator=(const PackedRows&) = delete;

  /// Packs W [N, K] (row-major) for the kernels of `isa`; returns false, keeping nothing, when
  /// `isa` has no packed kernel (Eigen) or the sizes are empty.
  bool pack(const T* W, Index N, Index K, GemmIsa isa) {
#ifdef ONESTONE_HAVE_GEMM_SIMD
    if (isa == GemmIsa::Eigen || N <= 0 || K <= 0) {
      clear();
      return false;
    }
    const Index L = gemm_simd_lanes<T>(isa);
    const Index kp = (K + L - 1) / L * L;
    const Index blocks = (N + kRows - 1) / kRows;
    const std::size_t size = static_cast<std::size_t>(blocks * kRows * kp);
    if (size != size_) {
      data_.reset(static_cast<T*>(::operator new(size * sizeof(T), std::align_val_t(64))));
      size_ = size;
    }
    T* d = data_.get();
    for (Index b = 0; b < blocks; ++b)
      for (Index c = 0; c < kp; c += L)
        for (Index r = 0; r < kRows; ++r) {
          const Index row = b * kRows + r;
          for (Index l = 0; l < L; ++l, ++d) *d = row < N && c + l < K ? W[row * K + c + l] : T(0);
        }
    isa_ = isa;
    n_ = N;
    k_ = K;
    return true;
#else
    (void)W, (void)N, (void)K, (void)isa;
    return false;
#endif
  }

  /// Drops the packed copy.
  void clear() {
    data_.reset();
    size_ = 0;
    n_ = k_ = 0;
  }
  bool empty() const noexcept { return size_ == 0; }
  Index rows() const noexcept { return n_; }
  Index cols() const noexcept { return k_; }
  GemmIsa isa() const noexcept { return isa_; }

  /// y[N] = W·x + bias for a contiguous x [K] (bias may be null): on the calling thread, or
  /// split by rows over `threads` threads (`HotTeam`) when the product is large enough. Safe
  /// to call from several threads at once.
  void multiply(const T* x, const T* bias, T* y, int threads) const {
    const Index blocks = (n_ + kRows - 1) / kRows;
    if (threads <= 1 || static_cast<double>(n_) * static_cast<double>(k_) < kPackedParallelWork) {
      // One thread: alternate the walking direction (see the file comment).
      const bool reverse = (calls_.fetch_add(1, std::memory_order_relaxed) & 1u) != 0;
      run(x, bias, y, 0, blocks, reverse);
      return;
    }
    // Chunks of 4 blocks = 16 rows (no two threads write one cache line of float y), walked
    // forward: each thread's share fits its own cache, so alternating would not help.
    TeamTask task;
    task.run = [](const TeamTask& t, std::int64_t c0, std::int64_t c1, bool reverse) {
      const auto* self = static_cast<const PackedRows*>(t.arg[0]);
      const Index nb = (self->n_ + kRows - 1) / kRows;
      self->run(static_cast<const T*>(t.arg[1]), static_cast<const T*>(t.arg[2]),
                static_cast<T*>(const_cast<void*>(t.arg[3])), std::min<Index>(c0 * 4, nb),
                std::min<Index>(c1 * 4, nb), reverse);
    };
    task.arg[0] = this;
    task.arg[1] = x;
    task.arg[2] = bias;
    task.arg[3] = y;
    HotTeam::instance().run(threads, (blocks + 3) / 4, task);
  }

 private:
  struct Free {
    void operator()(T* p) const noexcept { ::operator delete(p, std::align_val_t(64)); }
  };

  void run(const T* x, const T* bias, T* y, Index b0, Index b1, bool reverse) const {
#ifdef ONESTONE_HAVE_GEMM_SIMD
    if (isa_ == GemmIsa::Avx512)
      avx512::packed_rows_gemv<T, kRows>(data_.get(), n_, k_, x, bias, y, b0, b1, reverse);
    else
      avx2::packed_rows_gemv<T, kRows>(data_.get(), n_, k_, x, bias, y, b0, b1, reverse);
#else
    (void)x, (void)bias, (void)y, (void)b0, (void)b1, (void)reverse;
#endif
  }

  std::unique_ptr<T[], Free> data_;
  std::size_t size_ = 0;
  Index n_ = 0, k_ = 0;
  GemmIsa isa_ = GemmIsa::Eigen;
  mutable std::atomic<unsigned> calls_{0};
};

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
