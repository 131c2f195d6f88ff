// transfer_task: transfer from a trained multi-task model to a new task with little labelled
// data, on Fashion-MNIST (real data).
//
// Pretraining (per seed): a hard-sharing model (MLP trunk 784-256-256, one linear head per task)
// learns two tasks on plentiful labels; its weights are saved as safetensors. Three set-ups:
//   --setup regroup (default): every training image with Fashion-MNIST's "item" (10 classes)
//     and "group" (4) tasks, as examples/fashion_mtl; the new task is a grouping no pretraining
//     task has, "season": for the cold (pullover, coat, ankle boot), for the heat (T-shirt,
//     dress, sandal), any (trouser, shirt, sneaker, bag).
//   --setup coarse-to-fine: every training image with two coarse labellings, "group"
//     (upper body, lower/full body, footwear, bag) and "outfit" (clothes, footwear, bag); the
//     new task is the 10 fine classes.
//   --setup new-classes: the images of the first five classes only (T-shirt, trouser,
//     pullover, dress, coat), tasks "old_item" and "old_group"; the new task tells apart the
//     five classes never seen (sandal, shirt, sneaker, bag, ankle boot).
// The new task gets --per-class labelled training images per class. Compared over --seeds
// seeds (mean ± std of the test accuracy on every test image of the new task's classes):
//   from scratch      a new model trained on the few labels only;
//   frozen trunk      the pretrained trunk loaded (io::load_state_dict, non-strict) and frozen
//                     (train::freeze), a new head trained;
//   fine-tune x0.1    the pretrained trunk loaded, everything trained, the trunk at 0.1x the rate
//                     (TrainerOptions::lr_multiplier("strategy.", 0.1));
//   fine-tune         the same with one rate for all.
//
//   ./transfer_task [--setup regroup] [--seeds 5] [--per-class 5,20] [--steps 300] ...
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <onestone/onestone.hpp>
#include <onestone/train/transfer.hpp>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/stats.hpp"

using namespace onestone;

namespace {

// A dataset of the images `idx` of `src` with one class target (labels mapped by `map`).
data::Dataset<float> subset(const data::Dataset<float>& src, const std::vector<Index>& idx,
                            const std::vector<std::pair<std::string, std::vector<int>>>& maps) {
  data::Dataset<float> sel = src.select(idx);
  data::Dataset<float> out(sel.inputs());
  const Tensor<std::int64_t>& items = sel.target("item").labels;
  for (const auto& m : maps) {
    Tensor<std::int64_t> y(Shape{items.numel()});
    int classes = 0;
    for (int c : m.second) classes = std::max(classes, c + 1);
    for (Index i = 0; i < items.numel(); ++i) y[i] = m.second[static_cast<std::size_t>(items[i])];
    out.add_classification(m.first, std::move(y), classes);
  }
  return out;
}

std::shared_ptr<MultiTaskModel<float>> make_model(
    const std::vector<std::pair<std::string, Index>>& tasks) {
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({784, 256, 256}));
  auto model = std::make_shared<MultiTaskModel<float>>(
      std::make_shared<sharing::HardSharing<float>>(trunk, 256));
  for (const auto& t : tasks)
    model->add_task(TaskOptions<float>(t.first)
                        .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(256, t.second)))
                        .loss(LossKind::CrossEntropy));
  return model;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "transfer from a multi-task model trained on five Fashion-MNIST classes to "
                      "the five others with few labels: from scratch, frozen trunk, fine-tuning");
  const std::string dir = args.get("--data DIR", data::default_fashion_mnist_dir(),
                                   "folder of the Fashion-MNIST files");
  const long seeds = args.get_int("--seeds N", 5, "number of seeds (1..N)");
  const std::string per_class_arg =
      args.get("--per-class LIST", "5,20", "labelled images per new class (comma-separated)");
  const long pre_epochs = args.get_int("--pretrain-epochs N", 3, "pretraining epochs");
  const long steps = args.get_int("--steps N", 300, "optimizer steps on the new task");
  const long batch = args.get_int("--batch N", 32, "batch size on the new task");
  const double lr = args.get_double("--lr X", 1e-3, "Adam rate (pretraining and new task)");
  const double factor =
      args.get_double("--trunk-factor X", 0.1, "rate factor of the trunk when fine-tuning");
  const long limit = args.get_int("--limit N", 0, "read only the first N training images (0: all)");
  const std::string out_dir = args.get("--out DIR", ".", "where the pretrained weights are saved");
  const std::string setup = args.get("--setup NAME", "regroup",
                                     "regroup, coarse-to-fine or new-classes (see the source)");
  args.finish();
  std::vector<long> per_class;
  for (const auto& s : examples::split_list(per_class_arg)) {
    char* end = nullptr;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (*end || v < 1) {
      std::fprintf(stderr, "transfer_task: --per-class expects integers >= 1, got '%s'\n",
                   per_class_arg.c_str());
      return 2;
    }
    per_class.push_back(v);
  }
  if (seeds < 1 || pre_epochs < 1 || steps < 1 || batch < 1 || per_class.empty()) {
    std::fprintf(stderr,
                 "transfer_task: --seeds, --pretrain-epochs, --steps, --batch must be >= 1 "
                 "and --per-class non-empty\n");
    return 2;
  }

  data::Dataset<float> train_all(Tensor<float>({1, 1})), test_all(Tensor<float>({1, 1}));
  try {
    train_all = data::load_fashion_mnist<float>(dir, true, limit);
    test_all = data::load_fashion_mnist<float>(dir, false, limit ? limit / 6 + 1 : 0);
  } catch (const std::exception& e) {
    std::cerr << "transfer_task: cannot load Fashion-MNIST from '" << dir << "':\n  " << e.what()
              << "\nInstall the data with:  sudo apt-get install dataset-fashion-mnist\n"
                 "or point to a folder holding the four *-ubyte(.gz) files with --data DIR.\n";
    return 2;
  }
  // Two set-ups (--setup):
  //   coarse-to-fine: pretraining on every training image with two coarse labellings,
  //     "group" (upper body, lower/full body, footwear, bag) and "outfit" (clothes, footwear,
  //     bag); the new task is the 10 fine classes ("item"), tested on the whole test set.
  //   new-classes: pretraining on the images of classes 0..4 only, "old_item" (which of the
  //     five) and "old_group" (upper body or not); the new task is the 5 other classes.
  using Maps = std::vector<std::pair<std::string, std::vector<int>>>;
  const bool regroup = setup == "regroup", coarse = regroup || setup == "coarse-to-fine";
  if (!coarse && setup != "new-classes") {
    std::fprintf(stderr, "transfer_task: --setup must be regroup, coarse-to-fine or new-classes\n");
    return 2;
  }
  using Tasks = std::vector<std::pair<std::string, Index>>;
  Maps old_maps, new_map;
  Tasks old_tasks;
  Index new_classes = 0;
  if (regroup) {
    // Fashion-MNIST's own tasks (as examples/fashion_mtl); the new task is "season": for the
    // cold (pullover, coat, ankle boot), for the heat (T-shirt, dress, sandal), any (the rest).
    old_maps = {{"item", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
                {"group", {0, 1, 0, 1, 0, 2, 0, 2, 3, 2}}};
    old_tasks = {{"item", 10}, {"group", 4}};
    new_map = {{"season", {1, 2, 0, 1, 0, 1, 2, 2, 2, 0}}};
    new_classes = 3;
  } else if (coarse) {
    old_maps = {{"group", {0, 1, 0, 1, 0, 2, 0, 2, 3, 2}},
                {"outfit", {0, 0, 0, 0, 0, 1, 0, 1, 2, 1}}};
    old_tasks = {{"group", 4}, {"outfit", 3}};
    new_map = {{"new_item", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}};
    new_classes = 10;
  } else {
    old_maps = {{"old_item", {0, 1, 2, 3, 4, 0, 0, 0, 0, 0}},
                {"old_group", {0, 1, 0, 1, 0, 0, 0, 0, 0, 0}}};
    old_tasks = {{"old_item", 5}, {"old_group", 2}};
    new_map = {{"new_item", {0, 0, 0, 0, 0, 0, 1, 2, 3, 4}}};
    new_classes = 5;
  }
  const std::string new_task = new_map[0].first;
  auto is_old = [&](std::int64_t c) { return coarse || c < 5; };
  auto is_new = [&](std::int64_t c) { return coarse || c >= 5; };
  std::vector<Index> old_train, old_test, new_test;
  std::vector<std::vector<Index>> new_train_by_class(static_cast<std::size_t>(new_classes));
  const Tensor<std::int64_t>& ytr = train_all.target("item").labels;
  const Tensor<std::int64_t>& yte = test_all.target("item").labels;
  for (Index i = 0; i < ytr.numel(); ++i) {
    if (is_old(ytr[i])) old_train.push_back(i);
    if (is_new(ytr[i]))
      new_train_by_class[static_cast<std::size_t>(
                             new_map[0].second[static_cast<std::size_t>(ytr[i])])]
          .push_back(i);
  }
  for (Index i = 0; i < yte.numel(); ++i) {
    if (is_old(yte[i])) old_test.push_back(i);
    if (is_new(yte[i])) new_test.push_back(i);
  }
  const data::Dataset<float> pre_train = subset(train_all, old_train, old_maps);
  const data::Dataset<float> pre_test = subset(test_all, old_test, old_maps);
  const data::Dataset<float> target_test = subset(test_all, new_test, new_map);
  std::printf(
      "Fashion-MNIST from %s, set-up %s: pretraining on %ld images (tasks %s, %s); the "
      "new task has %ld classes, tested on %ld images\n",
      dir.c_str(), setup.c_str(), static_cast<long>(pre_train.size()), old_tasks[0].first.c_str(),
      old_tasks[1].first.c_str(), static_cast<long>(new_classes),
      static_cast<long>(target_test.size()));

  char factor_name[64];
  std::snprintf(factor_name, sizeof factor_name, "fine-tune, trunk rate x%g", factor);
  const std::vector<std::string> variants = {"from scratch", "frozen trunk + new head", factor_name,
                                             "fine-tune, one rate"};
  // acc[per-class index][variant] = one value per seed.
  std::vector<std::vector<std::vector<double>>> acc(
      per_class.size(), std::vector<std::vector<double>>(variants.size()));
  data::DataLoader<float> target_test_loader(target_test,
                                             data::LoaderOptions().batch_size(1000).shuffle(false));
  for (long seed = 1; seed <= seeds; ++seed) {
    // 1. Multi-task pretraining on the old classes; the weights go to a safetensors file.
    manual_seed(static_cast<std::uint64_t>(seed));
    const std::string weights =
        out_dir + "/transfer_pretrained_seed" + std::to_string(seed) + ".safetensors";
    {
      auto pre = make_model(old_tasks);
      optim::Adam<float> opt(pre->parameters(), optim::AdamOptions(lr));
      data::DataLoader<float> loader(
          pre_train, data::LoaderOptions().batch_size(128).seed(static_cast<std::uint64_t>(seed)));
      data::DataLoader<float> test_loader(pre_test,
                                          data::LoaderOptions().batch_size(1000).shuffle(false));
      train::Trainer<float> trainer(
          *pre, opt, loader,
          train::TrainerOptions().epochs(static_cast<int>(pre_epochs)).progress(false));
      trainer.fit();
      const auto rep = pre->evaluate(test_loader);
      std::printf("seed %ld: pretrained, test accuracy %s %.3f %s %.3f -> %s\n", seed,
                  old_tasks[0].first.c_str(), rep.get(old_tasks[0].first, "accuracy"),
                  old_tasks[1].first.c_str(), rep.get(old_tasks[1].first, "accuracy"),
                  weights.c_str());
      io::save_state_dict(*pre, weights);
    }
    for (std::size_t pc = 0; pc < per_class.size(); ++pc) {
      // 2. The few labelled images of the new task (a different draw per seed).
      Generator pick(static_cast<std::uint64_t>(seed) * 1000003 + static_cast<std::uint64_t>(pc));
      std::vector<Index> idx;
      for (auto pool : new_train_by_class) {
        for (std::size_t i = pool.size(); i > 1; --i)
          std::swap(pool[i - 1], pool[static_cast<std::size_t>(pick.below(i))]);
        const std::size_t n = std::min(pool.size(), static_cast<std::size_t>(per_class[pc]));
        idx.insert(idx.end(), pool.begin(), pool.begin() + static_cast<long>(n));
      }
      const data::Dataset<float> few = subset(train_all, idx, new_map);
      const Index per_epoch = (few.size() + batch - 1) / batch;
      const int epochs = static_cast<int>((steps + per_epoch - 1) / per_epoch);

      for (std::size_t v = 0; v < variants.size(); ++v) {
        // 3. A model for the new task: same trunk architecture, a new head.
        manual_seed(static_cast<std::uint64_t>(seed) * 7 + v + 1000);
        auto model = make_model({{new_task, new_classes}});
        train::TrainerOptions topts = train::TrainerOptions().epochs(epochs).progress(false);
        if (v > 0) {
          // The pretrained trunk: "strategy.*" from the file; the old heads are unexpected
          // there and the new head is missing, both fine (non-strict).
          const auto rep =
              io::load_state_dict(*model, weights, io::StateDictOptions().strict(false));
          if (rep.loaded.size() != 4 || rep.missing.size() != 2) {
            std::fprintf(stderr, "transfer_task: unexpected load report\n");
            return 1;
          }
        }
        if (v == 1) train::freeze(*model, "strategy.");
        if (v == 2) topts.lr_multiplier("strategy.", factor);
        optim::Adam<float> opt(train::trainable_parameters(*model), optim::AdamOptions(lr));
        data::DataLoader<float> loader(
            few, data::LoaderOptions().batch_size(batch).seed(static_cast<std::uint64_t>(seed)));
        train::Trainer<float> trainer(*model, opt, loader, topts);
        trainer.fit();
        const double a = model->evaluate(target_test_loader).get(new_task, "accuracy");
        acc[pc][v].push_back(a);
        std::printf("seed %ld  %3ld labels/class  %-28s accuracy %.4f\n", seed, per_class[pc],
                    variants[v].c_str(), a);
        std::fflush(stdout);
      }
    }
  }

  std::printf(
      "\nNew task (%s: %ld classes), test accuracy, mean ± std over %ld seeds, %ld Adam "
      "steps (rate %g, batch %ld):\n\n| labelled images |",
      setup.c_str(), static_cast<long>(new_classes), seeds, steps, lr, batch);
  for (const auto& v : variants) std::printf(" %s |", v.c_str());
  std::printf("\n|---|");
  for (std::size_t v = 0; v < variants.size(); ++v) std::printf("---|");
  std::printf("\n");
  for (std::size_t pc = 0; pc < per_class.size(); ++pc) {
    std::printf("| %ld (%ld per class) |", per_class[pc] * static_cast<long>(new_classes),
                per_class[pc]);
    for (std::size_t v = 0; v < variants.size(); ++v) {
      const examples::MeanSd s = examples::mean_sd(acc[pc][v]);
      std::printf(" %.3f ± %.3f |", s.mean, s.std);
    }
    std::printf("\n");
  }
  return 0;
}
