#include <catch2/catch.hpp>

#include "../../examples/common/strategies.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_sharing_training {

using namespace onestone;

namespace {
void train_and_check(const std::string& name, int tasks) {
  manual_seed(11);
  auto ds = data::make_mmoe_synthetic<float>(data::SyntheticOptions()
                                                 .samples(1500)
                                                 .dim(16)
                                                 .num_tasks(tasks)
                                                 .correlation(0.7)
                                                 .sine_terms(2)
                                                 .seed(3));
  MultiTaskModel<float> model(examples::make_strategy<float>(name, tasks, 16, 16));
  for (int t = 0; t < tasks; ++t)
    model.add_task(TaskOptions<float>("task" + std::to_string(t))
                       .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(16, 1)))
                       .loss(LossKind::MSE));
  data::DataLoader<float> loader(ds, data::LoaderOptions().batch_size(64).seed(1));
  data::DataLoader<float> eval(ds, data::LoaderOptions().batch_size(500).shuffle(false));
  auto before = model.evaluate(eval);
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(5e-3));
  train::TrainStep<float> step(model, opt);
  for (int epoch = 0; epoch < 6; ++epoch)
    for (const auto& b : loader) step(b);
  auto after = model.evaluate(eval);
  for (int t = 0; t < tasks; ++t) {
    const std::string task = "task" + std::to_string(t);
    INFO(name << " with " << tasks << " tasks, " << task << ": mse " << before.get(task, "mse")
              << " -> " << after.get(task, "mse"));
    CHECK(after.get(task, "mse") < 0.5 * before.get(task, "mse"));
  }
}
}  // namespace

TEST_CASE("each strategy trains a 2-task and an 8-task model", "[sharing][training]") {
  for (const auto& name : examples::strategy_names()) {
    train_and_check(name, 2);
    train_and_check(name, 8);
  }
}

}  // namespace test_sharing_training
