// Tests for Dataset and DataLoader: coverage, reproducible shuffles, drop_last, gathering,
// checkpoint state, range-for, and allocation-free steady state.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "onestone/data/dataset.hpp"
#include "onestone/data/loader.hpp"

// Counts every global operator new in this test executable (replaceable allocation functions).
// Tensor storage uses Eigen's aligned allocator (malloc), so tensors are checked separately by
// buffer addresses below.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
namespace {
std::atomic<long> g_news{0};
void* counted_alloc(std::size_t n) noexcept {
  ++g_news;
  return std::malloc(n ? n : 1);
}
}  // namespace
// All non-aligned forms are replaced so every new/delete pair goes through malloc/free (also
// under sanitizers, which otherwise supply their own nothrow / array forms).
void* operator new(std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_alloc(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// This file's helpers and test cases live in a namespace of their own (the replaced allocation
// functions above stay global): an area's test files are compiled together in unity builds
// (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_data_loader {

namespace {

using onestone::Index;
using onestone::Tensor;
using onestone::data::Batch;
using onestone::data::DataLoader;
using onestone::data::Dataset;
using onestone::data::LoaderOptions;
using onestone::data::TargetKind;

// N samples of shape [2, 3]; sample i holds 100 * i + j in element j. Task "cls": i % 7 (7
// classes); task "reg": [N, 2] with values (i, -i).
Dataset<double> make_dataset(Index n) {
  Tensor<double> x({n, 2, 3});
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < 6; ++j) x[i * 6 + j] = 100.0 * double(i) + double(j);
  Tensor<std::int64_t> cls({n});
  Tensor<double> reg({n, 2});
  for (Index i = 0; i < n; ++i) {
    cls[i] = i % 7;
    reg.at(i, 0) = double(i);
    reg.at(i, 1) = -double(i);
  }
  Dataset<double> ds(std::move(x));
  ds.add_classification("cls", std::move(cls), 7).add_regression("reg", std::move(reg));
  return ds;
}

// Sample ids of a batch, checking that every tensor of the batch agrees with the id.
std::vector<Index> ids_of(const Batch<double>& b) {
  std::vector<Index> ids;
  REQUIRE(b.x.rank() == 3);
  REQUIRE(b.x.size(1) == 2);
  REQUIRE(b.x.size(2) == 3);
  REQUIRE(b.targets.size() == 2);
  REQUIRE(b.targets[0].labels.shape() == onestone::Shape{b.size()});
  REQUIRE(b.targets[1].values.shape() == onestone::Shape{b.size(), 2});
  for (Index r = 0; r < b.size(); ++r) {
    const Index id = Index(b.x[r * 6] / 100.0);
    for (Index j = 0; j < 6; ++j) REQUIRE(b.x[r * 6 + j] == 100.0 * double(id) + double(j));
    REQUIRE(b.targets[0].labels[r] == id % 7);
    REQUIRE(b.targets[1].values.at(r, 0) == double(id));
    REQUIRE(b.targets[1].values.at(r, 1) == -double(id));
    ids.push_back(id);
  }
  return ids;
}

std::vector<Index> one_epoch(DataLoader<double>& loader, std::vector<Index>* sizes = nullptr) {
  std::vector<Index> order;
  Batch<double> b;
  loader.start_epoch();
  while (loader.next(b)) {
    const auto ids = ids_of(b);
    order.insert(order.end(), ids.begin(), ids.end());
    if (sizes) sizes->push_back(b.size());
  }
  return order;
}

}  // namespace

TEST_CASE("Dataset validates tasks and looks them up by name", "[data][dataset]") {
  auto ds = make_dataset(10);
  CHECK(ds.size() == 10);
  CHECK(ds.num_tasks() == 2);
  CHECK(ds.task_index("reg") == 1);
  CHECK(ds.target("cls").kind == TargetKind::Class);
  CHECK(ds.sample_shape() == onestone::Shape{2, 3});
  REQUIRE_THROWS_WITH(ds.task_index("nope"),
                      Catch::Contains("'nope'") && Catch::Contains("'cls', 'reg'"));

  Tensor<std::int64_t> bad({10});
  bad[4] = 3;
  REQUIRE_THROWS_WITH(ds.add_classification("bin", bad, 2), Catch::Contains("'bin'") &&
                                                                Catch::Contains("position 4") &&
                                                                Catch::Contains("is 3"));
  REQUIRE_THROWS_WITH(ds.add_classification("short", Tensor<std::int64_t>({9}), 2),
                      Catch::Contains("[9]") && Catch::Contains("[10, 2, 3]"));
  REQUIRE_THROWS_AS(ds.add_regression("cls", Tensor<double>({10})), std::invalid_argument);
  REQUIRE_THROWS_AS(Dataset<double>(Tensor<double>({10})), std::invalid_argument);

  ds.add_regression("scalar", Tensor<double>({10}));
  CHECK(ds.target("scalar").values.shape() == onestone::Shape{10, 1});
}

TEST_CASE("Dataset subset and split", "[data][dataset]") {
  const auto ds = make_dataset(50);
  const auto sub = ds.subset(10, 20);
  REQUIRE(sub.size() == 10);
  Batch<double> all;
  std::vector<Index> idx(10);
  for (Index i = 0; i < 10; ++i) idx[std::size_t(i)] = i;
  sub.gather(idx.data(), 10, all);
  const auto ids = ids_of(all);
  for (Index i = 0; i < 10; ++i) CHECK(ids[std::size_t(i)] == 10 + i);
  REQUIRE_THROWS_AS(ds.subset(40, 51), std::out_of_range);

  const auto [a, b] = ds.split(0.8, 3);
  REQUIRE(a.size() == 40);
  REQUIRE(b.size() == 10);
  std::vector<Index> seen;
  for (const auto* part : {&a, &b}) {
    std::vector<Index> pi(std::size_t(part->size()));
    for (Index i = 0; i < part->size(); ++i) pi[std::size_t(i)] = i;
    Batch<double> g;
    part->gather(pi.data(), part->size(), g);
    const auto got = ids_of(g);
    seen.insert(seen.end(), got.begin(), got.end());
  }
  std::vector<Index> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  for (Index i = 0; i < 50; ++i) REQUIRE(sorted[std::size_t(i)] == i);
  CHECK(seen != sorted);  // shuffled
  const auto again = ds.split(0.8, 3);
  CHECK(again.first.inputs().vector() == a.inputs().vector());
  REQUIRE_THROWS_AS(ds.split(1.5, 0), std::invalid_argument);
}

TEST_CASE("DataLoader covers every sample exactly once per epoch", "[data][loader]") {
  const auto ds = make_dataset(103);
  DataLoader<double> loader(ds, LoaderOptions().batch_size(10).seed(5));
  CHECK(loader.num_batches() == 11);
  std::vector<Index> first;
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<Index> sizes;
    auto order = one_epoch(loader, &sizes);
    REQUIRE(sizes.size() == 11);
    CHECK(sizes.back() == 3);
    REQUIRE(order.size() == 103);
    if (epoch == 0)
      first = order;
    else
      CHECK(order != first);  // a new permutation each epoch
    std::sort(order.begin(), order.end());
    for (Index i = 0; i < 103; ++i) REQUIRE(order[std::size_t(i)] == i);
  }
  CHECK(loader.epoch() == 3);

  DataLoader<double> plain(ds, LoaderOptions().batch_size(50).shuffle(false));
  const auto order = one_epoch(plain);
  for (Index i = 0; i < 103; ++i) REQUIRE(order[std::size_t(i)] == i);
}

TEST_CASE("DataLoader shuffles reproducibly from its seed", "[data][loader]") {
  const auto ds = make_dataset(64);
  DataLoader<double> a(ds, LoaderOptions().batch_size(8).seed(11));
  DataLoader<double> b(ds, LoaderOptions().batch_size(8).seed(11));
  DataLoader<double> c(ds, LoaderOptions().batch_size(8).seed(12));
  for (int epoch = 0; epoch < 2; ++epoch) {
    const auto oa = one_epoch(a), ob = one_epoch(b), oc = one_epoch(c);
    CHECK(oa == ob);
    CHECK(oa != oc);
  }
}

TEST_CASE("DataLoader drop_last", "[data][loader]") {
  const auto ds = make_dataset(103);
  DataLoader<double> loader(ds, LoaderOptions().batch_size(10).drop_last(true).seed(1));
  CHECK(loader.num_batches() == 10);
  std::vector<Index> sizes;
  auto order = one_epoch(loader, &sizes);
  REQUIRE(sizes.size() == 10);
  for (Index s : sizes) CHECK(s == 10);
  std::sort(order.begin(), order.end());
  CHECK(std::adjacent_find(order.begin(), order.end()) == order.end());  // no repeats

  DataLoader<double> exact(ds, LoaderOptions().batch_size(103).drop_last(true));
  CHECK(exact.num_batches() == 1);
  REQUIRE_THROWS_AS(DataLoader<double>(ds, LoaderOptions().batch_size(0)), std::invalid_argument);
}

TEST_CASE("DataLoader range-for starts an epoch and reuses its batch", "[data][loader]") {
  const auto ds = make_dataset(25);
  DataLoader<double> loader(ds, LoaderOptions().batch_size(4).seed(2));
  DataLoader<double> twin(ds, LoaderOptions().batch_size(4).seed(2));
  for (int epoch = 1; epoch <= 2; ++epoch) {
    std::vector<Index> order;
    const Batch<double>* address = nullptr;
    int batches = 0;
    for (const Batch<double>& b : loader) {
      if (!address) address = &b;
      CHECK(&b == address);
      const auto ids = ids_of(b);
      order.insert(order.end(), ids.begin(), ids.end());
      ++batches;
    }
    CHECK(batches == 7);
    CHECK(loader.epoch() == std::uint64_t(epoch));
    CHECK(order == one_epoch(twin));
  }
}

TEST_CASE("DataLoader state()/set_state() resumes the same order", "[data][loader]") {
  const auto ds = make_dataset(57);
  const auto opts = LoaderOptions().batch_size(5).seed(99);
  DataLoader<double> loader(ds, opts);
  Batch<double> b;
  one_epoch(loader);
  loader.start_epoch();
  for (int i = 0; i < 3; ++i) REQUIRE(loader.next(b));
  const auto saved = loader.state();
  CHECK(saved.epoch == 2);
  CHECK(saved.cursor == 15);

  // the reference continuation: rest of epoch 2, then epochs 3 and 4
  auto continuation = [](DataLoader<double>& l) {
    std::vector<Index> out;
    Batch<double> batch;
    while (l.next(batch)) {
      const auto ids = ids_of(batch);
      out.insert(out.end(), ids.begin(), ids.end());
    }
    for (int e = 0; e < 2; ++e) {
      const auto o = one_epoch(l);
      out.insert(out.end(), o.begin(), o.end());
    }
    return out;
  };
  const auto expected = continuation(loader);
  REQUIRE(expected.size() == 57 - 15 + 2 * 57);

  DataLoader<double> resumed(ds, LoaderOptions().batch_size(5).seed(1234));  // seed overridden
  resumed.set_state(saved);
  CHECK(resumed.epoch() == 2);
  CHECK(resumed.cursor() == 15);
  CHECK(continuation(resumed) == expected);

  // restoring onto the same loader works too, and remaining() iterates without a new epoch
  loader.set_state(saved);
  std::vector<Index> rest;
  for (const auto& batch : loader.remaining()) {
    const auto ids = ids_of(batch);
    rest.insert(rest.end(), ids.begin(), ids.end());
  }
  CHECK(loader.epoch() == 2);
  CHECK(rest == std::vector<Index>(expected.begin(), expected.begin() + (57 - 15)));

  // a state taken before any epoch replays from the start
  DataLoader<double> fresh(ds, opts), fresh2(ds, LoaderOptions().batch_size(5).seed(7));
  fresh2.set_state(fresh.state());
  CHECK(one_epoch(fresh) == one_epoch(fresh2));

  auto bad = saved;
  bad.cursor = 58;
  REQUIRE_THROWS_AS(resumed.set_state(bad), std::invalid_argument);
}

TEST_CASE("DataLoader::next does not allocate in steady state", "[data][loader]") {
  const auto ds = make_dataset(203);
  DataLoader<double> loader(ds, LoaderOptions().batch_size(16).seed(3));
  Batch<double> b;
  loader.start_epoch();
  while (loader.next(b)) {
  }  // first epoch: buffers grow to capacity
  const double* x_data = b.x.data();
  const std::int64_t* label_data = b.targets[0].labels.data();
  const double* value_data = b.targets[1].values.data();
  const Index* perm_data = loader.permutation().data();

  const long before = g_news.load();
  long batches = 0;
  bool pointers_stable = true;
  for (int epoch = 0; epoch < 3; ++epoch) {
    loader.start_epoch();  // in-place shuffle
    while (loader.next(b)) {
      ++batches;
      pointers_stable = pointers_stable && b.x.data() == x_data &&
                        b.targets[0].labels.data() == label_data &&
                        b.targets[1].values.data() == value_data;
    }
  }
  const long next_allocations = g_news.load() - before;
  CHECK(batches == 3 * 13);
  CHECK(next_allocations == 0);
  CHECK(pointers_stable);
  CHECK(loader.permutation().data() == perm_data);

  // the first range-for fills the loader's own internal batch (may allocate); later ones do not
  for (const Batch<double>& rb : loader) (void)rb;
  const long range_warm = g_news.load();
  for (const Batch<double>& rb : loader) (void)rb;
  CHECK(g_news.load() - range_warm == 0);

  const long before_next = g_news.load();
  loader.start_epoch();
  while (loader.next(b)) {
  }
  CHECK(g_news.load() - before_next == 0);
}

TEST_CASE("targets of any shape, several fields, sample weights and label masks",
          "[data][dataset]") {
  const Index n = 6;
  Dataset<double> ds(Tensor<double>({n, 4}));
  // Per-pixel labels [N, 2, 3] with an ignore value.
  Tensor<std::int64_t> seg({n, 2, 3});
  for (Index k = 0; k < seg.numel(); ++k) seg[k] = k % 4 == 0 ? 255 : k % 3;
  ds.add_classification("seg", seg, 3, /*ignore_index=*/255);
  // Boxes [N, 4] with their classes, and survival times with an event field.
  onestone::data::Target<double> box;
  box.name = "box";
  box.kind = onestone::data::TargetKind::Composite;
  box.values = Tensor<double>({n, 4});
  box.labels = Tensor<std::int64_t>({n});
  for (Index i = 0; i < n; ++i) {
    box.values.at(i, 0) = double(i);
    box.labels[i] = i % 2;
  }
  ds.add_target(box);
  onestone::data::Target<double> surv;
  surv.name = "surv";
  surv.kind = onestone::data::TargetKind::Composite;
  surv.values = Tensor<double>({n});
  surv.fields.emplace_back("event", Tensor<double>({n}));
  for (Index i = 0; i < n; ++i) {
    surv.values[i] = 10.0 + double(i);
    surv.fields[0].second[i] = double(i % 2);
  }
  ds.add_target(surv);
  // Missing labels and sample weights.
  onestone::Mask has_box({n});
  for (Index i = 0; i < n; ++i) has_box[i] = i % 3 != 1;
  ds.set_labelled("box", has_box);
  ds.set_sample_weights("surv", Tensor<double>::from({1, 2, 0, 1, 1, 3}, {n}));
  CHECK(ds.target("box").labelled_count() == 4);
  CHECK_FALSE(ds.target("box").is_labelled(1));
  CHECK(ds.target("surv").weight_of(5) == 3.0);
  CHECK(ds.target("seg").labelled_count() == n);

  DataLoader<double> loader(ds, LoaderOptions().batch_size(4).shuffle(false));
  Batch<double> b;
  REQUIRE(loader.next(b));
  CHECK(b.target("seg").labels.shape() == onestone::Shape{4, 2, 3});
  CHECK(b.target("seg").labels[0] == 255);
  CHECK(b.target("box").values.shape() == onestone::Shape{4, 4});
  CHECK(b.target("box").labels[3] == 1);
  CHECK(b.target("box").weight.shape() == onestone::Shape{4});
  CHECK(b.target("box").weight[1] == 0.0);
  CHECK(b.target("surv").field("event")[1] == 1.0);
  CHECK(b.target("surv").values[2] == 12.0);
  CHECK(b.target("surv").weight[2] == 0.0);
  CHECK_THROWS_WITH(b.target("surv").field("time"), Catch::Contains("event"));
  // split and select keep every field and weight.
  auto parts = ds.split(0.5, 3);
  for (const auto* part : {&parts.first, &parts.second})
    for (Index i = 0; i < part->size(); ++i) {
      const double t = part->target("surv").values[i];
      const Index id = static_cast<Index>(t - 10.0);
      CHECK(part->target("surv").field("event")[i] == double(id % 2));
      CHECK(part->target("box").is_labelled(i) == (id % 3 != 1));
    }
  // Errors name the task and the field.
  onestone::data::Target<double> bad;
  bad.name = "bad";
  bad.values = Tensor<double>({n + 1});
  CHECK_THROWS_WITH(ds.add_target(bad), Catch::Contains("'bad'") && Catch::Contains("values"));
  CHECK_THROWS_WITH(ds.set_sample_weights("surv", Tensor<double>::from({1, 1, -1, 1, 1, 1}, {n})),
                    Catch::Contains("position 2"));
  CHECK_THROWS_WITH(ds.set_labelled("box", onestone::Mask({n - 1})), Catch::Contains("'box'"));
  CHECK_THROWS_WITH(ds.add_classification("c", Tensor<std::int64_t>::full({n}, 7), 3),
                    Catch::Contains("is 7"));
}

}  // namespace test_data_loader
