#include <catch2/catch.hpp>

#include "onestone/onestone.hpp"

using namespace onestone;

namespace {
std::vector<double> trajectory(std::uint64_t seed, int steps) {
  manual_seed(seed);
  auto ds = data::make_mmoe_synthetic<float>(
      data::SyntheticOptions().samples(512).dim(16).num_tasks(2).correlation(0.5).seed(seed));
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({16, 32, 32}).dropout(0.2));
  MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, 32));
  for (int t = 0; t < 2; ++t)
    model.add_task(TaskOptions<float>("task" + std::to_string(t))
                       .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(32, 1)))
                       .loss(LossKind::MSE));
  model.set_balancer(weighting::make_balancer<float>("pcgrad", seed));
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
  data::DataLoader<float> loader(ds, data::LoaderOptions().batch_size(32).seed(seed));
  data::Batch<float> batch;
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    if (!loader.next(batch)) {
      loader.start_epoch();
      loader.next(batch);
    }
    losses.push_back(model.train_step(batch, opt).total);
  }
  return losses;
}
}  // namespace

TEST_CASE("the same seed gives the same loss trajectory, bit for bit", "[model][determinism]") {
  const auto a = trajectory(7, 300), b = trajectory(7, 300), c = trajectory(8, 300);
  REQUIRE(a.size() == 300);
  CHECK(a == b);
  CHECK(a != c);
}
