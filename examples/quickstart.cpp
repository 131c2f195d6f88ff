// quickstart: a hard-sharing multi-task model trained on embedded synthetic data.
//
// Three tasks share one MLP trunk: two regression targets from the MMoE synthetic generator
// (task correlation p) and a classification task (is target 0 above its median?).
//
//   ./quickstart [--epochs 10] [--samples 8000] [--batch 64] [--lr 0.003] [--correlation 0.8]
//                [--seed 1] [--balancer NAME] [--delta-m] [--log FILE]   (--help: all options)
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <onestone/onestone.hpp>
#include <string>
#include <vector>

#include "common/args.hpp"

using namespace onestone;

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "Trains three tasks (two correlated regressions and a classification) on one "
                      "shared MLP trunk\nwith the Trainer, on generated data.");
  const long epochs = args.get_int("--epochs", 10, "training epochs");
  const long samples = args.get_int("--samples", 8000, "samples generated (80% train, 20% test)");
  const long batch_size = args.get_int("--batch", 64, "training batch size");
  const double lr = args.get_double("--lr", 3e-3, "Adam learning rate (cosine schedule)");
  const double p = args.get_double("--correlation P", 0.8, "correlation of the two regressions");
  const auto seed = static_cast<std::uint64_t>(args.get_int("--seed S", 1, "random seed"));
  const std::string balancer = args.get("--balancer NAME", "",
                                        "task balancing method, e.g. dwa, uncertainty, pcgrad "
                                        "(default: the static weights 1, 1, 0.5)");
  const bool delta_m =
      args.flag("--delta-m",
                "first train one single-task model per task, then monitor (and log) the "
                "multi-task model's dm against them");
  const std::string log = args.get(
      "--log FILE", "", "write the Trainer's log: CSV, or JSON lines if FILE ends in .jsonl");
  args.finish();
  if (epochs < 1 || samples < 10 || batch_size < 1) {
    std::cerr << "quickstart: --epochs and --batch must be >= 1, --samples >= 10\n";
    return 2;
  }
  manual_seed(seed);

  // 1. Data: two correlated regression tasks (Ma et al. 2018) plus a derived classification.
  auto all = data::make_mmoe_synthetic<float>(
      data::SyntheticOptions().samples(samples).dim(32).num_tasks(2).correlation(p).seed(seed));
  {
    const Tensor<float>& y0 = all.target("task0").values;
    std::vector<float> sorted(y0.begin(), y0.end());
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2),
                     sorted.end());
    const float median = sorted[sorted.size() / 2];
    Tensor<std::int64_t> above({all.size()});
    for (Index i = 0; i < all.size(); ++i) above[i] = y0[i] > median ? 1 : 0;
    all.add_classification("above_median", std::move(above), 2);
  }
  auto split = all.split(0.8, seed);
  data::Dataset<float>& train = split.first;
  data::Dataset<float>& test = split.second;
  std::printf("onestone %s quickstart: %ld train / %ld test samples, 3 tasks, correlation %.2f\n",
              version_string(), static_cast<long>(train.size()), static_cast<long>(test.size()), p);

  // 2. Model: a shared trunk, one head per task, L = sum of weighted task losses.
  const Index width = 64;
  auto make_model = [&](const std::vector<std::string>& tasks) {
    auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({32, 128, width}));
    auto m = std::make_unique<MultiTaskModel<float>>(
        std::make_shared<sharing::HardSharing<float>>(trunk, width));
    auto head = [&](Index out) {
      return std::make_shared<nn::MLP<float>>(
          nn::MLPOptions({width, 32, out}).activate_last(false));
    };
    for (const auto& t : tasks) {
      if (t == "above_median")
        m->add_task(TaskOptions<float>(t).head(head(2)).loss(LossKind::CrossEntropy).weight(0.5));
      else
        m->add_task(TaskOptions<float>(t).head(head(1)).loss(LossKind::MSE));
    }
    return m;
  };
  const std::vector<std::string> tasks = {"task0", "task1", "above_median"};
  auto model = make_model(tasks);
  std::printf("model: %ld parameters\n", static_cast<long>(model->num_parameters()));
  try {
    if (!balancer.empty()) model->set_balancer(weighting::make_balancer<float>(balancer));
  } catch (const std::exception& e) {
    std::cerr << "quickstart: --balancer: " << e.what() << "\n";
    return 2;
  }

  // 3. Train with Adam and a cosine schedule; evaluate on the test split after every epoch.
  data::DataLoader<float> test_loader(test, data::LoaderOptions().batch_size(256).shuffle(false));
  auto fit = [&](MultiTaskModel<float>& m, train::TrainerOptions options, bool verbose) {
    optim::Adam<float> opt(m.parameters(), optim::AdamOptions(lr));
    optim::CosineAnnealingLR<float> schedule(opt, epochs);
    data::DataLoader<float> train_loader(train,
                                         data::LoaderOptions().batch_size(batch_size).seed(seed));
    train::Trainer<float> trainer(m, opt, train_loader,
                                  options.epochs(static_cast<int>(epochs)).progress(verbose));
    trainer.set_validation(test_loader).set_scheduler(schedule);
    if (verbose)
      trainer.on_epoch([](const train::EpochInfo& e) {
        std::printf("test after epoch %d:\n%s", e.epoch, e.validation.str().c_str());
      });
    trainer.fit();
  };
  train::TrainerOptions options;
  const bool jsonl = log.size() >= 6 && log.compare(log.size() - 6, 6, ".jsonl") == 0;
  if (!log.empty()) jsonl ? options.log_jsonl(log) : options.log_csv(log);
  try {
    if (delta_m) {
      // Optional: one single-task network per task with the same trunk and budget; the Trainer
      // then monitors (and logs as "monitor") the multi-task model's Δm against them.
      std::vector<model::EvalReport> single;
      for (const auto& t : tasks) {
        manual_seed(seed);
        auto m = make_model({t});
        fit(*m, train::TrainerOptions(), false);
        single.push_back(m->evaluate(test_loader));
        std::printf("single-task %s:\n%s", t.c_str(), single.back().str().c_str());
      }
      options.monitor(train::Monitor::delta_m(model::merge_reports(single)));
    }
    fit(*model, options, true);
  } catch (const std::exception& e) {
    std::cerr << "quickstart: " << e.what() << "\n";
    return 1;
  }
  if (!log.empty()) std::printf("log written to %s\n", log.c_str());
  return 0;
}
