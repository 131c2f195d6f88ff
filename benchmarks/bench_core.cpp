// Core benchmarks: GEMM at a few sizes, and the full hard-sharing train step (forward, backward,
// Adam) of the MLP 784→256→256 with two 10-way heads, for onestone and (when libtorch is
// found) its libtorch twin, in the same process so that ratios hold on a noisy machine.
//
// Arguments of each benchmark: {batch, threads}. Run the libtorch side in the tuned setup of
// benchmarks/compare.sh (OpenBLAS core type and library path), or its numbers mean little.
#include <Eigen/Core>
#include <chrono>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "bench_common.hpp"

#ifdef ONESTONE_HAVE_TORCH
#include <torch/torch.h>
#endif

using namespace onestone;
using bench::paired;

namespace {

using bench::set_threads;

// ---- GEMM: C[m, n] = A[m, k] · B[k, n] (row-major, float), by Eigen and by onestone ----------
void gemm_bench(benchmark::State& state, bool onestone_gemm) {
  const Index m = state.range(0), k = state.range(1), n = state.range(2);
  set_threads(static_cast<int>(state.range(3)));
  RowMatrix<float> A = RowMatrix<float>::Random(m, k), B = RowMatrix<float>::Random(k, n), C(m, n);
  for (auto _ : state) {
    if (onestone_gemm)
      autograd::detail::gemm<float>(m, n, k, A.data(), k, false, B.data(), n, false, C.data(), n,
                                    false);
    else
      C.noalias() = A * B;
    benchmark::DoNotOptimize(C.data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(
      2.0 * m * k * n, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
void BM_EigenGemm(benchmark::State& state) { gemm_bench(state, false); }
void BM_OnestoneGemm(benchmark::State& state) { gemm_bench(state, true); }
void gemm_args(benchmark::internal::Benchmark* b) {
  b->Args({64, 64, 64, 1})
      ->Args({256, 256, 256, 1})
      ->Args({256, 256, 256, 2})
      ->Args({1024, 1024, 1024, 1})
      ->Args({1024, 1024, 1024, 2})
      ->Args({256, 784, 256, 1})
      ->Args({256, 784, 256, 2})
      ->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_EigenGemm)->Apply(gemm_args);
BENCHMARK(BM_OnestoneGemm)->Apply(gemm_args);

// ---- The machine's arithmetic peak: independent FMA chains on every thread, no memory ---------
// The ceiling every GEMM number here is measured against (GFLOPS counter, all threads).
#if defined(__x86_64__) && (defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__)))
void BM_FmaPeak(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int kChains = 12;
  constexpr long kIters = 1 << 18;
#ifdef __AVX512F__
  using R = __m512;
  constexpr int kLanes = 16;
#else
  using R = __m256;
  constexpr int kLanes = 8;
#endif
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    {
#ifdef __AVX512F__
      R acc[kChains], a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-4f);
      for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
      for (long n = 0; n < kIters; ++n)
        for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
#else
      R acc[kChains], a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-4f);
      for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
      for (long n = 0; n < kIters; ++n)
        for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
#endif
      for (int i = 0; i < kChains; ++i) benchmark::DoNotOptimize(acc[i]);
    }
  }
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * kLanes * kChains * kIters * threads,
                                                benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
}
BENCHMARK(BM_FmaPeak)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->UseRealTime();
#endif

// The {batch, threads} pairs of every train-step benchmark: batch 32, 256, 1024 on 1 and 2 threads.
void train_step_args(benchmark::internal::Benchmark* b) {
  for (int64_t batch : {32, 256, 1024})
    for (int64_t threads : {1, 2}) b->Args({batch, threads});
}

// ---- onestone train step ---------------------------------------------------------------------
struct OnestoneStep {
  explicit OnestoneStep(
      Index batch, Index width = 256, const std::string& balancer = "",
      weighting::GradientSource source = weighting::GradientSource::Representation) {
    Generator g(1);
    Tensor<float> x({batch, 784});
    Tensor<std::int64_t> y1({batch}), y2({batch});
    for (Index i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(g.uniform());
    for (Index i = 0; i < batch; ++i) {
      y1[i] = static_cast<std::int64_t>(g.below(10));
      y2[i] = static_cast<std::int64_t>(g.below(10));
    }
    batch_.x = std::move(x);
    batch_.targets.resize(2);
    batch_.targets[0].name = "a";
    batch_.targets[0].labels = std::move(y1);
    batch_.targets[0].num_classes = 10;
    batch_.targets[1].name = "b";
    batch_.targets[1].labels = std::move(y2);
    batch_.targets[1].num_classes = 10;
    auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({784, width, width}).seed(1));
    model_ = std::make_unique<MultiTaskModel<float>>(
        std::make_shared<sharing::HardSharing<float>>(trunk, width));
    for (const char* name : {"a", "b"})
      model_->add_task(TaskOptions<float>(name).head(
          std::make_shared<nn::Linear<float>>(nn::LinearOptions(width, 10).seed(2))));
    if (!balancer.empty()) model_->set_balancer(weighting::make_balancer<float>(balancer), source);
    opt_ = std::make_unique<optim::Adam<float>>(model_->parameters(), optim::AdamOptions(1e-3));
    step_ = std::make_unique<train::TrainStep<float>>(*model_, *opt_);
  }
  double step() { return (*step_)(batch_).total; }
  data::Batch<float> batch_;
  std::unique_ptr<MultiTaskModel<float>> model_;
  std::unique_ptr<optim::Adam<float>> opt_;
  std::unique_ptr<train::TrainStep<float>> step_;
};

void BM_Onestone_TrainStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneStep s(state.range(0));
  for (int i = 0; i < 3; ++i) s.step();
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
  state.SetItemsProcessed(state.iterations() * state.range(0));
  bench::report_allocs(state, [&] { s.step(); });
}
BENCHMARK(BM_Onestone_TrainStep)->Apply(train_step_args)->Unit(benchmark::kMillisecond);

// The same step with hidden width 1024 (GEMM-bound). Arguments: {batch, threads}.
void BM_Onestone_TrainStepWide(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneStep s(state.range(0), 1024);
  for (int i = 0; i < 3; ++i) s.step();
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
  bench::report_allocs(state, [&] { s.step(); });
}
BENCHMARK(BM_Onestone_TrainStepWide)->Args({256, 1})->Args({256, 2})->Unit(benchmark::kMillisecond);

// The matrix products of one train step (784→w→w, two 10-way heads: forward, then the weight
// and input gradients of backward) done by Eigen alone, `C.noalias() = A * B` with Eigen's own
// threading: the time a step would take if everything but its GEMMs were free. Our step's time
// over this one is the fraction of Eigen's GEMM throughput the step reaches. Arguments:
// {batch, threads}.
struct StepProducts {
  StepProducts(Index n, Index w)
      : X(RowMatrix<float>::Random(n, 784)),
        W0(RowMatrix<float>::Random(w, 784)),
        W1(RowMatrix<float>::Random(w, w)),
        Z0(n, w),
        Z1(n, w),
        dZ0(n, w),
        dZ1(n, w),
        dW0(w, 784),
        dW1(w, w) {
    for (int h = 0; h < 2; ++h) {
      Wh[h] = RowMatrix<float>::Random(10, w);
      O[h] = RowMatrix<float>::Random(n, 10);
      dWh[h].resize(10, w);
    }
  }
  void run() {
    Z0.noalias() = X * W0.transpose();
    Z1.noalias() = Z0 * W1.transpose();
    for (int h = 0; h < 2; ++h) O[h].noalias() = Z1 * Wh[h].transpose();
    for (int h = 0; h < 2; ++h) {
      dWh[h].noalias() = O[h].transpose() * Z1;
      if (h == 0)
        dZ1.noalias() = O[h] * Wh[h];
      else
        dZ1.noalias() += O[h] * Wh[h];
    }
    dW1.noalias() = dZ1.transpose() * Z0;
    dZ0.noalias() = dZ1 * W1;
    dW0.noalias() = dZ0.transpose() * X;
  }
  // The same products through onestone's own GEMM (autograd::detail::gemm): the floor of our
  // step, as `run` is the floor of a step built on Eigen's products.
  void run_onestone() {
    using autograd::detail::gemm;
    const Index n = X.rows(), w = W1.rows();
    gemm<float>(n, w, 784, X.data(), 784, false, W0.data(), 784, true, Z0.data(), w, false);
    gemm<float>(n, w, w, Z0.data(), w, false, W1.data(), w, true, Z1.data(), w, false);
    for (int h = 0; h < 2; ++h)
      gemm<float>(n, 10, w, Z1.data(), w, false, Wh[h].data(), w, true, O[h].data(), 10, false);
    for (int h = 0; h < 2; ++h) {
      gemm<float>(10, w, n, O[h].data(), 10, true, Z1.data(), w, false, dWh[h].data(), w, false);
      gemm<float>(n, w, 10, O[h].data(), 10, false, Wh[h].data(), w, false, dZ1.data(), w, h > 0);
    }
    gemm<float>(w, w, n, dZ1.data(), w, true, Z0.data(), w, false, dW1.data(), w, false);
    gemm<float>(n, w, w, dZ1.data(), w, false, W1.data(), w, false, dZ0.data(), w, false);
    gemm<float>(w, 784, n, dZ0.data(), w, true, X.data(), 784, false, dW0.data(), 784, false);
  }
  static double flops(Index n, Index w) {
    const double fwd = 784.0 * w + 1.0 * w * w + 20.0 * w;
    return 2.0 * n * (fwd + fwd + 1.0 * w * w + 20.0 * w);
  }
  RowMatrix<float> X, W0, W1, Z0, Z1, dZ0, dZ1, dW0, dW1, Wh[2], O[2], dWh[2];
};
void products_floor(benchmark::State& state, Index width, bool onestone_gemm) {
  set_threads(static_cast<int>(state.range(1)));
  StepProducts p(state.range(0), width);
  auto run = [&] { onestone_gemm ? p.run_onestone() : p.run(); };
  run();
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(p.dW0.data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(StepProducts::flops(state.range(0), width),
                                                benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
}
void BM_EigenFloor_TrainStep(benchmark::State& state) { products_floor(state, 256, false); }
void BM_EigenFloor_TrainStepWide(benchmark::State& state) { products_floor(state, 1024, false); }
void BM_KernelFloor_TrainStep(benchmark::State& state) { products_floor(state, 256, true); }
void BM_KernelFloor_TrainStepWide(benchmark::State& state) { products_floor(state, 1024, true); }
BENCHMARK(BM_EigenFloor_TrainStep)->Apply(train_step_args)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EigenFloor_TrainStepWide)
    ->Args({256, 1})
    ->Args({256, 2})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KernelFloor_TrainStep)->Apply(train_step_args)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_KernelFloor_TrainStepWide)
    ->Args({256, 1})
    ->Args({256, 2})
    ->Unit(benchmark::kMillisecond);

// Gradient balancing on the batch-256 step: PCGrad and MGDA at the shared representation
// (onestone's default) and at the shared parameters. Compare with BM_Onestone_TrainStep/256.
void BM_Onestone_BalancedStep(benchmark::State& state, const std::string& method, bool params) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneStep s(
      state.range(0), 256, method,
      params ? weighting::GradientSource::Parameters : weighting::GradientSource::Representation);
  for (int i = 0; i < 3; ++i) s.step();
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
  bench::report_allocs(state, [&] { s.step(); });
}
BENCHMARK_CAPTURE(BM_Onestone_BalancedStep, pcgrad_rep, std::string("pcgrad"), false)
    ->Args({256, 1})
    ->Args({256, 2})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Onestone_BalancedStep, mgda_rep, std::string("mgda"), false)
    ->Args({256, 1})
    ->Args({256, 2})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Onestone_BalancedStep, pcgrad_param, std::string("pcgrad"), true)
    ->Args({256, 1})
    ->Args({256, 2})
    ->Unit(benchmark::kMillisecond);

// Inference of the two-head MLP (no graph, memory released per call). Arguments: {batch, threads}.
void BM_Onestone_Infer(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneStep s(state.range(0));
  s.model_->eval();
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  for (auto _ : state) {
    GraphScope<float> scope(tape);
    NoGradGuard ng;
    const auto& out = s.model_->forward_tasks(s.batch_.x);
    benchmark::DoNotOptimize(out[0].data());
  }
  bench::report_allocs(state, [&] {
    GraphScope<float> scope(tape);
    NoGradGuard ng;
    benchmark::DoNotOptimize(s.model_->forward_tasks(s.batch_.x)[0].data());
  });
}
BENCHMARK(BM_Onestone_Infer)
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({256, 1})
    ->Args({256, 2})
    ->Unit(benchmark::kMicrosecond);

// Serving: MultiTaskModel::predict (thread-safe, no graph kept) into reused output tensors.
void BM_Onestone_Predict(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneStep s(state.range(0));
  std::vector<Tensor<float>> out;
  for (auto _ : state) {
    s.model_->predict(s.batch_.x, out);
    benchmark::DoNotOptimize(out[0].data());
  }
  bench::report_allocs(state, [&] { s.model_->predict(s.batch_.x, out); });
}
BENCHMARK(BM_Onestone_Predict)->Args({1, 1})->Args({1, 2})->Unit(benchmark::kMicrosecond);

// MMoE train step: input 100, 8 experts of 64 units, 2 gates, towers 64→32→1, MSE, Adam.
struct OnestoneMMoE {
  explicit OnestoneMMoE(Index batch) {
    manual_seed(1);
    ds_ = std::make_unique<data::Dataset<float>>(data::make_mmoe_synthetic<float>(
        data::SyntheticOptions().samples(batch).dim(100).num_tasks(2).correlation(0.5)));
    model_ = std::make_unique<MultiTaskModel<float>>(
        std::make_shared<sharing::MMoE<float>>(sharing::MMoEOptions(2, 100, {64}, 8)));
    for (int t = 0; t < 2; ++t)
      model_->add_task(TaskOptions<float>("task" + std::to_string(t))
                           .head(std::make_shared<nn::MLP<float>>(
                               nn::MLPOptions({64, 32, 1}).activate_last(false)))
                           .loss(LossKind::MSE));
    opt_ = std::make_unique<optim::Adam<float>>(model_->parameters(), optim::AdamOptions(1e-3));
    data::DataLoader<float> loader(*ds_, data::LoaderOptions().batch_size(batch).shuffle(false));
    loader.next(batch_);
    step_ = std::make_unique<train::TrainStep<float>>(*model_, *opt_);
  }
  double step() { return (*step_)(batch_).total; }
  std::unique_ptr<data::Dataset<float>> ds_;
  std::unique_ptr<MultiTaskModel<float>> model_;
  std::unique_ptr<optim::Adam<float>> opt_;
  std::unique_ptr<train::TrainStep<float>> step_;
  data::Batch<float> batch_;
};
void BM_Onestone_MMoEStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneMMoE s(state.range(0));
  for (int i = 0; i < 3; ++i) s.step();
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
  bench::report_allocs(state, [&] { s.step(); });
}
BENCHMARK(BM_Onestone_MMoEStep)->Args({256, 1})->Args({256, 2})->Unit(benchmark::kMillisecond);

#ifdef ONESTONE_HAVE_TORCH
// ---- libtorch twin: same shapes, same optimizer -----------------------------------------------
struct TorchNet : torch::nn::Module {
  explicit TorchNet(int64_t width = 256)
      : fc0(register_module("fc0", torch::nn::Linear(784, width))),
        fc1(register_module("fc1", torch::nn::Linear(width, width))),
        h1(register_module("h1", torch::nn::Linear(width, 10))),
        h2(register_module("h2", torch::nn::Linear(width, 10))) {}
  torch::nn::Linear fc0, fc1, h1, h2;
};

// The libtorch twin of OnestoneStep: same shapes, Adam, two cross-entropy heads.
struct TorchStep {
  TorchStep(int64_t batch, int64_t width) {
    torch::manual_seed(1);
    net = std::make_shared<TorchNet>(width);
    opt = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(1e-3));
    x = torch::rand({batch, 784});
    y1 = torch::randint(10, {batch}, torch::kLong);
    y2 = torch::randint(10, {batch}, torch::kLong);
  }
  float step() {
    opt->zero_grad();
    auto z = torch::relu(net->fc1(torch::relu(net->fc0(x))));
    auto loss = torch::nn::functional::cross_entropy(net->h1(z), y1) +
                torch::nn::functional::cross_entropy(net->h2(z), y2);
    loss.backward();
    opt->step();
    return loss.item<float>();
  }
  std::shared_ptr<TorchNet> net;
  std::unique_ptr<torch::optim::Adam> opt;
  torch::Tensor x, y1, y2;
};

void torch_train_step(benchmark::State& state, int64_t width) {
  set_threads(static_cast<int>(state.range(1)));
  const int64_t batch = state.range(0);
  TorchStep t(batch, width);
  for (int i = 0; i < 3; ++i) t.step();
  for (auto _ : state) benchmark::DoNotOptimize(t.step());
  state.SetItemsProcessed(state.iterations() * batch);
}
void BM_Torch_TrainStep(benchmark::State& state) { torch_train_step(state, 256); }
BENCHMARK(BM_Torch_TrainStep)->Apply(train_step_args)->Unit(benchmark::kMillisecond);

void BM_Torch_TrainStepWide(benchmark::State& state) { torch_train_step(state, 1024); }
BENCHMARK(BM_Torch_TrainStepWide)->Args({256, 1})->Args({256, 2})->Unit(benchmark::kMillisecond);

// The libtorch twin of onestone's inference: the two-head MLP in eval mode, no gradients.
struct TorchInfer {
  explicit TorchInfer(int64_t batch) {
    torch::manual_seed(1);
    net = std::make_shared<TorchNet>();
    net->eval();
    x = torch::rand({batch, 784});
  }
  void run() {
    torch::NoGradGuard ng;
    auto z = torch::relu(net->fc1(torch::relu(net->fc0(x))));
    auto a = net->h1(z), b = net->h2(z);
    benchmark::DoNotOptimize(a.data_ptr());
    benchmark::DoNotOptimize(b.data_ptr());
  }
  std::shared_ptr<TorchNet> net;
  torch::Tensor x;
};
void BM_Torch_Infer(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  TorchInfer t(state.range(0));
  for (auto _ : state) t.run();
}
BENCHMARK(BM_Torch_Infer)
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({256, 1})
    ->Args({256, 2})
    ->Unit(benchmark::kMicrosecond);
void BM_Torch_Predict(benchmark::State& state) { BM_Torch_Infer(state); }
BENCHMARK(BM_Torch_Predict)->Args({1, 1})->Args({1, 2})->Unit(benchmark::kMicrosecond);

// Paired runs (bench::paired): one onestone step, then one libtorch step, every iteration.
// Arguments: {batch, threads}.
void paired_step(benchmark::State& state, Index width) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneStep a(state.range(0), width);
  TorchStep b(state.range(0), width);
  paired(
      state, [&] { benchmark::DoNotOptimize(a.step()); },
      [&] { benchmark::DoNotOptimize(b.step()); });
}
void BM_Paired_TrainStep(benchmark::State& state) { paired_step(state, 256); }
void BM_Paired_TrainStepWide(benchmark::State& state) { paired_step(state, 1024); }
void BM_Paired_Infer(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneStep a(state.range(0));
  a.model_->eval();
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  TorchInfer b(state.range(0));
  paired(
      state,
      [&] {
        GraphScope<float> scope(tape);
        NoGradGuard ng;
        benchmark::DoNotOptimize(a.model_->forward_tasks(a.batch_.x)[0].data());
      },
      [&] { b.run(); });
}
void BM_Paired_Predict(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneStep a(state.range(0));
  std::vector<Tensor<float>> out;
  TorchInfer b(state.range(0));
  paired(
      state,
      [&] {
        a.model_->predict(a.batch_.x, out);
        benchmark::DoNotOptimize(out[0].data());
      },
      [&] { b.run(); });
}
BENCHMARK(BM_Paired_Predict)
    ->Args({1, 1})
    ->Args({1, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Paired_TrainStep)
    ->Apply(train_step_args)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Paired_TrainStepWide)
    ->Args({256, 1})
    ->Args({256, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Paired_Infer)
    ->Args({1, 1})
    ->Args({1, 2})
    ->Args({256, 1})
    ->Args({256, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// MMoE twin: 8 experts Linear(100, 64)+ReLU, 2 softmax gates, towers 64→32→1, MSE, Adam.
struct TorchMMoE : torch::nn::Module {
  TorchMMoE() {
    for (int e = 0; e < 8; ++e)
      experts.push_back(register_module("e" + std::to_string(e), torch::nn::Linear(100, 64)));
    for (int t = 0; t < 2; ++t) {
      gates.push_back(register_module("g" + std::to_string(t), torch::nn::Linear(100, 8)));
      t1.push_back(register_module("t1_" + std::to_string(t), torch::nn::Linear(64, 32)));
      t2.push_back(register_module("t2_" + std::to_string(t), torch::nn::Linear(32, 1)));
    }
  }
  std::vector<torch::nn::Linear> experts, gates, t1, t2;
};
void BM_Torch_MMoEStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(1);
  const int64_t batch = state.range(0);
  auto net = std::make_shared<TorchMMoE>();
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  auto x = torch::randn({batch, 100});
  auto y = torch::randn({2, batch, 1});
  auto step = [&] {
    opt.zero_grad();
    std::vector<torch::Tensor> outs;
    for (auto& e : net->experts) outs.push_back(torch::relu(e(x)));
    auto E = torch::stack(outs, 1);  // [B, 8, 64]
    torch::Tensor loss;
    for (int t = 0; t < 2; ++t) {
      auto g = torch::softmax(net->gates[t](x), 1).unsqueeze(2);  // [B, 8, 1]
      auto z = (E * g).sum(1);
      auto p = net->t2[t](torch::relu(net->t1[t](z)));
      auto l = torch::mse_loss(p, y[t]);
      loss = t == 0 ? l : loss + l;
    }
    loss.backward();
    opt.step();
    return loss.item<float>();
  };
  for (int i = 0; i < 3; ++i) step();
  for (auto _ : state) benchmark::DoNotOptimize(step());
}
BENCHMARK(BM_Torch_MMoEStep)->Args({256, 1})->Args({256, 2})->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK_MAIN();
