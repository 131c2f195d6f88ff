#pragma once
// Counting heap allocations in a test executable: replaces the global operator new / delete and,
// on glibc, interposes malloc (which Eigen's aligned allocator calls). Include it in exactly one
// translation unit of an executable of its own (tests/<area>/test_alloc*.cpp builds each such
// file alone). While `g_counting` is true, g_news counts operator new calls and g_mallocs
// malloc calls (when ONESTONE_COUNT_MALLOC is 1). Under AddressSanitizer nothing is replaced
// (ASan owns both) and the counters stay at zero.
#include <atomic>
#include <cstdlib>
#include <new>

// Our operator new forwards to malloc, so free() in operator delete is the matching call.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<long> g_news{0};
std::atomic<long> g_mallocs{0};
bool g_counting = false;
}  // namespace

#if !defined(__SANITIZE_ADDRESS__)  // AddressSanitizer owns operator new and malloc
void* operator new(std::size_t n) {
  if (g_counting) ++g_news;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  if (g_counting) ++g_news;
  void* p = nullptr;
  if (posix_memalign(&p, static_cast<std::size_t>(a), n ? n : 1) != 0) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#endif

#if defined(__SANITIZE_ADDRESS__)
#define ONESTONE_COUNT_MALLOC 0  // AddressSanitizer owns malloc
#elif defined(__GLIBC__)
#define ONESTONE_COUNT_MALLOC 1
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* malloc(std::size_t n) {
  if (g_counting) ++g_mallocs;
  return __libc_malloc(n);
}
#else
#define ONESTONE_COUNT_MALLOC 0
#endif
