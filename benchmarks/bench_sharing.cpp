// Train-step time of every sharing strategy with 2, 4 and 8 tasks (batch 256, input 100,
// hidden 64, one linear head per task, MSE, Adam). Arguments: {tasks, threads}.
#include <benchmark/benchmark.h>

#include "../examples/common/strategies.hpp"
#include "onestone/onestone.hpp"

using namespace onestone;

namespace {
struct Setup {
  Setup(const std::string& name, int tasks) {
    manual_seed(1);
    ds = std::make_unique<data::Dataset<float>>(data::make_mmoe_synthetic<float>(
        data::SyntheticOptions().samples(256).dim(100).num_tasks(tasks).correlation(0.5)));
    model = std::make_unique<MultiTaskModel<float>>(
        examples::make_strategy<float>(name, tasks, 100, 64));
    for (int t = 0; t < tasks; ++t)
      model->add_task(TaskOptions<float>("task" + std::to_string(t))
                          .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(64, 1)))
                          .loss(LossKind::MSE));
    opt = std::make_unique<optim::Adam<float>>(model->parameters(), optim::AdamOptions(1e-3));
    data::DataLoader<float> loader(*ds, data::LoaderOptions().batch_size(256).shuffle(false));
    loader.next(batch);
  }
  std::unique_ptr<data::Dataset<float>> ds;
  std::unique_ptr<MultiTaskModel<float>> model;
  std::unique_ptr<optim::Adam<float>> opt;
  data::Batch<float> batch;
};

void run(benchmark::State& state, const std::string& name) {
  set_num_threads(static_cast<int>(state.range(1)));
  Setup s(name, static_cast<int>(state.range(0)));
  for (int i = 0; i < 3; ++i) s.model->train_step(s.batch, *s.opt);
  for (auto _ : state) benchmark::DoNotOptimize(s.model->train_step(s.batch, *s.opt).total);
  state.counters["params"] = static_cast<double>(s.model->num_parameters());
}

int register_all() {
  for (const auto& name : examples::strategy_names())
    benchmark::RegisterBenchmark(("BM_Sharing/" + name).c_str(),
                                 [name](benchmark::State& st) { run(st, name); })
        ->Args({2, 1})
        ->Args({4, 1})
        ->Args({8, 1})
        ->Args({8, 2})
        ->Unit(benchmark::kMicrosecond);
  return 0;
}
const int registered = register_all();
}  // namespace

BENCHMARK_MAIN();
