#pragma once
/// @file threads.hpp
/// How many threads onestone's kernels may use: set once by `set_num_threads`, or by the
/// environment variable ONESTONE_NUM_THREADS, and honoured by every large matrix product.

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

}  // namespace onestone
