// A user's small program (measured by the compile-time test): includes the umbrella header and
// trains a hard-sharing model on the MMoE synthetic data.
#include <iostream>
#include <onestone/onestone.hpp>

int main() {
  using namespace onestone;
  auto ds = data::make_mmoe_synthetic<float>(data::SyntheticOptions().samples(512));
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({ds.sample_numel(), 64, 32}));
  MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, 32));
  for (const char* t : {"task0", "task1"})
    model.add_task(TaskOptions<float>(t)
                       .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(32, 1)))
                       .loss(LossKind::MSE));
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
  data::DataLoader<float> loader(ds, data::LoaderOptions().batch_size(64));
  train::TrainStep<float> step(model, opt);
  for (int epoch = 0; epoch < 3; ++epoch)
    for (const auto& batch : loader) step(batch);
  std::cout << model.evaluate(loader).str();
}
