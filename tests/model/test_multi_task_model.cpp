#include <catch2/catch.hpp>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_model_multi_task_model {

using namespace onestone;

namespace {
// Two tasks on the same inputs: a 3-way class (sign pattern of two features) and a regression.
data::Dataset<float> toy(Index n, std::uint64_t seed) {
  Generator g(seed);
  Tensor<float> x({n, 6});
  Tensor<std::int64_t> cls({n});
  Tensor<float> y({n, 1});
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < 6; ++j) x.at(i, j) = static_cast<float>(g.normal());
    const float a = x.at(i, 0), b = x.at(i, 1);
    cls[i] = a > 0.5f ? 2 : (a + b > 0 ? 1 : 0);
    y[i] = 0.5f * a - 0.3f * b + 0.1f * x.at(i, 2);
  }
  data::Dataset<float> ds(std::move(x));
  ds.add_classification("cls", std::move(cls), 3).add_regression("reg", std::move(y));
  return ds;
}

std::unique_ptr<MultiTaskModel<float>> make_model() {
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({6, 32, 32}).seed(1));
  auto m = std::make_unique<MultiTaskModel<float>>(
      std::make_shared<sharing::HardSharing<float>>(trunk, 32));
  m->add_task(TaskOptions<float>("cls")
                  .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(32, 3).seed(2)))
                  .loss(LossKind::CrossEntropy));
  m->add_task(TaskOptions<float>("reg")
                  .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(32, 1).seed(3)))
                  .loss(LossKind::MSE)
                  .weight(2.0));
  return m;
}
}  // namespace

TEST_CASE("hard-sharing model: names, losses, training improves both tasks", "[model]") {
  auto train = toy(2000, 1), test = toy(500, 2);
  auto model_ptr = make_model();
  auto& model = *model_ptr;
  auto names = model.named_parameters();
  REQUIRE(names.size() == 8);
  CHECK(names[0].first == "strategy.trunk.fc0.weight");
  CHECK(names[6].first == "heads.reg.weight");
  CHECK(model.num_parameters() == 6 * 32 + 32 + 32 * 32 + 32 + 32 * 3 + 3 + 32 + 1);

  data::DataLoader<float> tl(train, data::LoaderOptions().batch_size(64).seed(3));
  data::DataLoader<float> el(test, data::LoaderOptions().batch_size(128).shuffle(false));
  auto before = model.evaluate(el);
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(3e-3));
  train::TrainStep<float> step(model, opt);
  for (int epoch = 0; epoch < 8; ++epoch)
    for (const auto& b : tl) {
      const auto& r = step(b);
      REQUIRE(r.task_losses.size() == 2);
      CHECK(r.total == Approx(r.task_losses[0] + 2.0 * r.task_losses[1]).epsilon(1e-4));
    }
  auto after = model.evaluate(el);
  CHECK(after.get("cls", "accuracy") > 0.9);
  CHECK(after.get("cls", "accuracy") > before.get("cls", "accuracy"));
  CHECK(after.get("reg", "mse") < 0.25 * before.get("reg", "mse"));
  CHECK(after.get("reg", "mae") > 0);
  CHECK(std::isfinite(after.mean("accuracy")));
  CHECK(after.str().find("cls: loss") != std::string::npos);
}

TEST_CASE("model input errors are clear", "[model][errors]") {
  auto ds = toy(64, 3);
  auto model_ptr = make_model();
  auto& model = *model_ptr;
  optim::SGD<float> opt(model.parameters(), optim::SGDOptions(0.1));
  train::TrainStep<float> step(model, opt);
  data::DataLoader<float> loader(ds, data::LoaderOptions().batch_size(32));
  data::Batch<float> b;
  REQUIRE(loader.next(b));

  SECTION("missing target") {
    data::Batch<float> bad = b;
    bad.targets[1].name = "other";
    REQUIRE_THROWS_WITH(step(bad), Catch::Contains("no target named 'reg'"));
  }
  SECTION("label type mismatch") {
    MultiTaskModel<float> m2(std::make_shared<sharing::HardSharing<float>>(
        std::make_shared<nn::MLP<float>>(nn::MLPOptions({6, 8})), 8));
    m2.add_task(TaskOptions<float>("reg").head(
        std::make_shared<nn::Linear<float>>(nn::LinearOptions(8, 3))));
    optim::SGD<float> o2(m2.parameters(), optim::SGDOptions(0.1));
    REQUIRE_THROWS_WITH(train::TrainStep<float>(m2, o2)(b),
                        Catch::Contains("holds no class labels"));
  }
  SECTION("wrong input width") {
    data::Batch<float> bad = b;
    bad.x.resize(Shape{32, 5});
    REQUIRE_THROWS_WITH(step(bad), Catch::Contains("linear") && Catch::Contains("[32, 5]"));
  }
  SECTION("non-finite loss throws, or skips by policy") {
    data::Batch<float> bad = b;
    bad.targets[1].values[0] = std::numeric_limits<float>::infinity();
    REQUIRE_THROWS_WITH(step(bad), Catch::Contains("task 'reg'") && Catch::Contains("infinite"));
    train::TrainStep<float> skipping(
        model, opt, train::TrainStepOptions().non_finite(train::NonFinitePolicy::Skip));
    const Tensor<float> w0 = model.parameters()[0]->value();
    const auto& r = skipping(bad);
    CHECK(r.skipped);
    CHECK(model.parameters()[0]->value().vector() == w0.vector());
  }
  SECTION("label out of range") {
    data::Batch<float> bad = b;
    bad.targets[0].labels[3] = 7;
    REQUIRE_THROWS_WITH(step(bad), Catch::Contains("label 7 at position 3"));
  }
  SECTION("duplicate task and missing head") {
    REQUIRE_THROWS_WITH(
        model.add_task(TaskOptions<float>("cls").head(std::make_shared<nn::Identity<float>>())),
        Catch::Contains("duplicate task"));
    REQUIRE_THROWS_WITH(model.add_task(TaskOptions<float>("x")), Catch::Contains("has no head"));
  }
}

}  // namespace test_model_multi_task_model
