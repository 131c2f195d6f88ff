// PyTorch state dicts in and out: a model trained in PyTorch (fixture written by Python's
// standard library, tests/fixtures/make_pytorch_fixture.py) loads by name through a NameMap and
// predicts what PyTorch's forward gives; strict mode lists every problem in one message; export
// writes PyTorch's names; buffers travel with parameters.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "io_test_util.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_io_state_dict {

using namespace onestone;

namespace {
std::string fixture(const std::string& name) {
  return std::string(ONESTONE_TEST_FIXTURES_DIR) + "/" + name;
}
// The onestone twin of the fixture's PyTorch Net (names differ by the trunk's "strategy.").
template <typename T>
std::unique_ptr<MultiTaskModel<T>> make_net() {
  auto trunk = std::make_shared<nn::MLP<T>>(nn::MLPOptions({6, 16, 8}).seed(1));
  auto m = std::make_unique<MultiTaskModel<T>>(std::make_shared<sharing::HardSharing<T>>(trunk, 8));
  m->add_task(TaskOptions<T>("a")
                  .head(std::make_shared<nn::Linear<T>>(nn::LinearOptions(8, 3).seed(2)))
                  .loss(LossKind::MSE));
  m->add_task(TaskOptions<T>("b")
                  .head(std::make_shared<nn::Linear<T>>(nn::LinearOptions(8, 1).seed(3)))
                  .loss(LossKind::MSE));
  return m;
}
io::NameMap pytorch_names() {
  return io::NameMap().prefix("trunk.", "strategy.trunk.").ignore_suffix("num_batches_tracked");
}
}  // namespace

TEMPLATE_TEST_CASE("a PyTorch state dict loads by name and predicts PyTorch's outputs",
                   "[io][state_dict]", float, double) {
  auto net = make_net<TestType>();
  const auto rep = io::load_state_dict(*net, fixture("pytorch_model.safetensors"),
                                       io::StateDictOptions().names(pytorch_names()));
  CHECK(rep.loaded.size() == 8);
  CHECK(rep.missing.empty());
  CHECK(rep.unexpected.empty());
  const auto expected = io::read_safetensors(fixture("pytorch_expected.safetensors"));
  const Tensor<TestType> x = io::to_tensor<TestType>(expected.at("x"));
  const auto out = net->predict(x);
  const double tol = std::is_same<TestType, float>::value ? 2e-6 : 1e-14;
  for (const char* task : {"a", "b"}) {
    const Tensor<double> want = io::to_tensor<double>(expected.at(task));
    const Tensor<TestType>& got = out[task == std::string("a") ? 0 : 1];
    REQUIRE(got.numel() == want.numel());
    for (Index k = 0; k < want.numel(); ++k)
      CHECK(std::abs(static_cast<double>(got[k]) - want[k]) <= tol * (1 + std::abs(want[k])));
  }
}

TEST_CASE("strict loading lists every missing, unexpected and mismatched key in one message",
          "[io][state_dict]") {
  auto net = make_net<float>();
  const auto before = net->parameters()[0]->value();
  // Without the name map: the trunk's tensors are missing, the file's trunk tensors and the
  // counter unexpected (the heads' names agree).
  try {
    io::load_state_dict(*net, fixture("pytorch_model.safetensors"));
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    CHECK_THAT(m, Catch::Contains("pytorch_model.safetensors"));
    CHECK_THAT(m, Catch::Contains("missing keys") && Catch::Contains("(4)"));
    CHECK_THAT(m, Catch::Contains("'strategy.trunk.fc0.weight' [16, 6]"));
    CHECK_THAT(m, Catch::Contains("unexpected keys") && Catch::Contains("(5)"));
    CHECK_THAT(m, Catch::Contains("'trunk.fc0.weight'"));
    CHECK_THAT(m, Catch::Contains("the module was not changed"));
  }
  CHECK((net->parameters()[0]->value().vector() - before.vector()).norm() == 0);
  // A model whose head "a" has 4 outputs: one shape mismatch, named with both shapes, and
  // nothing loaded.
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({6, 16, 8}));
  MultiTaskModel<float> other(std::make_shared<sharing::HardSharing<float>>(trunk, 8));
  other.add_task(
      TaskOptions<float>("a").head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(8, 4))));
  other.add_task(
      TaskOptions<float>("b").head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(8, 1))));
  const auto w0 = other.parameters()[0]->value();
  try {
    io::load_state_dict(other, fixture("pytorch_model.safetensors"),
                        io::StateDictOptions().names(pytorch_names()).strict(false));
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    CHECK_THAT(m, Catch::Contains("mismatched tensors (2)"));
    CHECK_THAT(m, Catch::Contains("'heads.a.weight'") && Catch::Contains("[3, 8]") &&
                      Catch::Contains("[4, 8]"));
    CHECK_THAT(m, Catch::Contains("byte offset"));
  }
  CHECK((other.parameters()[0]->value().vector() - w0.vector()).norm() == 0);
  // Non-strict with a map that leaves the heads out: heads reported missing, trunk loaded.
  auto partial = make_net<float>();
  const auto rep = io::load_state_dict(
      *partial, fixture("pytorch_model.safetensors"),
      io::StateDictOptions()
          .names(io::NameMap().prefix("trunk.", "strategy.trunk.").prefix("heads.", "old_heads."))
          .strict(false));
  CHECK(rep.loaded.size() == 4);
  CHECK(rep.missing.size() == 4);
  CHECK(rep.unexpected.size() == 5);  // four heads' tensors and the counter
}

TEST_CASE("name maps: renames, functions, prefixes both ways", "[io][state_dict]") {
  const auto m = io::NameMap()
                     .strip_prefix("module.")
                     .prefix("module.trunk.", "strategy.trunk.")
                     .rename("classifier.weight", "heads.a.weight")
                     .ignore("step");
  CHECK(m.to_module("module.trunk.fc0.bias") == "strategy.trunk.fc0.bias");  // longest prefix
  CHECK(m.to_module("module.heads.b.bias") == "heads.b.bias");
  CHECK(m.to_module("classifier.weight") == "heads.a.weight");
  CHECK(m.to_module("step").empty());
  CHECK(m.to_file("strategy.trunk.fc1.weight") == "module.trunk.fc1.weight");
  CHECK(m.to_file("heads.a.weight") == "classifier.weight");
  // PyTorch's nn.Sequential numbers layers and activations: "trunk.0" / "trunk.2" ↔ fc0 / fc1.
  auto seq = io::NameMap().function(
      [](const std::string& f) {
        if (f.rfind("trunk.", 0) != 0) return f;
        const std::size_t dot = f.find('.', 6);
        const int idx = std::stoi(f.substr(6, dot - 6));
        return "strategy.trunk.fc" + std::to_string(idx / 2) + f.substr(dot);
      },
      [](const std::string& n) {
        if (n.rfind("strategy.trunk.fc", 0) != 0) return n;
        const std::size_t dot = n.find('.', 17);
        const int idx = std::stoi(n.substr(17, dot - 17));
        return "trunk." + std::to_string(2 * idx) + n.substr(dot);
      });
  CHECK(seq.to_module("trunk.2.weight") == "strategy.trunk.fc1.weight");
  CHECK(seq.to_file("strategy.trunk.fc1.weight") == "trunk.2.weight");
  CHECK(seq.to_module("heads.a.bias") == "heads.a.bias");
}

TEST_CASE("export writes PyTorch's names and loads back; buffers travel too", "[io][state_dict]") {
  io_test::TempDir dir;
  auto net = make_net<double>();
  const std::string path = dir.file("to_pytorch.safetensors");
  io::save_state_dict(*net, path, pytorch_names());
  const auto file = io::read_safetensors(path);
  CHECK(file.count("trunk.fc0.weight") == 1);
  CHECK(file.count("heads.b.bias") == 1);
  CHECK(file.at("trunk.fc0.weight").dtype == "F64");
  CHECK(file.size() == 8);
  auto back = make_net<double>();
  for (auto* p : back->parameters()) p->value().vector().setZero();
  io::load_state_dict(*back, path, io::StateDictOptions().names(pytorch_names()));
  const auto p1 = net->parameters(), p2 = back->parameters();
  for (std::size_t k = 0; k < p1.size(); ++k)
    CHECK((p1[k]->value().vector() - p2[k]->value().vector()).norm() == 0);

  // A module with a buffer: saved and loaded with the parameters.
  struct WithStats : nn::Module<double> {
    Tensor<double>* mean_;
    WithStats() {
      register_parameter("w", Tensor<double>::from({1, 2}, {2}));
      mean_ = &register_buffer("running_mean", Tensor<double>::from({0.5, -0.5}, {2}));
    }
  };
  WithStats a, b;
  (*b.mean_)[0] = 9;
  const std::string p = dir.file("stats.safetensors");
  io::save_state_dict(a, p);
  CHECK(io::read_safetensors(p).count("running_mean") == 1);
  CHECK(a.parameters().size() == 1);
  io::load_state_dict(b, p);
  CHECK((*b.mean_)[0] == 0.5);
  // Checkpoints carry buffers too.
  io::CheckpointState<double> ck;
  ck.model = &a;
  const std::string cp = dir.file("ckpt.safetensors");
  io::save_checkpoint(cp, ck);
  (*b.mean_)[1] = 7;
  io::CheckpointState<double> ck2;
  ck2.model = &b;
  io::load_checkpoint(cp, ck2);
  CHECK((*b.mean_)[1] == -0.5);
  // Two module names mapping to one file name is refused before anything is written.
  CHECK_THROWS_WITH(
      io::save_state_dict(a, p, io::NameMap().function({}, [](const std::string&) { return "x"; })),
      Catch::Contains("both map to the file name 'x'"));
}

}  // namespace test_io_state_dict
