// Train-step time of every balancing method on a hard-sharing model (input 100, trunk
// 100→256→256, linear heads, MSE, Adam, batch 256) with 2, 4 and 8 tasks, gradients taken at the
// shared representation (the fast default), and its heap allocations per step after warm-up
// (counter "allocs/step", which must be 0). Compare each with BM_Weighting/equal at the same task
// count. Arguments: {tasks}.
#include "bench_common.hpp"

namespace {
void run(benchmark::State& state, const std::string& method) {
  onestone::set_num_threads(1);
  bench::RegressionSetup s("hard", static_cast<int>(state.range(0)), 100, 256, method);
  bench::run_steps(state, s);
}

int register_all() {
  for (const auto& name : onestone::weighting::balancer_names())
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
