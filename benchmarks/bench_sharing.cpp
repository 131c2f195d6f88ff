// Train-step time of every sharing strategy with 2, 4 and 8 tasks (batch 256, input 100,
// hidden 64, one linear head per task, MSE, Adam), and its heap allocations per step after
// warm-up (counter "allocs/step", which must be 0). Arguments: {tasks, threads}.
#include "bench_common.hpp"

namespace {
void run(benchmark::State& state, const std::string& name) {
  onestone::set_num_threads(static_cast<int>(state.range(1)));
  bench::RegressionSetup s(name, static_cast<int>(state.range(0)), 100, 64);
  bench::run_steps(state, s);
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
