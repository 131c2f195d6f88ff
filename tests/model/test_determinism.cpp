#include <catch2/catch.hpp>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_model_determinism {

using namespace onestone;

namespace {
// Losses of `steps` training steps of a two-task MLP (input dim, trunk dim -> width -> width).
std::vector<double> trajectory(std::uint64_t seed, int steps, Index dim = 16, Index width = 32,
                               Index batch_size = 32) {
  manual_seed(seed);
  auto ds = data::make_mmoe_synthetic<float>(
      data::SyntheticOptions().samples(512).dim(dim).num_tasks(2).correlation(0.5).seed(seed));
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({dim, width, width}).dropout(0.2));
  MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, width));
  for (int t = 0; t < 2; ++t)
    model.add_task(TaskOptions<float>("task" + std::to_string(t))
                       .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(width, 1)))
                       .loss(LossKind::MSE));
  model.set_balancer(weighting::make_balancer<float>("pcgrad", seed));
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
  data::DataLoader<float> loader(ds, data::LoaderOptions().batch_size(batch_size).seed(seed));
  data::Batch<float> batch;
  std::vector<double> losses;
  train::TrainStep<float> step(model, opt);
  for (int s = 0; s < steps; ++s) {
    if (!loader.next(batch)) {
      loader.start_epoch();
      loader.next(batch);
    }
    losses.push_back(step(batch).total);
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

TEST_CASE("the loss trajectory is the same bits on one thread and on two", "[model][determinism]") {
  // Large enough that the products, the activations and Adam are all split across threads:
  // each output element is still computed by one thread in a fixed order. (Eigen's kernels,
  // used where onestone's are not available, choose their blocking from the split sizes.)
  if (autograd::detail::best_gemm_isa() == autograd::detail::GemmIsa::Eigen) {
    WARN("onestone's GEMM kernels are not available on this processor: not checked");
    return;
  }
  set_num_threads(1);
  const auto one = trajectory(3, 12, 64, 512, 256);
  set_num_threads(2);
  const auto two = trajectory(3, 12, 64, 512, 256);
  set_num_threads(1);
  REQUIRE(one.size() == 12);
  CHECK(one == two);
}

}  // namespace test_model_determinism
