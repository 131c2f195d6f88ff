// Tests of train/transfer.hpp and of the transfer recipe: freezing by name prefix, the trained
// parameters, frozen parameters untouched by a training step (and given no gradient), copying
// a trained model's shared part into a new model (and loading it from a safetensors file), and
// adding a task to a trained MultiTaskModel.
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "onestone/onestone.hpp"
#include "onestone/train/transfer.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_meta_transfer {

using namespace onestone;

namespace {

std::shared_ptr<MultiTaskModel<double>> make_model(std::uint64_t seed, const std::string& task,
                                                   Index classes) {
  auto trunk = std::make_shared<nn::MLP<double>>(nn::MLPOptions({4, 8, 8}).seed(seed));
  auto m = std::make_shared<MultiTaskModel<double>>(
      std::make_shared<sharing::HardSharing<double>>(trunk, 8));
  m->add_task(
      TaskOptions<double>(task)
          .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(8, classes).seed(seed + 1)))
          .loss(LossKind::CrossEntropy));
  return m;
}

data::Dataset<double> make_data(const std::string& target, Index classes, std::uint64_t seed) {
  Generator g(seed);
  Tensor<double> x({24, 4});
  for (Index i = 0; i < x.numel(); ++i) x[i] = g.normal();
  Tensor<std::int64_t> y({24});
  for (Index i = 0; i < 24; ++i)
    y[i] = static_cast<std::int64_t>(g.below(static_cast<std::uint64_t>(classes)));
  data::Dataset<double> ds(x);
  ds.add_classification(target, y, classes);
  return ds;
}

std::vector<double> flat(const nn::Module<double>& m, const std::string& prefix) {
  std::vector<double> out;
  for (const auto& np : m.named_parameters())
    if (np.first.rfind(prefix, 0) == 0) {
      const Tensor<double>& v = static_cast<const nn::Parameter<double>&>(*np.second).value();
      out.insert(out.end(), v.data(), v.data() + v.numel());
    }
  return out;
}

bool same(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("freeze and unfreeze by name prefix", "[transfer]") {
  auto m = make_model(1, "a", 3);
  const std::size_t all = m->parameters().size();
  CHECK(train::freeze(*m, "strategy.") == 4);
  for (const auto& np : m->named_parameters())
    CHECK(np.second->requires_grad() == (np.first.rfind("strategy.", 0) != 0));
  CHECK(train::trainable_parameters(*m).size() == all - 4);
  CHECK(train::unfreeze(*m, "strategy.trunk.fc1.") == 2);
  CHECK(train::trainable_parameters(*m).size() == all - 2);
  CHECK_THROWS_WITH(train::freeze(*m, "trunk."),
                    Catch::Contains("no parameter") && Catch::Contains("'trunk.'"));
  CHECK_THROWS_AS(train::unfreeze(*m, "nothing"), std::invalid_argument);
  CHECK(train::freeze(*m) == all);
  CHECK(train::trainable_parameters(*m).empty());
  CHECK(train::unfreeze(*m) == all);
}

TEST_CASE("a training step leaves a frozen trunk unchanged and trains the head", "[transfer]") {
  auto m = make_model(2, "a", 3);
  train::freeze(*m, "strategy.");
  const std::vector<double> trunk0 = flat(*m, "strategy."), head0 = flat(*m, "heads.");
  auto ds = make_data("a", 3, 7);
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(8).seed(1));
  SECTION("Adam over every parameter") {
    optim::Adam<double> opt(m->parameters(), optim::AdamOptions(1e-2));
    train::TrainStep<double> step(*m, opt);
    for (const auto& b : loader) step(b);
  }
  SECTION("SGD over the trainable parameters only") {
    optim::SGD<double> opt(train::trainable_parameters(*m), optim::SGDOptions(0.1).momentum(0.9));
    train::TrainStep<double> step(*m, opt);
    for (const auto& b : loader) step(b);
  }
  CHECK(same(flat(*m, "strategy."), trunk0));
  CHECK_FALSE(same(flat(*m, "heads."), head0));
  for (auto* p : m->strategy().parameters())
    for (Index i = 0; i < p->numel(); ++i) REQUIRE(p->grad()[i] == 0.0);
}

TEST_CASE("copy_state copies the shared part into a new model, all or nothing", "[transfer]") {
  auto trained = make_model(3, "old", 3);
  auto fresh = make_model(9, "new", 2);
  const std::vector<double> head_new0 = flat(*fresh, "heads.");
  CHECK_FALSE(same(flat(*trained, "strategy."), flat(*fresh, "strategy.")));
  CHECK(train::copy_state(*trained, *fresh, "strategy.") == 4);
  CHECK(same(flat(*trained, "strategy."), flat(*fresh, "strategy.")));
  CHECK(same(flat(*fresh, "heads."), head_new0));

  // Missing names and shape mismatches throw and change nothing.
  auto other = make_model(4, "old", 5);  // heads.old is 8x5 here, 8x3 in `trained`
  const std::vector<double> other0 = flat(*other, "");
  CHECK_THROWS_WITH(train::copy_state(*trained, *other, ""), Catch::Contains("shape"));
  CHECK(same(flat(*other, ""), other0));
  CHECK_THROWS_WITH(train::copy_state(*trained, *fresh, "heads."),
                    Catch::Contains("no parameter 'heads.old"));
  CHECK_THROWS_WITH(train::copy_state(*trained, *fresh, "balancer."),
                    Catch::Contains("no parameter or buffer"));
}

TEST_CASE("the shared part loads from a safetensors file into a model with a new task",
          "[transfer]") {
  auto trained = make_model(5, "old", 3);
  const std::string path = "transfer_test_pretrained.safetensors";
  io::save_state_dict(*trained, path);
  auto fresh = make_model(6, "new", 2);
  const auto rep = io::load_state_dict(*fresh, path, io::StateDictOptions().strict(false));
  std::remove(path.c_str());
  CHECK(same(flat(*trained, "strategy."), flat(*fresh, "strategy.")));
  REQUIRE(rep.missing.size() == 2);  // the new head's weight and bias
  CHECK(rep.missing[0].rfind("heads.new.", 0) == 0);
  REQUIRE(rep.unexpected.size() == 2);  // the old head's
  CHECK(rep.unexpected[0].rfind("heads.old.", 0) == 0);
}

TEST_CASE("a task added to a trained MultiTaskModel trains with the others", "[transfer]") {
  auto m = make_model(7, "a", 3);
  auto ds = make_data("a", 3, 8);
  {
    optim::Adam<double> opt(m->parameters(), optim::AdamOptions(1e-2));
    train::TrainStep<double> step(*m, opt);
    data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(8).seed(2));
    for (const auto& b : loader) step(b);
  }
  m->add_task(TaskOptions<double>("b")
                  .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(8, 2).seed(3)))
                  .loss(LossKind::CrossEntropy));
  Tensor<std::int64_t> yb({24});
  for (Index i = 0; i < 24; ++i) yb[i] = i % 2;
  ds.add_classification("b", yb, 2);
  train::freeze(*m, "strategy.");
  train::freeze(*m, "heads.a.");
  const std::vector<double> a0 = flat(*m, "heads.a."), b0 = flat(*m, "heads.b.");
  optim::Adam<double> opt(m->parameters(), optim::AdamOptions(1e-2));
  train::TrainStep<double> step(*m, opt);
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(8).seed(3));
  for (const auto& b : loader) {
    const auto& r = step(b);
    REQUIRE(r.present.size() == 2);
  }
  CHECK(same(flat(*m, "heads.a."), a0));
  CHECK_FALSE(same(flat(*m, "heads.b."), b0));
  CHECK(m->evaluate(loader).tasks.size() == 2);
}

}  // namespace test_meta_transfer
