// quickstart: a hard-sharing multi-task model trained on embedded synthetic data.
//
// Three tasks share one MLP trunk: two regression targets from the MMoE synthetic generator
// (task correlation p) and a classification task (is target 0 above its median?).
//
//   ./quickstart [--epochs 10] [--samples 8000] [--batch 64] [--lr 0.003] [--correlation 0.8]
//                [--seed 1]
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <onestone/onestone.hpp>
#include <vector>

#include "common/args.hpp"

using namespace onestone;

int main(int argc, char** argv) {
  examples::Args args(argc, argv);
  if (args.has("--help")) {
    std::cout << "usage: quickstart [--epochs N] [--samples N] [--batch N] [--lr X] "
                 "[--correlation P] [--seed S]\n";
    return 0;
  }
  const long epochs = args.get_int("--epochs", 10);
  const long samples = args.get_int("--samples", 8000);
  const long batch_size = args.get_int("--batch", 64);
  const double lr = args.get_double("--lr", 3e-3);
  const double p = args.get_double("--correlation", 0.8);
  const auto seed = static_cast<std::uint64_t>(args.get_int("--seed", 1));
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
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({32, 128, width}));
  MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, width));
  auto head = [&](Index out) {
    return std::make_shared<nn::MLP<float>>(nn::MLPOptions({width, 32, out}).activate_last(false));
  };
  model.add_task(TaskOptions<float>("task0").head(head(1)).loss(LossKind::MSE));
  model.add_task(TaskOptions<float>("task1").head(head(1)).loss(LossKind::MSE));
  model.add_task(
      TaskOptions<float>("above_median").head(head(2)).loss(LossKind::CrossEntropy).weight(0.5));
  std::printf("model: %ld parameters\n", static_cast<long>(model.num_parameters()));

  // 3. Train with Adam and a cosine schedule; evaluate every epoch.
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(lr));
  optim::CosineAnnealingLR<float> schedule(opt, epochs);
  train::TrainStep<float> step(model, opt);
  data::DataLoader<float> train_loader(train,
                                       data::LoaderOptions().batch_size(batch_size).seed(seed));
  data::DataLoader<float> test_loader(test, data::LoaderOptions().batch_size(256).shuffle(false));
  for (long epoch = 1; epoch <= epochs; ++epoch) {
    train::ProgressBar bar(static_cast<long>(train_loader.num_batches()),
                           "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs));
    long done = 0;
    double total = 0;
    for (const auto& batch : train_loader) {
      total += step(batch).total;
      char buf[48];
      std::snprintf(buf, sizeof buf, "loss %.4f", total / static_cast<double>(++done));
      bar.update(done, buf);
    }
    bar.finish();
    schedule.step();
    auto report = model.evaluate(test_loader);
    std::printf("test after epoch %ld:\n%s", epoch, report.str().c_str());
  }
  return 0;
}
