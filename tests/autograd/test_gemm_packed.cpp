// The batch-1 product over a packed weight (autograd/detail/gemv_packed.hpp): the same bits as
// the row-major batch-1 kernel and close to a double reference on every edge size (rows not a
// multiple of the 4-row block or of the 16-row split unit, depths not a multiple of the vector),
// for every instruction set the processor has, with and without bias, on 1 to 5 threads and in
// both walking directions; and the persistent team runs every part exactly once.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "onestone/autograd/detail/gemm.hpp"
#include "onestone/autograd/detail/gemv_packed.hpp"
#include "onestone/tensor/generator.hpp"
#ifdef __unix__
#include <sys/wait.h>
#include <unistd.h>

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_gemm_packed {
#endif

using namespace onestone;
using autograd::detail::GemmIsa;
using autograd::detail::HotTeam;
using autograd::detail::PackedRows;

namespace {
template <typename T>
std::vector<T> random_vec(Index n, std::uint64_t seed) {
  Generator g(seed);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& e : v) e = static_cast<T>(g.uniform(-1, 1));
  return v;
}
}  // namespace

TEMPLATE_TEST_CASE("packed batch-1 product equals the row-major kernel bit for bit",
                   "[autograd][gemm][serving]", float, double) {
  using T = TestType;
  const Index rows[] = {1, 3, 4, 5, 10, 15, 16, 17, 33, 64, 100, 257};
  const Index depths[] = {1, 7, 8, 9, 16, 17, 31, 33, 100, 784};
  for (GemmIsa isa : {GemmIsa::Avx2, GemmIsa::Avx512}) {
    if (isa > autograd::detail::best_gemm_isa()) continue;
    autograd::detail::set_gemm_isa(isa);
    for (Index N : rows)
      for (Index K : depths) {
        const auto W = random_vec<T>(N * K, 1 + static_cast<std::uint64_t>(N * 1000 + K));
        const auto x = random_vec<T>(K, 2);
        const auto b = random_vec<T>(N, 3);
        PackedRows<T> p;
        REQUIRE(p.pack(W.data(), N, K, isa));
        CHECK(p.rows() == N);
        CHECK(p.cols() == K);
        for (int with_bias = 0; with_bias < 2; ++with_bias) {
          // The row-major kernel as Linear uses it: y = b, then y += x·Wᵀ (one thread).
          set_num_threads(1);
          std::vector<T> want(static_cast<std::size_t>(N), T(0));
          if (with_bias) want = b;
          autograd::detail::gemm<T>(1, N, K, x.data(), K, false, W.data(), K, true, want.data(), N,
                                    with_bias != 0);
          for (int threads : {1, 2, 3, 5})
            for (int call = 0; call < 2; ++call) {  // the second call walks the other way
              // y has a margin that must stay untouched.
              std::vector<T> y(static_cast<std::size_t>(N + 2), T(7));
              p.multiply(x.data(), with_bias ? b.data() : nullptr, y.data(), threads);
              INFO("isa=" << static_cast<int>(isa) << " N=" << N << " K=" << K
                          << " bias=" << with_bias << " threads=" << threads << " call=" << call);
              int diff = 0;
              double err = 0;
              for (Index j = 0; j < N; ++j) {
                const auto u = static_cast<std::size_t>(j);
                diff += y[u] != want[u];
                long double ref = with_bias ? b[u] : T(0);
                for (Index k = 0; k < K; ++k)
                  ref += static_cast<long double>(x[static_cast<std::size_t>(k)]) *
                         W[static_cast<std::size_t>(j * K + k)];
                err = std::max(err, static_cast<double>(std::abs(ref - y[u])));
              }
              CHECK(diff == 0);
              CHECK(err <= (std::is_same<T, float>::value ? 1e-5 : 1e-13) * (1 + K));
              CHECK(y[static_cast<std::size_t>(N)] == T(7));
              CHECK(y[static_cast<std::size_t>(N + 1)] == T(7));
            }
        }
      }
  }
  autograd::detail::set_gemm_isa(autograd::detail::best_gemm_isa());
  set_num_threads(1);
}

TEST_CASE("packing follows a new weight and refuses Eigen's kernels", "[autograd][gemm][serving]") {
  PackedRows<float> p;
  CHECK_FALSE(p.pack(nullptr, 3, 4, GemmIsa::Eigen));
  CHECK(p.empty());
  const GemmIsa best = autograd::detail::best_gemm_isa();
  if (best == GemmIsa::Eigen) return;
  std::vector<float> w1(6, 1.f), w2(6, 2.f), x(3, 1.f), y(2);
  REQUIRE(p.pack(w1.data(), 2, 3, best));
  p.multiply(x.data(), nullptr, y.data(), 1);
  CHECK(y[0] == 3.f);
  REQUIRE(p.pack(w2.data(), 2, 3, best));  // same size: packed in place
  p.multiply(x.data(), nullptr, y.data(), 1);
  CHECK(y[1] == 6.f);
}

namespace {
// A team job that counts how often each chunk ran (and records the order when asked).
struct Counts {
  std::vector<std::atomic<int>>* counts;
  std::vector<std::int64_t>* order;
};
autograd::detail::TeamTask counting_task(const Counts& c) {
  autograd::detail::TeamTask t;
  t.arg[0] = &c;
  t.run = [](const autograd::detail::TeamTask& task, std::int64_t c0, std::int64_t c1,
             bool reverse) {
    const Counts& k = *static_cast<const Counts*>(task.arg[0]);
    for (std::int64_t i = 0; i < c1 - c0; ++i) {
      const std::int64_t chunk = reverse ? c1 - 1 - i : c0 + i;
      (*k.counts)[static_cast<std::size_t>(chunk)].fetch_add(1, std::memory_order_relaxed);
      if (k.order) k.order->push_back(chunk);
    }
  };
  return t;
}
}  // namespace

TEST_CASE("the persistent team runs every chunk exactly once, from concurrent callers",
          "[autograd][serving]") {
  for (int spin : {200, 0}) {  // 0: the workers nap between jobs, their shares go to callers
    set_worker_spin_us(spin);
    std::atomic<int> bad{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c)
      callers.emplace_back([&, c] {
        for (int it = 0; it < 300; ++it) {
          const int parts = 1 + (c + it) % (HotTeam::kMaxParts + 2);  // also > kMaxParts
          const std::int64_t chunks = (c * 7 + it * 3) % 40;          // also 0 and < parts
          std::vector<std::atomic<int>> counts(static_cast<std::size_t>(chunks));
          for (auto& a : counts) a.store(0);
          const Counts k{&counts, nullptr};
          HotTeam::instance().run(parts, chunks, counting_task(k), it % 2 == 1);
          for (auto& a : counts)
            if (a.load() != 1) ++bad;
          if (spin == 0 && it % 50 == 0)
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      });
    for (auto& t : callers) t.join();
    CHECK(bad.load() == 0);
  }
  set_worker_spin_us(200);
  CHECK(HotTeam::instance().workers() <= HotTeam::kMaxParts - 1);
}

TEST_CASE("one part walks the chunks forward or backward on the caller", "[autograd][serving]") {
  std::vector<std::atomic<int>> counts(5);
  std::vector<std::int64_t> order;
  const Counts k{&counts, &order};
  HotTeam::instance().run(1, 5, counting_task(k), false);
  CHECK(order == std::vector<std::int64_t>{0, 1, 2, 3, 4});
  order.clear();
  HotTeam::instance().run(1, 5, counting_task(k), true);
  CHECK(order == std::vector<std::int64_t>{4, 3, 2, 1, 0});
}

// Not under ThreadSanitizer (it refuses threads after fork) nor AddressSanitizer: its allocator's
// region locks are not fork-safe, and a thread the child starts can block forever on a lock
// that one of the parent's threads held at the fork (seen: 4 hangs in 10 runs on a loaded
// machine, the child's worker waiting in SizeClassAllocator64::GetFromAllocator; 0 in 30
// plain runs, loaded or not).
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ONESTONE_TEST_NO_FORK 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define ONESTONE_TEST_NO_FORK 1
#endif
#if defined(__unix__) && !defined(ONESTONE_TEST_NO_FORK)

TEST_CASE("a forked child uses the team and exits cleanly", "[autograd][serving]") {
  std::vector<std::atomic<int>> counts(20);
  const Counts k{&counts, nullptr};
  HotTeam::instance().run(2, 20, counting_task(k));  // the parent's worker exists now
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    for (auto& a : counts) a.store(0);
    for (int it = 0; it < 100; ++it) HotTeam::instance().run(2, 20, counting_task(k));
    bool ok = true;
    for (auto& a : counts) ok = ok && a.load() == 100;
    std::exit(ok ? 0 : 1);  // runs the team's destructor: must not wait for the parent's worker
  }
  int status = -1;
  for (int i = 0; i < 2000 && waitpid(pid, &status, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (status == -1) kill(pid, SIGKILL);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
#endif

}  // namespace test_autograd_gemm_packed
