#pragma once
/// @file threads.hpp
/// How many threads onestone's kernels may use: set once by `set_num_threads`, or by the
/// environment variable ONESTONE_NUM_THREADS, and honoured by every large matrix product.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace onestone {
namespace detail {
inline int& num_threads_setting() noexcept {
  static int n = [] {
    if (const char* env = std::getenv("ONESTONE_NUM_THREADS")) {
      const int v = std::atoi(env);
      if (v > 0) return v;
    }
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
  }();
  return n;
}
}  // namespace detail

/// Sets the number of threads for onestone's kernels (1 = single-threaded). Without OpenMP
/// every kernel runs on the calling thread whatever this says. Small products always run on
/// one thread: splitting them costs more than it gains.
///
/// Example: `onestone::set_num_threads(2);`
inline void set_num_threads(int n) { detail::num_threads_setting() = n > 0 ? n : 1; }

/// The number of threads kernels may use (from `set_num_threads`, ONESTONE_NUM_THREADS, or
/// OpenMP's default).
inline int get_num_threads() noexcept {
#ifdef _OPENMP
  return detail::num_threads_setting();
#else
  return 1;
#endif
}

namespace detail {
inline std::atomic<int>& worker_spin_setting() noexcept {
  static std::atomic<int> us{[] {
    if (const char* env = std::getenv("ONESTONE_SPIN_US")) {
      const int v = std::atoi(env);
      if (v >= 0) return v;
    }
    return 200;
  }()};
  return us;
}
}  // namespace detail

/// How long, in microseconds, the persistent workers of batch-1 products (serving through
/// `MultiTaskModel::predict`, or any `Linear` at batch 1 without gradients, on more than one
/// thread) keep spinning for the next product before they nap: 200 by default, or the
/// environment variable ONESTONE_SPIN_US. A napping worker is not woken (that would cost the
/// caller a system call): the caller runs its share until the worker looks again, within 4 ms.
/// Longer spins keep sparser requests on all threads, at the price of a busy core for that
/// long after each call; 0 lets the workers nap at once.
///
/// Example: `onestone::set_worker_spin_us(1000);   // requests come every ~0.5 ms`
inline void set_worker_spin_us(int us) {
  detail::worker_spin_setting().store(us > 0 ? us : 0, std::memory_order_relaxed);
}
/// The spin time of the batch-1 workers in microseconds (see `set_worker_spin_us`).
inline int get_worker_spin_us() noexcept {
  return detail::worker_spin_setting().load(std::memory_order_relaxed);
}

namespace detail {
/// Element-wise work on at least this many elements is split across threads.
constexpr std::int64_t kParallelElements = std::int64_t(1) << 15;

/// Calls f(begin, end) over [0, n): once on the caller for small n (below `min_parallel`), on
/// one thread, or inside a parallel region; otherwise once per thread on contiguous ranges
/// whose bounds are multiples of 16 elements (whole cache lines of float). Element-wise work
/// split this way gives the same bits on any number of threads.
template <typename F>
inline void parallel_ranges(std::int64_t n, std::int64_t min_parallel, F&& f) {
#ifdef _OPENMP
  const int threads = get_num_threads();
  if (threads > 1 && n >= min_parallel && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
    {
      const std::int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
      const std::int64_t per = ((n + nt - 1) / nt + 15) / 16 * 16;
      const std::int64_t lo = std::min(n, t * per), hi = std::min(n, (t + 1) * per);
      if (lo < hi) f(lo, hi);
    }
    return;
  }
#endif
  (void)min_parallel;
  if (n > 0) f(std::int64_t(0), n);
}

/// Calls f(i) for every i in [0, n) — independent items (samples, planes) of `per_item`
/// elements of work each — split into contiguous blocks across threads when the whole work is
/// at least `kParallelElements`, else in order on the caller. Each call must write only its own
/// item's memory: the result is then the same on any number of threads.
template <typename F>
inline void parallel_for(std::int64_t n, std::int64_t per_item, F&& f) {
#ifdef _OPENMP
  const int threads = get_num_threads();
  if (threads > 1 && n > 1 && n * per_item >= kParallelElements && !omp_in_parallel()) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#endif
  (void)per_item;
  for (std::int64_t i = 0; i < n; ++i) f(i);
}
}  // namespace detail

}  // namespace onestone
