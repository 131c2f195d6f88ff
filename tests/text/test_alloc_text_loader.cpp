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

#include "../common/alloc_counter.hpp"
#include "onestone/data/loader.hpp"
#include "onestone/data/sequence.hpp"

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
