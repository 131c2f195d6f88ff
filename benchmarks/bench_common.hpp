#pragma once
// Shared by the benchmark programs (include it in exactly one translation unit per program: it
// replaces the global operator new and, on glibc, interposes malloc to count allocations).
//
// - AllocCount: counts heap allocations (operator new and malloc) while enabled; benchmarks
//   report "allocs/step" so that a step that allocates after warm-up shows up in every run.
// - RegressionSetup: a model with `tasks` MSE tasks on the MMoE synthetic data (one batch,
//   kept), an Adam optimizer, and a strategy and balancer chosen by name.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "../examples/common/strategies.hpp"
#include "onestone/onestone.hpp"
#include "onestone/weighting/registry.hpp"

#ifdef ONESTONE_HAVE_TORCH
#include <torch/torch.h>
#endif

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace bench {
inline std::atomic<long> g_allocs{0};
inline std::atomic<bool> g_counting{false};
}  // namespace bench

#if !defined(__SANITIZE_ADDRESS__)
// operator new forwards to malloc; on glibc malloc itself is interposed and counts both.
void* operator new(std::size_t n) {
#if !defined(__GLIBC__)
  if (bench::g_counting.load(std::memory_order_relaxed)) ++bench::g_allocs;
#endif
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GLIBC__)
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* malloc(std::size_t n) {
  if (bench::g_counting.load(std::memory_order_relaxed)) ++bench::g_allocs;
  return __libc_malloc(n);
}
#endif
#endif

namespace bench {

/// Sets the thread count of Eigen, onestone and (when compared) libtorch.
inline void set_threads(int n) {
  Eigen::setNbThreads(n);
  onestone::set_num_threads(n);
#ifdef ONESTONE_HAVE_TORCH
  torch::set_num_threads(n);
#endif
}

/// Counts heap allocations made by `step()` over `n` calls after the benchmark loop, and
/// reports them per step as the counter "allocs/step" (0 is the only good value).
template <typename Step>
void report_allocs(benchmark::State& state, Step&& step, int n = 4) {
  g_allocs = 0;
  g_counting = true;
  for (int i = 0; i < n; ++i) step();
  g_counting = false;
  state.counters["allocs/step"] = static_cast<double>(g_allocs.load()) / n;
}

/// Paired runs: each iteration times one onestone step `ours()` and then one libtorch step
/// `theirs()`, so that both see the same machine state; the ratio of the summed times is immune to
/// the drift of this machine's speed over minutes (counters onestone_ms, libtorch_ms, ratio).
/// Use with ->UseManualTime().
template <typename A, typename B>
void paired(benchmark::State& state, A&& ours, B&& theirs) {
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 3; ++i) {
    ours();
    theirs();
  }
  double ta = 0, tb = 0;
  for (auto _ : state) {
    const auto t0 = clock::now();
    ours();
    const auto t1 = clock::now();
    theirs();
    const auto t2 = clock::now();
    const double a = std::chrono::duration<double>(t1 - t0).count();
    const double b = std::chrono::duration<double>(t2 - t1).count();
    ta += a;
    tb += b;
    state.SetIterationTime(a + b);
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["onestone_ms"] = 1e3 * ta / n;
  state.counters["libtorch_ms"] = 1e3 * tb / n;
  state.counters["ratio"] = ta / tb;
}

/// A regression MTL model (MMoE synthetic data, one batch kept) built by strategy name, with a
/// balancing method by name ("" = static weights), Adam, `hidden` units and linear heads.
struct RegressionSetup {
  RegressionSetup(const std::string& strategy, int tasks, onestone::Index in,
                  onestone::Index hidden, const std::string& balancer = "",
                  onestone::Index batch = 256) {
    using namespace onestone;
    manual_seed(1);
    ds = std::make_unique<data::Dataset<float>>(data::make_mmoe_synthetic<float>(
        data::SyntheticOptions().samples(batch).dim(in).num_tasks(tasks).correlation(0.5)));
    model = std::make_unique<MultiTaskModel<float>>(
        examples::make_strategy<float>(strategy, tasks, in, hidden));
    for (int t = 0; t < tasks; ++t)
      model->add_task(TaskOptions<float>("task" + std::to_string(t))
                          .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(hidden, 1)))
                          .loss(LossKind::MSE));
    if (!balancer.empty()) model->set_balancer(weighting::make_balancer<float>(balancer));
    opt = std::make_unique<optim::Adam<float>>(model->parameters(), optim::AdamOptions(1e-4));
    data::DataLoader<float> loader(*ds, data::LoaderOptions().batch_size(batch).shuffle(false));
    loader.next(batch_);
    train_step = std::make_unique<onestone::train::TrainStep<float>>(*model, *opt);
  }
  double step() { return (*train_step)(batch_).total; }

  std::unique_ptr<onestone::data::Dataset<float>> ds;
  std::unique_ptr<onestone::MultiTaskModel<float>> model;
  std::unique_ptr<onestone::optim::Adam<float>> opt;
  std::unique_ptr<onestone::train::TrainStep<float>> train_step;
  onestone::data::Batch<float> batch_;
};

/// Runs a RegressionSetup's step in the benchmark loop after 3 warm-up steps, then reports
/// "allocs/step" and "params".
inline void run_steps(benchmark::State& state, RegressionSetup& s) {
  for (int i = 0; i < 3; ++i) s.step();
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
  report_allocs(state, [&] { s.step(); });
  state.counters["params"] = static_cast<double>(s.model->num_parameters());
}

}  // namespace bench
