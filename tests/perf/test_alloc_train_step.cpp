// Counts heap allocations in steady-state training steps. This file replaces the global
// operator new and interposes malloc (glibc), so it builds into its own test executable.
#include <catch2/catch.hpp>

// Our operator new forwards to malloc, so free() in operator delete is the matching call.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <atomic>
#include <cstdlib>
#include <new>

#include "onestone/onestone.hpp"

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

using namespace onestone;

namespace {
template <typename Step>
void expect_no_allocations(Step&& step, int warmup, int measured) {
  for (int i = 0; i < warmup; ++i) step();
  g_news = 0;
  g_mallocs = 0;
  g_counting = true;
  for (int i = 0; i < measured; ++i) step();
  g_counting = false;
  const long news = g_news, mallocs = g_mallocs;
  INFO("operator new calls: " << news << ", malloc calls: " << mallocs);
#if defined(__SANITIZE_ADDRESS__)
  WARN("allocation counting is off under AddressSanitizer");
  (void)news;
#else
  CHECK(news == 0);
#endif
  // malloc too: onestone drives Eigen's GEMM kernels with workspace that stays allocated.
  if (ONESTONE_COUNT_MALLOC) CHECK(mallocs == 0);
}
}  // namespace

TEST_CASE("a steady-state hard-sharing training step allocates nothing", "[perf][alloc]") {
  Generator g(1);
  const Index n = 512;
  Tensor<float> x({n, 784});
  Tensor<std::int64_t> y1({n}), y2({n});
  for (Index i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(g.uniform());
  for (Index i = 0; i < n; ++i) {
    y1[i] = static_cast<std::int64_t>(g.below(10));
    y2[i] = static_cast<std::int64_t>(g.below(10));
  }
  data::Dataset<float> ds(std::move(x));
  ds.add_classification("a", std::move(y1), 10).add_classification("b", std::move(y2), 10);

  auto trunk =
      std::make_shared<nn::MLP<float>>(nn::MLPOptions({784, 256, 256}).dropout(0.1).seed(1));
  MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, 256));
  for (const char* name : {"a", "b"})
    model.add_task(TaskOptions<float>(name).head(
        std::make_shared<nn::Linear<float>>(nn::LinearOptions(256, 10))));
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
  data::DataLoader<float> loader(ds, data::LoaderOptions().batch_size(128).seed(2));
  data::Batch<float> batch;

  auto step = [&] {
    if (!loader.next(batch)) {
      loader.start_epoch();
      loader.next(batch);
    }
    model.train_step(batch, opt);
  };
  expect_no_allocations(step, 6, 12);
}

TEST_CASE("a steady-state user-written loop allocates nothing", "[perf][alloc]") {
  nn::Linear<double> fc(nn::LinearOptions(16, 4));
  nn::LayerNorm<double> ln(4);
  optim::SGD<double> opt(fc.parameters(), optim::SGDOptions(0.01).momentum(0.9));
  Tensor<double> x = Tensor<double>::full(Shape{8, 16}, 0.5);
  Tensor<double> t = Tensor<double>::full(Shape{8, 4}, 1.0);
  auto step = [&] {
    opt.zero_grad();
    auto h = ln.forward(gelu(fc.forward(Var<double>::from(x))));
    auto loss = losses::mse_loss(softmax(h) * 2.0 + h, t);
    loss.backward();
    opt.step();
  };
  expect_no_allocations(step, 3, 10);
}
