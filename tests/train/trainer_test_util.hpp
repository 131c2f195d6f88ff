#pragma once
/// @file trainer_test_util.hpp
/// Helpers of the Trainer tests: a small two-task regression problem (hard sharing, MSE heads)
/// built identically on demand, parameter snapshots, temporary folders and file reading.

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../io/io_test_util.hpp"
#include "onestone/onestone.hpp"
#include "onestone/train/trainer.hpp"

namespace trainer_test {

namespace fs = std::filesystem;

/// A fresh temporary folder, removed at scope exit (the io tests' one).
using io_test::TempDir;

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

/// Everything a training run needs, built the same way for a given `init_seed`.
template <typename T>
struct Rig {
  std::pair<onestone::data::Dataset<T>, onestone::data::Dataset<T>> data;
  onestone::data::Dataset<T>& train = data.first;
  onestone::data::Dataset<T>& val = data.second;
  std::unique_ptr<onestone::MultiTaskModel<T>> model;
  std::unique_ptr<onestone::optim::Optimizer<T>> opt;
  std::unique_ptr<onestone::data::DataLoader<T>> train_loader, val_loader;

  /// `samples` synthetic samples (dim 6, 2 tasks), 3/4 for training; batches of `batch`.
  explicit Rig(std::uint64_t init_seed, onestone::Index batch = 16, bool shuffle = true,
               const std::string& balancer = "", bool sgd = false, onestone::Index samples = 160,
               std::vector<double> weights = {1.0, 1.0})
      : data(onestone::data::make_mmoe_synthetic<T>(onestone::data::SyntheticOptions()
                                                        .samples(samples)
                                                        .dim(6)
                                                        .num_tasks(2)
                                                        .correlation(0.5)
                                                        .seed(5))
                 .split(0.75, 2)) {
    using namespace onestone;
    manual_seed(init_seed);
    auto trunk = std::make_shared<nn::MLP<T>>(nn::MLPOptions({6, 12, 8}));
    model =
        std::make_unique<MultiTaskModel<T>>(std::make_shared<sharing::HardSharing<T>>(trunk, 8));
    for (int t = 0; t < 2; ++t)
      model->add_task(TaskOptions<T>("task" + std::to_string(t))
                          .head(std::make_shared<nn::Linear<T>>(nn::LinearOptions(8, 1)))
                          .loss(LossKind::MSE)
                          .weight(weights[static_cast<std::size_t>(t)]));
    if (!balancer.empty()) model->set_balancer(weighting::make_balancer<T>(balancer));
    if (sgd)
      opt = std::make_unique<optim::SGD<T>>(model->parameters(), optim::SGDOptions(0.05));
    else
      opt = std::make_unique<optim::Adam<T>>(model->parameters(), optim::AdamOptions(0.01));
    train_loader = std::make_unique<data::DataLoader<T>>(
        train, data::LoaderOptions().batch_size(batch).shuffle(shuffle).seed(3));
    val_loader = std::make_unique<data::DataLoader<T>>(
        val, data::LoaderOptions().batch_size(64).shuffle(false));
  }
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  std::vector<T> params() const {
    std::vector<T> out;
    for (auto* p : model->parameters()) out.insert(out.end(), p->value().begin(), p->value().end());
    return out;
  }
  std::vector<T> params_of(const std::string& prefix) const {
    std::vector<T> out;
    for (auto& np : model->named_parameters())
      if (np.first.rfind(prefix, 0) == 0)
        out.insert(out.end(), np.second->value().begin(), np.second->value().end());
    return out;
  }
};

/// Options that keep the tests quiet.
inline onestone::train::TrainerOptions quiet() {
  return onestone::train::TrainerOptions().progress(false);
}

}  // namespace trainer_test
