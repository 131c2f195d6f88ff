// Core benchmarks: GEMM at a few sizes, and the full hard-sharing train step (forward, backward,
// Adam) of the MLP 784→256→256 with two 10-way heads, for onestone and (when libtorch is
// found) its libtorch twin, in the same process so that ratios hold on a noisy machine.
//
// Arguments of each benchmark: {batch, threads}. Run the libtorch side in the tuned setup of
// benchmarks/compare.sh (OpenBLAS core type and library path), or its numbers mean little.
#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include "onestone/onestone.hpp"

#ifdef ONESTONE_HAVE_TORCH
#include <torch/torch.h>
#endif

using namespace onestone;

namespace {

void set_threads(int n) {
  Eigen::setNbThreads(n);
  onestone::set_num_threads(n);
#ifdef ONESTONE_HAVE_TORCH
  torch::set_num_threads(n);
#endif
}

// ---- GEMM: C[m, n] = A[m, k] · B[k, n] (row-major, float) -----------------------------------
void BM_EigenGemm(benchmark::State& state) {
  const Index m = state.range(0), k = state.range(1), n = state.range(2);
  set_threads(static_cast<int>(state.range(3)));
  RowMatrix<float> A = RowMatrix<float>::Random(m, k), B = RowMatrix<float>::Random(k, n), C(m, n);
  for (auto _ : state) {
    C.noalias() = A * B;
    benchmark::DoNotOptimize(C.data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * m * k * n, benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
}
BENCHMARK(BM_EigenGemm)
    ->Args({64, 64, 64, 1})->Args({256, 256, 256, 1})->Args({256, 256, 256, 2})
    ->Args({1024, 1024, 1024, 1})->Args({1024, 1024, 1024, 2})->Args({256, 784, 256, 1})
    ->Args({256, 784, 256, 2})->Unit(benchmark::kMicrosecond);

// ---- onestone train step ---------------------------------------------------------------------
struct OnestoneStep {
  explicit OnestoneStep(Index batch) {
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
    auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({784, 256, 256}).seed(1));
    model_ = std::make_unique<MultiTaskModel<float>>(std::make_shared<sharing::HardSharing<float>>(trunk, 256));
    for (const char* name : {"a", "b"})
      model_->add_task(TaskOptions<float>(name).head(
          std::make_shared<nn::Linear<float>>(nn::LinearOptions(256, 10).seed(2))));
    opt_ = std::make_unique<optim::Adam<float>>(model_->parameters(), optim::AdamOptions(1e-3));
  }
  double step() { return model_->train_step(batch_, *opt_).total; }
  data::Batch<float> batch_;
  std::unique_ptr<MultiTaskModel<float>> model_;
  std::unique_ptr<optim::Adam<float>> opt_;
};

void BM_Onestone_TrainStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneStep s(state.range(0));
  for (int i = 0; i < 3; ++i) s.step();
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Onestone_TrainStep)
    ->Args({32, 1})->Args({32, 2})->Args({256, 1})->Args({256, 2})->Args({1024, 1})->Args({1024, 2})
    ->Unit(benchmark::kMillisecond);

#ifdef ONESTONE_HAVE_TORCH
// ---- libtorch twin: same shapes, same optimizer -----------------------------------------------
struct TorchNet : torch::nn::Module {
  TorchNet()
      : fc0(register_module("fc0", torch::nn::Linear(784, 256))),
        fc1(register_module("fc1", torch::nn::Linear(256, 256))),
        h1(register_module("h1", torch::nn::Linear(256, 10))),
        h2(register_module("h2", torch::nn::Linear(256, 10))) {}
  torch::nn::Linear fc0, fc1, h1, h2;
};

void BM_Torch_TrainStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  torch::manual_seed(1);
  const int64_t batch = state.range(0);
  auto net = std::make_shared<TorchNet>();
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  auto x = torch::rand({batch, 784});
  auto y1 = torch::randint(10, {batch}, torch::kLong), y2 = torch::randint(10, {batch}, torch::kLong);
  auto step = [&] {
    opt.zero_grad();
    auto z = torch::relu(net->fc1(torch::relu(net->fc0(x))));
    auto loss = torch::nn::functional::cross_entropy(net->h1(z), y1) +
                torch::nn::functional::cross_entropy(net->h2(z), y2);
    loss.backward();
    opt.step();
    return loss.item<float>();
  };
  for (int i = 0; i < 3; ++i) step();
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_Torch_TrainStep)
    ->Args({32, 1})->Args({32, 2})->Args({256, 1})->Args({256, 2})->Args({1024, 1})->Args({1024, 2})
    ->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK_MAIN();
