// The batch-1 product over a packed weight (autograd/detail/gemv_packed.hpp): the same bits as
// the row-major batch-1 kernel and close to a double reference on every edge size (rows not a
// multiple of the 4-row block or of the 16-row split unit, depths not a multiple of the vector),
// for every instruction set the processor has, with and without bias, on 1 to 5 threads and in
// both walking directions; and the persistent team runs every part exactly once.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "onestone/autograd/detail/gemm.hpp"
#include "onestone/autograd/detail/gemv_packed.hpp"
#include "onestone/tensor/generator.hpp"

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

TEST_CASE("the persistent team runs every chunk exactly once, from concurrent callers",
          "[autograd][serving]") {
  struct Ctx {
    std::atomic<int>* counts;
  };
  for (int spin : {200, 0}) {  // 0: the workers sleep between jobs and are woken
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
          Ctx ctx{counts.data()};
          HotTeam::instance().run(
              parts, chunks,
              [](const void* p, std::int64_t chunk) {
                static_cast<const Ctx*>(p)->counts[chunk].fetch_add(1, std::memory_order_relaxed);
              },
              &ctx, it % 2 == 1);
          for (auto& a : counts)
            if (a.load() != 1) ++bad;
          if (spin == 0 && it % 50 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
      });
    for (auto& t : callers) t.join();
    CHECK(bad.load() == 0);
  }
  set_worker_spin_us(200);
  CHECK(HotTeam::instance().workers() <= HotTeam::kMaxParts - 1);
}

TEST_CASE("the team's caller walks its share in order and finishes a share nobody took",
          "[autograd][serving]") {
  // One caller, 2 parts, the worker asleep (spin 0) and slow to wake: every chunk still runs
  // once; with one part the order is exactly forward or backward.
  struct Ctx {
    std::vector<std::int64_t>* order;
  };
  std::vector<std::int64_t> order;
  Ctx ctx{&order};
  auto record = [](const void* p, std::int64_t c) {
    static_cast<const Ctx*>(p)->order->push_back(c);
  };
  HotTeam::instance().run(1, 5, record, &ctx, false);
  CHECK(order == std::vector<std::int64_t>{0, 1, 2, 3, 4});
  order.clear();
  HotTeam::instance().run(1, 5, record, &ctx, true);
  CHECK(order == std::vector<std::int64_t>{4, 3, 2, 1, 0});
}
