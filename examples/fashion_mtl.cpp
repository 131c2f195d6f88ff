// fashion_mtl: a hard-sharing multi-task model on Fashion-MNIST (real data).
//
// Task "item": the 10 article classes. Task "group": a coarser grouping of the same images:
// upper body (T-shirt, pullover, coat, shirt), lower/full body (trouser, dress),
// footwear (sandal, sneaker, ankle boot), bag.
//
// Data: Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) by default.
//   ./fashion_mtl [--data DIR] [--epochs 5] [--limit N] [--batch 128] [--lr 0.001] [--seed 1]
#include <cstdio>
#include <exception>
#include <iostream>
#include <onestone/onestone.hpp>

#include "common/args.hpp"

using namespace onestone;

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "Fashion-MNIST with two tasks on one trunk: the item (10 classes) and its "
                      "group (3 classes).");
  const std::string dir = args.get("--data DIR", data::default_fashion_mnist_dir(),
                                   "directory of the Fashion-MNIST IDX files (gzipped or raw)");
  const long epochs = args.get_int("--epochs", 5, "training epochs");
  const long limit = args.get_int("--limit", 0, "use only the first N training images (0: all)");
  const long batch_size = args.get_int("--batch", 128, "training batch size");
  const double lr = args.get_double("--lr", 1e-3, "Adam learning rate");
  const auto seed = static_cast<std::uint64_t>(args.get_int("--seed S", 1, "random seed"));
  args.finish();
  manual_seed(seed);

  data::Dataset<float> train_set(Tensor<float>({1, 1})), test_set(Tensor<float>({1, 1}));
  try {
    train_set = data::load_fashion_mnist<float>(dir, true, limit);
    test_set = data::load_fashion_mnist<float>(dir, false, limit ? limit / 6 + 1 : 0);
  } catch (const std::exception& e) {
    std::cerr << "fashion_mtl: cannot load Fashion-MNIST from '" << dir << "':\n  " << e.what()
              << "\nInstall the data with:  sudo apt-get install dataset-fashion-mnist\n"
                 "or point to a folder holding the four *-ubyte(.gz) files with --data DIR.\n";
    return 2;
  }
  std::printf("Fashion-MNIST: %ld train / %ld test images from %s\n",
              static_cast<long>(train_set.size()), static_cast<long>(test_set.size()), dir.c_str());

  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({784, 256, 256}).dropout(0.1));
  MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, 256));
  model.add_task(TaskOptions<float>("item")
                     .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(256, 10)))
                     .loss(LossKind::CrossEntropy));
  model.add_task(TaskOptions<float>("group")
                     .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(256, 4)))
                     .loss(LossKind::CrossEntropy)
                     .weight(0.5));
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(lr));
  train::TrainStep<float> step(model, opt);
  data::DataLoader<float> train_loader(train_set,
                                       data::LoaderOptions().batch_size(batch_size).seed(seed));
  data::DataLoader<float> test_loader(test_set,
                                      data::LoaderOptions().batch_size(1000).shuffle(false));

  for (long epoch = 1; epoch <= epochs; ++epoch) {
    train::ProgressBar bar(static_cast<long>(train_loader.num_batches()),
                           "epoch " + std::to_string(epoch) + "/" + std::to_string(epochs));
    long done = 0;
    double item = 0, group = 0;
    for (const auto& batch : train_loader) {
      const auto& r = step(batch);
      item += r.task_losses[0];
      group += r.task_losses[1];
      ++done;
      char buf[64];
      std::snprintf(buf, sizeof buf, "item %.3f group %.3f", item / done, group / done);
      bar.update(done, buf);
    }
    bar.finish();
    auto report = model.evaluate(test_loader);
    std::printf("test after epoch %ld:\n%s", epoch, report.str().c_str());
  }
  return 0;
}
