#pragma once
// Shared by the vision examples: train a multi-task model for some epochs (Adam, one
// TrainStep per batch) and evaluate it on a test set.
#include <chrono>
#include <cstdint>
#include <onestone/onestone.hpp>

namespace examples {

/// What `fit_and_evaluate` runs: epochs, batch size, learning rate, loader seed.
struct FitOptions {
  long epochs = 10, batch = 256;
  double lr = 1e-3;
  std::uint64_t seed = 1;
};

/// Trains `model` on `train` (Adam, shuffled batches, `model.end_epoch()` after each epoch) and
/// returns its evaluation on `test`; `seconds` receives the training time (evaluation excluded).
template <typename T>
onestone::model::EvalReport fit_and_evaluate(onestone::MultiTaskModel<T>& model,
                                             const onestone::data::Dataset<T>& train,
                                             const onestone::data::Dataset<T>& test,
                                             const FitOptions& o, double& seconds) {
  using namespace onestone;
  optim::Adam<T> opt(model.parameters(), optim::AdamOptions(o.lr));
  train::TrainStep<T> step(model, opt);
  data::DataLoader<T> train_loader(train, data::LoaderOptions().batch_size(o.batch).seed(o.seed));
  data::DataLoader<T> test_loader(test, data::LoaderOptions().batch_size(500).shuffle(false));
  const auto t0 = std::chrono::steady_clock::now();
  for (long e = 0; e < o.epochs; ++e) {
    model.train();
    for (const auto& batch : train_loader) step(batch);
    model.end_epoch();
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  model.eval();
  return model.evaluate(test_loader);
}

}  // namespace examples
