// Counts heap allocations of the DataLoader with length bucketing and padding trimming in
// steady state (new epochs and batches once the buffers hold their largest batch). This file
// replaces the global operator new and interposes malloc (glibc, which Eigen's aligned
// allocator of the Tensor storage calls), so it builds into its own test executable.
#include <catch2/catch.hpp>

// Our operator new forwards to malloc, so free() in operator delete is the matching call.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "onestone/data/loader.hpp"
#include "onestone/data/sequence.hpp"

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

TEST_CASE("DataLoader with bucket_by_length and trim_padding allocates nothing in steady state",
          "[text][loader][alloc]") {
  using onestone::Index;
  using namespace onestone::data;
  std::vector<std::vector<Index>> ids;
  std::vector<std::vector<Index>> tags;
  for (Index i = 0; i < 500; ++i) {
    const Index len = 1 + (13 * i) % 40;
    ids.emplace_back(static_cast<std::size_t>(len), 2 + i % 50);
    tags.emplace_back(static_cast<std::size_t>(len), i % 3);
  }
  SequenceDatasetBuilder<float> b(ids);
  b.add_tag_target("tags", tags, 3).add_class_target("cls", std::vector<Index>(500, 1), 2);
  const auto ds = b.build();
  DataLoader<float> loader(
      ds, LoaderOptions().batch_size(32).seed(1).bucket_by_length(b.lengths(), 4).trim_padding(0));
  Batch<float> batch;
  Index rows = 0;
  auto epoch = [&] {
    loader.start_epoch();
    while (loader.next(batch)) rows += batch.size();
  };
  for (int i = 0; i < 2; ++i) epoch();  // warm-up: the largest batch has been seen
  const auto st = loader.state();
  g_news = 0;
  g_mallocs = 0;
  g_counting = true;
  for (int i = 0; i < 3; ++i) epoch();
  loader.set_state(st);
  while (loader.next(batch)) rows += batch.size();
  g_counting = false;
  CHECK(rows == 500 * 5);  // 2 warm-up epochs, 3 counted, and the rest of the last one
  CHECK(g_news == 0);
#if ONESTONE_COUNT_MALLOC
  CHECK(g_mallocs == 0);
#endif
}
