// Train-step time of every balancing method on a hard-sharing model (input 100, trunk
// 100→256→256, linear heads, MSE, Adam, batch 256) with 2, 4 and 8 tasks, gradients taken at the
// shared representation (the fast default). Compare each with BM_Weighting/equal at the same
// task count. Arguments: {tasks}.
#include <benchmark/benchmark.h>

#include "onestone/onestone.hpp"

using namespace onestone;

namespace {
struct Setup {
  Setup(const std::string& method, int tasks) {
    manual_seed(1);
    ds = std::make_unique<data::Dataset<float>>(data::make_mmoe_synthetic<float>(
        data::SyntheticOptions().samples(256).dim(100).num_tasks(tasks).correlation(0.5)));
    auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({100, 256, 256}));
    model = std::make_unique<MultiTaskModel<float>>(
        std::make_shared<sharing::HardSharing<float>>(trunk, 256));
    for (int t = 0; t < tasks; ++t)
      model->add_task(TaskOptions<float>("task" + std::to_string(t))
                          .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(256, 1)))
                          .loss(LossKind::MSE));
    model->set_balancer(weighting::make_balancer<float>(method));
    opt = std::make_unique<optim::Adam<float>>(model->parameters(), optim::AdamOptions(1e-4));
    data::DataLoader<float> loader(*ds, data::LoaderOptions().batch_size(256).shuffle(false));
    loader.next(batch);
  }
  std::unique_ptr<data::Dataset<float>> ds;
  std::unique_ptr<MultiTaskModel<float>> model;
  std::unique_ptr<optim::Adam<float>> opt;
  data::Batch<float> batch;
};

void run(benchmark::State& state, const std::string& method) {
  set_num_threads(1);
  Setup s(method, static_cast<int>(state.range(0)));
  for (int i = 0; i < 3; ++i) s.model->train_step(s.batch, *s.opt);
  for (auto _ : state) benchmark::DoNotOptimize(s.model->train_step(s.batch, *s.opt).total);
}

int register_all() {
  for (const auto& name : weighting::balancer_names())
    benchmark::RegisterBenchmark(("BM_Weighting/" + name).c_str(),
                                 [name](benchmark::State& st) { run(st, name); })
        ->Arg(2)
        ->Arg(4)
        ->Arg(8)
        ->Unit(benchmark::kMicrosecond);
  return 0;
}
const int registered = register_all();
}  // namespace

BENCHMARK_MAIN();
