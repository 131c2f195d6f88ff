// meta_sine: meta-learning on the sine-wave regression family of Finn et al. (2017) — first-order
// MAML and Reptile against a "plain multi-task" initialisation (one network trained on every
// task's data pooled) and a random initialisation.
//
// A task is y = A·sin(x − φ), A ∈ [0.1, 5], φ ∈ [0, π], x ∈ [−5, 5]; the network is an MLP
// 1-40-40-1 with ReLU. Each initialisation is adapted to tasks never seen in training with
// 1, 5 and 10 SGD steps (rate --adapt-lr) on K = 10 points; the table gives the MSE on 100
// held-out points per task, averaged over --test-tasks tasks, as mean ± std over --seeds seeds.
//
//   ./meta_sine [--seeds 3] [--iterations 10000] [--k 10] [--meta-batch 25] ...
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <onestone/onestone.hpp>
#include <onestone/train/meta_learning.hpp>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/stats.hpp"

using namespace onestone;

namespace {

constexpr double kPi = 3.14159265358979323846;

// K input/target points of the wave (A, φ), x drawn uniformly in [−5, 5].
data::Batch<float> sine_points(Generator& g, double amp, double phase, int k) {
  data::Batch<float> b;
  b.x = Tensor<float>({k, 1});
  data::Target<float> y;
  y.name = "y";
  y.kind = data::TargetKind::Value;
  y.values = Tensor<float>({k, 1});
  for (int i = 0; i < k; ++i) {
    const double x = g.uniform(-5.0, 5.0);
    b.x[i] = static_cast<float>(x);
    y.values[i] = static_cast<float>(amp * std::sin(x - phase));
  }
  b.targets.push_back(std::move(y));
  return b;
}

// One task of the family: `support` points to adapt on and `query` points to evaluate on.
train::MetaTask<float> sine_task(Generator& g, int support, int query) {
  const double amp = g.uniform(0.1, 5.0), phase = g.uniform(0.0, kPi);
  train::MetaTask<float> t;
  t.support = sine_points(g, amp, phase, support);
  t.query = sine_points(g, amp, phase, query);
  return t;
}

std::shared_ptr<nn::MLP<float>> make_net(std::uint64_t seed) {
  return std::make_shared<nn::MLP<float>>(
      nn::MLPOptions({1, 40, 40, 1}).activate_last(false).seed(seed));
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "meta-learning (first-order MAML, Reptile) on sine-wave regression, "
                      "against plain multi-task and random initialisations");
  const long seeds = args.get_int("--seeds N", 3, "number of seeds (1..N)");
  const long iterations =
      args.get_int("--iterations N", 10000, "meta-iterations (and joint-training steps)");
  const long k = args.get_int("--k N", 10, "shots: points per task to adapt on");
  const long meta_batch = args.get_int("--meta-batch N", 25, "tasks per meta-iteration");
  const double inner_lr =
      args.get_double("--inner-lr X", 0.01, "inner SGD rate of FOMAML and Reptile");
  const long maml_steps = args.get_int("--maml-inner-steps N", 1, "inner SGD steps of FOMAML");
  const long reptile_steps =
      args.get_int("--reptile-inner-steps N", 5, "inner SGD steps of Reptile");
  const double meta_lr =
      args.get_double("--meta-lr X", 1e-3, "Adam rate of the outer updates and of joint training");
  const double adapt_lr =
      args.get_double("--adapt-lr X", 0.01, "SGD rate of the test-time adaptation");
  const long test_tasks = args.get_int("--test-tasks N", 100, "unseen tasks to evaluate on");
  const long query = args.get_int("--query N", 100, "held-out points per test task");
  const std::string steps_arg =
      args.get("--adapt-steps LIST", "0,1,5,10", "adaptation steps to report");
  args.finish();
  if (seeds < 1 || iterations < 1 || k < 1 || meta_batch < 1 || test_tasks < 1 || query < 1) {
    std::fprintf(stderr,
                 "meta_sine: --seeds, --iterations, --k, --meta-batch, --test-tasks and "
                 "--query must be >= 1\n");
    return 2;
  }
  std::vector<int> steps;
  for (const auto& s : examples::split_list(steps_arg)) {
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (*end || v < 0 || (!steps.empty() && v < steps.back())) {
      std::fprintf(stderr, "meta_sine: --adapt-steps expects ascending integers >= 0, got '%s'\n",
                   steps_arg.c_str());
      return 2;
    }
    steps.push_back(static_cast<int>(v));
  }
  if (steps.empty()) {
    std::fprintf(stderr, "meta_sine: --adapt-steps is empty\n");
    return 2;
  }

  const std::vector<std::string> methods = {"random init", "plain multi-task", "FOMAML", "Reptile"};
  // result[method][step index] = one value per seed.
  std::vector<std::vector<std::vector<double>>> result(
      methods.size(), std::vector<std::vector<double>>(steps.size()));

  // The same unseen tasks for every seed and method (a generator no training run uses).
  std::vector<train::MetaTask<float>> tests;
  {
    Generator g(0x7e57ULL);
    for (long i = 0; i < test_tasks; ++i)
      tests.push_back(sine_task(g, static_cast<int>(k), static_cast<int>(query)));
  }

  std::printf(
      "sine regression: K = %ld shots, %ld meta-iterations of %ld tasks, %ld seeds, "
      "%ld unseen test tasks\n",
      k, iterations, meta_batch, seeds, test_tasks);
  for (long seed = 1; seed <= seeds; ++seed) {
    for (std::size_t m = 0; m < methods.size(); ++m) {
      const auto t0 = std::chrono::steady_clock::now();
      auto net = make_net(static_cast<std::uint64_t>(seed) * 101);
      train::MetaLossFn<float> loss = [&net](const data::Batch<float>& b) {
        return losses::mse_loss(net->forward(Var<float>::from(b.x)), b.targets[0].values);
      };
      optim::Adam<float> adam(net->parameters(), optim::AdamOptions(meta_lr));
      const int support = static_cast<int>(k);
      train::MetaTaskSampler<float> sampler = [support](Generator& g) {
        return sine_task(g, support, support);
      };
      const std::uint64_t task_seed = static_cast<std::uint64_t>(seed) * 7919;
      if (methods[m] == "plain multi-task") {
        // Joint training: the support and query points of `meta_batch` tasks pooled in one
        // batch per step (the same data the meta-learners see), plain MSE, Adam.
        Generator g(task_seed);
        data::Batch<float> pooled;
        pooled.x = Tensor<float>({meta_batch * 2 * k, 1});
        data::Target<float> y;
        y.name = "y";
        y.kind = data::TargetKind::Value;
        y.values = Tensor<float>({meta_batch * 2 * k, 1});
        pooled.targets.push_back(y);
        for (long it = 0; it < iterations; ++it) {
          Index row = 0;
          for (long t = 0; t < meta_batch; ++t) {
            const train::MetaTask<float> task = sampler(g);
            for (const data::Batch<float>* b : {&task.support, &task.query})
              for (Index i = 0; i < b->size(); ++i, ++row) {
                pooled.x[row] = b->x[i];
                pooled.targets[0].values[row] = b->targets[0].values[i];
              }
          }
          adam.zero_grad();
          autograd::Tape<float>::current().reset();
          loss(pooled).backward();
          adam.step();
        }
      } else if (methods[m] == "FOMAML") {
        train::FOMAML<float> maml(net->parameters(), loss,
                                  train::MetaOptions()
                                      .inner_lr(inner_lr)
                                      .inner_steps(static_cast<int>(maml_steps))
                                      .meta_batch_size(static_cast<int>(meta_batch))
                                      .seed(task_seed));
        maml.set_meta_optimizer(adam);
        for (long it = 0; it < iterations; ++it) maml.step(sampler);
      } else if (methods[m] == "Reptile") {
        train::Reptile<float> reptile(net->parameters(), loss,
                                      train::MetaOptions()
                                          .inner_lr(inner_lr)
                                          .inner_steps(static_cast<int>(reptile_steps))
                                          .meta_batch_size(static_cast<int>(meta_batch))
                                          .seed(task_seed));
        reptile.set_meta_optimizer(adam);
        for (long it = 0; it < iterations; ++it) reptile.step(sampler);
      }
      const double train_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::vector<double> mse(steps.size(), 0.0);
      for (const auto& task : tests) {
        const std::vector<double> r =
            train::adapt_and_evaluate<float>(net->parameters(), loss, task, steps, adapt_lr);
        for (std::size_t s = 0; s < steps.size(); ++s)
          mse[s] += r[s] / static_cast<double>(tests.size());
      }
      std::printf("seed %ld  %-17s trained in %6.1f s  MSE:", seed, methods[m].c_str(), train_s);
      for (std::size_t s = 0; s < steps.size(); ++s) {
        std::printf("  %d steps %.3f", steps[s], mse[s]);
        result[m][s].push_back(mse[s]);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
  }

  std::printf(
      "\nMSE on held-out points of %ld unseen tasks after n SGD steps (rate %g) on K = %ld "
      "points, mean ± std over %ld seeds:\n\n",
      test_tasks, adapt_lr, k, seeds);
  std::printf("| initialisation |");
  for (int s : steps) std::printf(" %d step%s |", s, s == 1 ? "" : "s");
  std::printf("\n|---|");
  for (std::size_t s = 0; s < steps.size(); ++s) std::printf("---|");
  std::printf("\n");
  for (std::size_t m = 0; m < methods.size(); ++m) {
    std::printf("| %s |", methods[m].c_str());
    for (std::size_t s = 0; s < steps.size(); ++s) {
      const examples::MeanSd st = examples::mean_sd(result[m][s]);
      std::printf(" %.3f ± %.3f |", st.mean, st.std);
    }
    std::printf("\n");
  }
  return 0;
}
