// Task affinity probe: cosine, exact lookahead (TAG), linearised estimate, exact restoration of
// the training state, and an unchanged training trajectory with the probe on.
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "onestone/onestone.hpp"
#include "onestone/train/task_affinity.hpp"
#include "onestone/train/trainer.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_affinity_affinity {

using namespace onestone;

namespace {

/// A tiny model: a linear trunk 3→2 (shared), three linear heads 2→1 with MSE.
template <typename T>
struct Tiny {
  std::unique_ptr<MultiTaskModel<T>> model;
  data::Dataset<T> ds;
  data::Batch<T> batch;

  explicit Tiny(std::uint64_t seed = 11)
      : ds(data::make_mmoe_synthetic<T>(
            data::SyntheticOptions().samples(12).dim(3).num_tasks(3).correlation(0.6).seed(4))) {
    manual_seed(seed);
    auto trunk = std::make_shared<nn::Linear<T>>(nn::LinearOptions(3, 2));
    model =
        std::make_unique<MultiTaskModel<T>>(std::make_shared<sharing::HardSharing<T>>(trunk, 2));
    for (int t = 0; t < 3; ++t)
      model->add_task(TaskOptions<T>("task" + std::to_string(t))
                          .head(std::make_shared<nn::Linear<T>>(nn::LinearOptions(2, 1)))
                          .loss(LossKind::MSE));
    data::DataLoader<T> loader(ds, data::LoaderOptions().batch_size(12).shuffle(false));
    REQUIRE(loader.next(batch));
  }
};

/// A small MLP rig (hard sharing, 3 tasks) with its own loaders, built identically per seed.
template <typename T>
struct Rig {
  data::Dataset<T> ds;
  std::unique_ptr<MultiTaskModel<T>> model;
  std::unique_ptr<optim::Optimizer<T>> opt;
  std::unique_ptr<data::DataLoader<T>> loader, probe_loader;

  explicit Rig(bool adam = true)
      : ds(data::make_mmoe_synthetic<T>(
            data::SyntheticOptions().samples(96).dim(5).num_tasks(3).correlation(0.5).seed(9))) {
    manual_seed(3);
    auto trunk = std::make_shared<nn::MLP<T>>(nn::MLPOptions({5, 10, 6}));
    model =
        std::make_unique<MultiTaskModel<T>>(std::make_shared<sharing::HardSharing<T>>(trunk, 6));
    for (int t = 0; t < 3; ++t)
      model->add_task(TaskOptions<T>("task" + std::to_string(t))
                          .head(std::make_shared<nn::Linear<T>>(nn::LinearOptions(6, 1)))
                          .loss(LossKind::MSE));
    if (adam)
      opt = std::make_unique<optim::Adam<T>>(model->parameters(), optim::AdamOptions(0.01));
    else
      opt = std::make_unique<optim::SGD<T>>(model->parameters(), optim::SGDOptions(0.05));
    loader = std::make_unique<data::DataLoader<T>>(
        ds, data::LoaderOptions().batch_size(16).shuffle(true).seed(2));
    probe_loader = std::make_unique<data::DataLoader<T>>(
        ds, data::LoaderOptions().batch_size(32).shuffle(true).seed(77));
  }
  std::vector<T> params() const {
    std::vector<T> out;
    for (auto* p : model->parameters()) out.insert(out.end(), p->value().begin(), p->value().end());
    return out;
  }
  std::vector<T> grads() const {
    std::vector<T> out;
    for (auto* p : model->parameters()) out.insert(out.end(), p->grad().begin(), p->grad().end());
    return out;
  }
};

template <typename T>
bool bit_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(T) * a.size()) == 0;
}

Eigen::MatrixXd to_matrix(const Tensor<double>& t) {
  Eigen::MatrixXd m(t.size(0), t.size(1));
  for (Index i = 0; i < t.size(0); ++i)
    for (Index j = 0; j < t.size(1); ++j) m(i, j) = t.data()[i * t.size(1) + j];
  return m;
}

}  // namespace

TEST_CASE("cosine matrix equals the hand-computed one for a linear model (double)", "[affinity]") {
  Tiny<double> tiny;
  auto& model = *tiny.model;
  const Eigen::MatrixXd W = to_matrix(model.parameter("strategy.trunk.weight").value());  // 2x3
  const Tensor<double>& bt = model.parameter("strategy.trunk.bias").value();
  Eigen::VectorXd b(2);
  b << bt.data()[0], bt.data()[1];
  const Eigen::MatrixXd X = to_matrix(tiny.batch.x);  // 12x3
  const Index N = X.rows();
  Eigen::MatrixXd Z = X * W.transpose();
  Z.rowwise() += b.transpose();
  Eigen::MatrixXd J(3, 8);  // dL/dW (6) and dL/db (2) per task
  for (int t = 0; t < 3; ++t) {
    const std::string h = "heads.task" + std::to_string(t);
    const Tensor<double>& hw = model.parameter(h + ".weight").value();
    const double hb = model.parameter(h + ".bias").value().data()[0];
    Eigen::RowVector2d hv(hw.data()[0], hw.data()[1]);
    const Tensor<double>& y = tiny.batch.targets[static_cast<std::size_t>(t)].values;
    Eigen::MatrixXd dW = Eigen::MatrixXd::Zero(2, 3);
    Eigen::RowVector2d db = Eigen::RowVector2d::Zero();
    for (Index n = 0; n < N; ++n) {
      const double r = Z.row(n).dot(hv) + hb - y.data()[n];
      const Eigen::RowVector2d dz = (2.0 / static_cast<double>(N)) * r * hv;
      dW += dz.transpose() * X.row(n);
      db += dz;
    }
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 3; ++k) J(t, i * 3 + k) = dW(i, k);
    J(t, 6) = db(0);
    J(t, 7) = db(1);
  }
  train::TaskAffinity<double> probe(model, train::TaskAffinityOptions().lookahead_lr(0.1));
  probe.measure(tiny.batch);
  const Eigen::MatrixXd C = probe.cosine();
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const double expect = J.row(i).dot(J.row(j)) / (J.row(i).norm() * J.row(j).norm());
      CHECK(C(i, j) == Approx(expect).margin(1e-13));
    }
  // Representation cosine: dL_t/dz_n = (2/N) r_n h_t, flattened over the batch.
  CHECK(probe.representation_cosine().allFinite());
  CHECK(probe.probes() == 1);
}

TEST_CASE("exact lookahead equals a hand-written lookahead loop to 1e-12 (double)", "[affinity]") {
  Rig<double> rig;
  auto& model = *rig.model;
  data::Batch<double> batch;
  rig.loader->next(batch);
  const double eta = 0.2;
  train::TaskAffinity<double> probe(model, train::TaskAffinityOptions().lookahead_lr(eta));
  probe.measure(batch);
  const Eigen::MatrixXd Z = probe.last_lookahead();

  // By hand: L_j(θ), then per task i: g_i, θₛ ← θₛ − η g_i, L_j, restore.
  auto shared = model.strategy().shared_parameters();
  std::vector<std::vector<double>> theta0;
  for (auto* p : shared) theta0.emplace_back(p->value().begin(), p->value().end());
  std::vector<double> l0(3);
  {
    GraphScope<double> scope;
    NoGradGuard ng;
    model.loss(batch);
    for (int j = 0; j < 3; ++j) l0[j] = model.task_losses()[j].item();
  }
  for (int i = 0; i < 3; ++i) {
    std::vector<std::vector<double>> g;
    {
      GraphScope<double> scope;
      model.zero_grad();
      model.loss(batch);
      model.task_losses()[i].backward();
      for (auto* p : shared) g.emplace_back(p->grad().begin(), p->grad().end());
    }
    for (std::size_t k = 0; k < shared.size(); ++k)
      for (Index e = 0; e < shared[k]->numel(); ++e)
        shared[k]->value().data()[e] = theta0[k][e] - eta * g[k][e];
    {
      GraphScope<double> scope;
      NoGradGuard ng;
      model.loss(batch);
      for (int j = 0; j < 3; ++j) {
        const double expect = 1.0 - model.task_losses()[j].item() / l0[j];
        CHECK(std::abs(Z(i, j) - expect) <= 1e-12);
      }
    }
    for (std::size_t k = 0; k < shared.size(); ++k)
      std::copy(theta0[k].begin(), theta0[k].end(), shared[k]->value().data());
  }
  // The mean over one probe is that probe.
  CHECK((probe.lookahead() - Z).cwiseAbs().maxCoeff() == 0.0);
}

TEST_CASE("parameters, gradients and buffers are bit-identical after probing", "[affinity]") {
  Rig<float> rig;
  data::Batch<float> batch;
  rig.loader->next(batch);
  train::TrainStep<float> step(*rig.model, *rig.opt);
  step(batch);  // gradients are non-zero now
  const auto p0 = rig.params();
  const auto g0 = rig.grads();
  const auto rng0 = default_generator().state();
  train::TaskAffinity<float> probe(*rig.model, train::TaskAffinityOptions().lookahead_lr(0.5));
  for (int k = 0; k < 3; ++k) probe.measure(batch);
  CHECK(bit_equal(rig.params(), p0));
  CHECK(bit_equal(rig.grads(), g0));
  const auto rng1 = default_generator().state();
  CHECK(std::memcmp(rng0.s, rng1.s, sizeof(rng0.s)) == 0);
  CHECK(rig.model->is_training());
  // training behaviour too
  train::TaskAffinity<float> probe2(
      *rig.model, train::TaskAffinityOptions().lookahead_lr(0.5).train_mode(true));
  probe2.measure(batch);
  CHECK(bit_equal(rig.params(), p0));
  CHECK(bit_equal(rig.grads(), g0));
}

TEST_CASE("linearised estimate agrees with the exact lookahead as eta -> 0", "[affinity]") {
  Rig<double> rig;
  data::Batch<double> batch;
  rig.loader->next(batch);
  double prev_err = 1e300;
  for (double eta : {1e-1, 1e-3, 1e-5}) {
    train::TaskAffinity<double> probe(*rig.model, train::TaskAffinityOptions().lookahead_lr(eta));
    probe.measure(batch);
    const Eigen::MatrixXd Z = probe.last_lookahead(), L = probe.last_linearized();
    double err = 0;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        if (std::abs(L(i, j)) > 1e-3 * eta) err = std::max(err, std::abs(Z(i, j) / L(i, j) - 1.0));
    INFO("eta " << eta << " max |Z/Zlin - 1| " << err);
    CHECK(err < prev_err);
    prev_err = err;
  }
  CHECK(prev_err < 1e-3);
}

TEST_CASE("Trainer training trajectory is bit-identical with the probe on", "[affinity]") {
  auto run = [](bool with_probe, std::int64_t* probes) {
    Rig<float> rig;
    train::Trainer<float> trainer(*rig.model, *rig.opt, *rig.loader,
                                  train::TrainerOptions().epochs(3).progress(false));
    train::TaskAffinity<float> probe(*rig.model, train::TaskAffinityOptions().every(2));
    if (with_probe) probe.attach(trainer, *rig.probe_loader);
    trainer.fit();
    if (probes) *probes = probe.probes();
    if (with_probe) {
      CHECK(probe.lookahead().allFinite());
      CHECK(probe.cosine().allFinite());
      const auto a = probe.agreement();
      CHECK(a.pairs == 6);
    }
    return rig.params();
  };
  std::int64_t probes = 0;
  const auto a = run(false, nullptr);
  const auto b = run(true, &probes);
  CHECK(probes == 9);  // 3 epochs × 6 steps, every 2nd step
  CHECK(bit_equal(a, b));
}

TEST_CASE("custom-loop trajectory is bit-identical with the probe on (TAG's same batch)",
          "[affinity]") {
  auto run = [](bool with_probe) {
    Rig<double> rig(/*adam=*/false);
    train::TrainStep<double> step(*rig.model, *rig.opt);
    train::TaskAffinity<double> probe(*rig.model);
    data::Batch<double> batch;
    for (int epoch = 0; epoch < 2; ++epoch) {
      rig.loader->start_epoch();
      while (rig.loader->next(batch)) {
        if (with_probe && step.steps() % 2 == 0) probe.measure(batch, rig.opt->lr());
        step(batch);
      }
    }
    if (with_probe) CHECK(probe.probes() == 6);
    return rig.params();
  };
  CHECK(bit_equal(run(false), run(true)));
}

TEST_CASE("TaskAffinity reports bad use clearly", "[affinity]") {
  Rig<float> rig;
  data::Batch<float> batch;
  rig.loader->next(batch);
  train::TaskAffinity<float> probe(*rig.model);
  CHECK_THROWS_WITH(probe.measure(batch), Catch::Contains("lookahead rate"));
  CHECK_THROWS_AS(train::TaskAffinityOptions().every(0), std::invalid_argument);
  CHECK_THROWS_AS(train::TaskAffinityOptions().lookahead_lr(-1), std::invalid_argument);
  train::StepInfo info;
  info.step = 10;
  CHECK_THROWS_WITH(probe.on_step(info), Catch::Contains("probe loader"));
  CHECK_THROWS_AS(train::affinity_agreement(Eigen::MatrixXd(2, 2), Eigen::MatrixXd(3, 3)),
                  std::invalid_argument);
}

TEST_CASE("pearson and spearman", "[affinity]") {
  CHECK(metrics::pearson({1, 2, 3}, {2, 4, 6}) == Approx(1.0));
  CHECK(metrics::spearman({1, 2, 3}, {10, 20, 15}) == Approx(0.5));
  CHECK(metrics::spearman({1, 2, 3, 4}, {1, 8, 27, 64}) == Approx(1.0));
  CHECK(std::isnan(metrics::pearson({1, 1, 1}, {1, 2, 3})));
  CHECK_THROWS_AS(metrics::pearson({1, 2}, {1}), std::invalid_argument);
  const auto r = metrics::ranks({3, 1, 3});
  CHECK(r[0] == 2.5);
  CHECK(r[1] == 1.0);
}

}  // namespace test_affinity_affinity
