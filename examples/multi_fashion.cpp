// multi_fashion: Sener & Koltun's (NeurIPS 2018) multi-task LeNet on MultiFashion — two
// Fashion-MNIST items on one canvas, one at the top-left and one at the bottom-right; task
// "left" is the class of the first, task "right" the class of the second.
//
// It trains single-task baselines (one network per task, same code) and one multi-task network
// per sharing strategy (hard sharing of the convolutional trunk, MTAN's per-task attention on
// it, cross-stitch units between per-task towers) and balancing method, then prints — and with
// --csv FILE writes — test accuracy per task, Δm against the baselines and wall time.
//
// Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) by default.
//   ./multi_fashion [--data DIR] [--epochs 10] [--limit N] [--batch 256] [--lr 0.001]
//                   [--strategies hard,mtan,cross_stitch] [--methods equal,mgda,pcgrad,uncertainty]
//                   [--threads N] [--seed 1]
//                   [--csv FILE]
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <onestone/onestone.hpp>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/fit.hpp"
#include "common/lenet.hpp"

using namespace onestone;

namespace {

struct Result {
  std::string method;
  std::vector<double> accuracy;  // per task of `tasks` (NaN when not trained)
  double delta_m = 0;
  double seconds = 0;
};

struct Setup {
  const data::Dataset<float>* train;
  const data::Dataset<float>* test;
  examples::FitOptions fit;
};

// Trains the LeNet on `tasks` with hard sharing, MTAN or cross-stitch towers and balancing
// `method` ("" = static weights 1), and returns its test report. MTAN and cross-stitch have no
// representation shared by every task, so gradient methods combine the trunk's parameter
// gradients there.
model::EvalReport train_model(const Setup& s, const std::vector<std::string>& tasks,
                              const std::string& strategy, const std::string& method,
                              double& seconds) {
  manual_seed(s.fit.seed);
  const bool mtan = strategy == "mtan";
  const bool stitch = strategy == "cross_stitch";
  std::shared_ptr<sharing::SharingStrategy<float>> shared;
  if (mtan)
    shared = examples::make_lenet_mtan<float>(static_cast<int>(tasks.size()));
  else if (stitch)
    shared = examples::make_lenet_cross_stitch<float>(static_cast<int>(tasks.size()));
  else
    shared = std::make_shared<sharing::HardSharing<float>>(
        std::make_shared<examples::LeNetTrunk<float>>(), 50);
  MultiTaskModel<float> model(shared);
  for (const auto& t : tasks)
    model.add_task(TaskOptions<float>(t)
                       .head(mtan || stitch ? examples::make_lenet_mtan_head<float>()
                                            : examples::make_lenet_head<float>())
                       .loss(LossKind::CrossEntropy));
  if (!method.empty() && method != "equal") {
    auto b = weighting::make_balancer<float>(method);
    model.set_balancer(b, (mtan || stitch) && b->needs_gradients()
                              ? weighting::GradientSource::Parameters
                              : weighting::GradientSource::Representation);
  }
  return examples::fit_and_evaluate(model, *s.train, *s.test, s.fit, seconds);
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "MultiFashion (two overlapping Fashion-MNIST items, left and right): "
                      "sharing strategies x\nbalancing methods against single-task baselines "
                      "(accuracy per task and dm).");
  const std::string dir = args.get("--data DIR", data::default_fashion_mnist_dir(),
                                   "directory of the Fashion-MNIST IDX files (gzipped or raw)");
  Setup s;
  s.fit.epochs = args.get_int("--epochs", 10, "training epochs");
  s.fit.batch = args.get_int("--batch", 256, "training batch size");
  s.fit.lr = args.get_double("--lr", 1e-3, "Adam learning rate");
  s.fit.seed = static_cast<std::uint64_t>(args.get_int("--seed S", 1, "random seed"));
  const long limit = args.get_int("--limit", 0, "use only the first N training images (0: all)");
  const long threads = args.get_int("--threads", 0, "worker threads, 0 for the library's default");
  const std::string csv = args.get("--csv FILE", "", "also write the results table as CSV");
  const auto methods = examples::split_list(args.get(
      "--methods LIST", "equal,mgda,pcgrad,uncertainty",
      "comma-separated balancing methods (any registered name: cagrad, nash_mtl, dwa, ...)"));
  const auto strategies = examples::split_list(
      args.get("--strategies LIST", "hard,mtan",
               "comma-separated sharing strategies: hard, mtan, cross_stitch"));
  args.finish();
  for (const auto& st : strategies)
    if (st != "hard" && st != "mtan" && st != "cross_stitch") {
      std::cerr << "multi_fashion: unknown strategy '" << st
                << "' (known: hard, mtan, cross_stitch)\n";
      return 2;
    }
  if (threads > 0) set_num_threads(static_cast<int>(threads));
  for (const auto& m : methods) {
    try {
      if (m != "equal") weighting::make_balancer<float>(m);
    } catch (const std::exception& e) {
      std::cerr << "multi_fashion: " << e.what() << "\n";
      return 2;
    }
  }

  data::Dataset<float> train_set(Tensor<float>({1, 1})), test_set(Tensor<float>({1, 1}));
  try {
    train_set = data::load_multi_fashion<float>(dir, true, limit,
                                                data::MultiFashionOptions().seed(s.fit.seed));
    test_set = data::load_multi_fashion<float>(dir, false, limit ? limit / 6 + 2 : 0,
                                               data::MultiFashionOptions().seed(s.fit.seed + 1));
  } catch (const std::exception& e) {
    std::cerr << "multi_fashion: cannot build MultiFashion from '" << dir << "':\n  " << e.what()
              << "\nInstall the data with:  apt-get install dataset-fashion-mnist\n"
                 "or point to a folder holding the four *-ubyte(.gz) files with --data DIR.\n";
    return 2;
  }
  s.train = &train_set;
  s.test = &test_set;
  std::printf(
      "MultiFashion: %ld train / %ld test images (28x28), %ld epochs, batch %ld, %d "
      "thread(s)\n",
      static_cast<long>(train_set.size()), static_cast<long>(test_set.size()), s.fit.epochs,
      s.fit.batch, get_num_threads());

  const std::vector<std::string> tasks = {"left", "right"};
  std::vector<Result> results;
  // Single-task baselines: the same network with one head, trained by the same code.
  std::vector<model::EvalReport> singles;
  Result single{"single-task", {}, 0.0, 0.0};
  for (const auto& t : tasks) {
    double sec = 0;
    singles.push_back(train_model(s, {t}, "hard", "", sec));
    single.accuracy.push_back(singles.back().get(t, "accuracy"));
    single.seconds += sec;
  }
  const model::EvalReport baseline = model::merge_reports(singles);
  results.push_back(single);
  for (const auto& st : strategies)
    for (const auto& m : methods) {
      Result r{st + " " + m, {}, 0.0, 0.0};
      const model::EvalReport rep = train_model(s, tasks, st, m, r.seconds);
      for (const auto& t : tasks) r.accuracy.push_back(rep.get(t, "accuracy"));
      r.delta_m = model::delta_m(rep, baseline);
      results.push_back(r);
    }

  std::printf("\n%-20s %10s %10s %9s %9s\n", "model", "left acc", "right acc", "dm (%)",
              "time (s)");
  for (const auto& r : results)
    std::printf("%-20s %10.4f %10.4f %+9.2f %9.1f\n", r.method.c_str(), r.accuracy[0],
                r.accuracy[1], r.delta_m, r.seconds);
  std::printf(
      "(single-task: two networks, time is their sum; dm = mean relative accuracy gain "
      "over them, in %%)\n");
  if (!csv.empty()) {
    std::ofstream f(csv);
    f << "model,left_accuracy,right_accuracy,delta_m_percent,seconds\n";
    for (const auto& r : results)
      f << r.method << "," << r.accuracy[0] << "," << r.accuracy[1] << "," << r.delta_m << ","
        << r.seconds << "\n";
    if (!f) {
      std::cerr << "multi_fashion: cannot write " << csv << "\n";
      return 1;
    }
    std::printf("wrote %s\n", csv.c_str());
  }
  return 0;
}
