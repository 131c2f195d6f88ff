// Checkpoints carry the non-parameter state of every balancing method (loss histories, moving
// averages, generators, warm starts): resuming continues bitwise identically for all of them.
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "onestone/onestone.hpp"
#include "onestone/weighting/registry.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_io_checkpoint_balancers {

using namespace onestone;
using weighting::GradientSource;

namespace {

data::Dataset<double> toy_data() {
  return data::make_mmoe_synthetic<double>(
      data::SyntheticOptions().samples(96).dim(6).num_tasks(3).correlation(0.5).seed(5));
}

struct Run {
  std::unique_ptr<MultiTaskModel<double>> model;
  std::shared_ptr<weighting::Balancer<double>> balancer;
  std::unique_ptr<optim::Adam<double>> opt;
  std::unique_ptr<train::TrainStep<double>> step;
  std::unique_ptr<data::DataLoader<double>> loader;
  data::Batch<double> batch;
  std::vector<double> losses;

  Run(const data::Dataset<double>& ds, const std::string& method, std::uint64_t seed,
      GradientSource src) {
    manual_seed(seed);
    auto trunk = std::make_shared<nn::MLP<double>>(nn::MLPOptions({6, 12, 12}));
    model = std::make_unique<MultiTaskModel<double>>(
        std::make_shared<sharing::HardSharing<double>>(trunk, 12));
    for (int t = 0; t < 3; ++t)
      model->add_task(TaskOptions<double>("task" + std::to_string(t))
                          .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(12, 1)))
                          .loss(LossKind::MSE));
    balancer = weighting::make_balancer<double>(method, seed);
    model->set_balancer(balancer, src);
    opt = std::make_unique<optim::Adam<double>>(model->parameters(), optim::AdamOptions(1e-2));
    // 96 samples in batches of 20: a short last batch, so width-dependent state is exercised.
    loader = std::make_unique<data::DataLoader<double>>(
        ds, data::LoaderOptions().batch_size(20).seed(seed));
  }

  void steps(int n) {
    for (int i = 0; i < n; ++i) {
      if (!loader->next(batch)) {
        model->end_epoch();
        loader->start_epoch();
        REQUIRE(loader->next(batch));
      }
      if (!step) step = std::make_unique<train::TrainStep<double>>(*model, *opt);
      const auto& r = (*step)(batch);
      losses.push_back(r.total);
    }
  }

  io::CheckpointState<double> ckpt() {
    io::CheckpointState<double> c(*model, *opt);
    c.loader = loader.get();
    return c;
  }
};

bool same_parameters(MultiTaskModel<double>& a, MultiTaskModel<double>& b) {
  const auto pa = a.named_parameters(), pb = b.named_parameters();
  if (pa.size() != pb.size()) return false;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    const auto& x = pa[i].second->value();
    const auto& y = pb[i].second->value();
    if (pa[i].first != pb[i].first || x.numel() != y.numel()) return false;
    for (Index k = 0; k < x.numel(); ++k)
      if (x[k] != y[k]) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("checkpoint: every balancing method resumes bitwise identically",
          "[io][checkpoint][weighting]") {
  const auto ds = toy_data();
  io_test::TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  for (const auto& method : weighting::balancer_names()) {
    for (auto src : {GradientSource::Representation, GradientSource::Parameters}) {
      {
        Run probe(ds, method, 1, src);
        if (src == GradientSource::Parameters && !probe.balancer->needs_gradients()) continue;
        if (src == GradientSource::Representation && !probe.balancer->supports_representation())
          continue;
      }
      INFO(method << " (source " << (src == GradientSource::Representation ? "rep" : "param")
                  << ")");
      // Uninterrupted: 17 steps (3 epochs of 5 batches and 2 more; end_epoch between epochs).
      Run full(ds, method, 7, src);
      full.steps(17);
      // Interrupted after 8 steps (mid-epoch, after one end_epoch), saved, and resumed in a
      // run built with other seeds: everything must come from the checkpoint.
      Run first(ds, method, 7, src);
      first.steps(8);
      io::save_checkpoint(path, first.ckpt());
      Run resumed(ds, method, 99, src);
      auto c = resumed.ckpt();
      io::load_checkpoint(path, c);
      resumed.steps(9);
      REQUIRE(resumed.losses.size() == 9);
      for (int i = 0; i < 9; ++i) {
        INFO("step " << 8 + i);
        CHECK(resumed.losses[static_cast<std::size_t>(i)] ==
              full.losses[static_cast<std::size_t>(8 + i)]);
      }
      CHECK(same_parameters(*full.model, *resumed.model));
      CHECK(resumed.balancer->weights() == full.balancer->weights());
    }
  }
}

TEST_CASE("checkpoint: balancer state is validated and loaded all or nothing",
          "[io][checkpoint][weighting]") {
  const auto ds = toy_data();
  io_test::TempDir dir;
  const std::string path = dir.file("dwa.safetensors");
  Run dwa(ds, "dwa", 3, GradientSource::Representation);
  dwa.steps(12);
  io::save_checkpoint(path, dwa.ckpt());

  SECTION("a model with another method refuses the file and is unchanged") {
    Run famo(ds, "famo", 4, GradientSource::Representation);
    famo.steps(3);
    nn::ExtraState before;
    famo.balancer->get_extra_state(before);
    const double w0 = famo.model->named_parameters()[0].second->value()[0];
    auto c = famo.ckpt();
    CHECK_THROWS_WITH(io::load_checkpoint(path, c), Catch::Contains("nothing was changed") &&
                                                        Catch::Contains("balancer") &&
                                                        Catch::Contains("logits"));
    nn::ExtraState after;
    famo.balancer->get_extra_state(after);
    CHECK(after.arrays().at("logits").data == before.arrays().at("logits").data);
    CHECK(famo.model->named_parameters()[0].second->value()[0] == w0);
  }
  SECTION("a model without a balancer reports the orphan state") {
    Run plain(ds, "dwa", 3, GradientSource::Representation);
    plain.model->set_balancer(nullptr);
    auto c = plain.ckpt();
    CHECK_THROWS_WITH(io::load_checkpoint(path, c),
                      Catch::Contains("nothing was changed") &&
                          Catch::Contains("'balancer' has no extra state to restore"));
  }
  SECTION("a state of the wrong size is refused") {
    nn::ExtraState s("balancer");
    dwa.balancer->get_extra_state(s);
    s.put("sum", Eigen::VectorXd::Zero(2));
    CHECK_THROWS_WITH(dwa.balancer->set_extra_state(s), Catch::Contains("'sum'") &&
                                                            Catch::Contains("2x1") &&
                                                            Catch::Contains("expected 3x1"));
    s.put("sum", Eigen::VectorXd::Zero(3));
    s.put("epochs", std::int64_t{-1});
    CHECK_THROWS_WITH(dwa.balancer->set_extra_state(s), Catch::Contains("'epochs'"));
  }
}

TEST_CASE("ExtraState: round trip and clear errors", "[io][checkpoint]") {
  nn::ExtraState s("owner");
  Eigen::MatrixXf m(2, 3);
  m << 1, 2, 3, 4, 5, 6.5f;
  s.put("m", m);
  s.put("n", std::int64_t{42});
  Generator g(9);
  g.normal();
  s.put("g", g);
  Eigen::MatrixXf back;
  s.get("m", back, 2, 3);
  CHECK(back == m);
  CHECK(s.array("m").data[2] == 3.0);  // row-major
  CHECK(s.get_int("n") == 42);
  Generator h(1);
  h.set_state(s.get_generator("g"));
  CHECK(h.normal() == g.normal());
  Eigen::VectorXf v;
  CHECK_THROWS_WITH(s.get("m", v), Catch::Contains("'m' of 'owner'") && Catch::Contains("2x3"));
  CHECK_THROWS_WITH(s.get_int("m"), Catch::Contains("missing") && Catch::Contains("integer"));
  CHECK_THROWS_AS(s.put("a.b", std::int64_t{1}), std::invalid_argument);
}

}  // namespace test_io_checkpoint_balancers
