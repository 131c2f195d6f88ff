// Tests of train/meta_learning.hpp: FOMAML's and Reptile's updates equal the hand-derived ones on
// quadratic tasks (plain SGD outer step and an SGD meta optimizer), adaptation and few-shot
// evaluation restore the parameters, frozen parameters stay put, runs are deterministic for a
// seed, and bad input is refused.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "onestone/onestone.hpp"
#include "onestone/train/meta_learning.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_meta_meta_learning {

using namespace onestone;

namespace {

// A module with one parameter w ∈ R² whose loss on a batch with input c ([1, 2]) is
// 0.5‖w − c‖², so ∇L = w − c.
struct Quad : nn::Module<double> {
  nn::Parameter<double>& w;
  explicit Quad(std::vector<double> w0)
      : w(register_parameter("w", Tensor<double>::from(w0, Shape{2}))) {}
};

data::Batch<double> point(double a, double b) {
  data::Batch<double> batch;
  batch.x = Tensor<double>::from({a, b}, Shape{1, 2});
  return batch;
}

train::MetaTask<double> task(double sa, double sb, double qa, double qb) {
  train::MetaTask<double> t;
  t.support = point(sa, sb);
  t.query = point(qa, qb);
  return t;
}

train::MetaLossFn<double> quad_loss(Quad& q) {
  return [&q](const data::Batch<double>& b) {
    Var<double> d = q.w.var() - Var<double>::from(b.x);
    return affine(sum(square(d)), 0.5, 0.0);
  };
}

// w after `steps` SGD steps of rate a on 0.5‖w − c‖².
std::vector<double> inner(std::vector<double> w, const std::vector<double>& c, double a,
                          int steps) {
  for (int s = 0; s < steps; ++s)
    for (int i = 0; i < 2; ++i) w[i] -= a * (w[i] - c[i]);
  return w;
}

std::vector<double> values(const nn::Parameter<double>& p) {
  const Tensor<double>& v = p.value();
  return std::vector<double>(v.data(), v.data() + v.numel());
}

const std::vector<train::MetaTask<double>> kTasks = {task(0, 0, 1, 1), task(2, 0, -1, 3),
                                                     task(-1, 4, 0.5, -2)};
const std::vector<std::vector<double>> kSupport = {{0, 0}, {2, 0}, {-1, 4}};
const std::vector<std::vector<double>> kQuery = {{1, 1}, {-1, 3}, {0.5, -2}};

}  // namespace

TEST_CASE("FOMAML: the meta-gradient is the query gradient at the adapted parameters", "[meta]") {
  for (int steps : {1, 3}) {
    Quad q({1.0, -2.0});
    const double alpha = 0.1, beta = 0.5;
    train::FOMAML<double> maml(
        q.parameters(), quad_loss(q),
        train::MetaOptions().inner_lr(alpha).inner_steps(steps).meta_lr(beta));
    const double reported = maml.step(kTasks);

    std::vector<double> g(2, 0.0);
    double qloss = 0.0;
    for (std::size_t t = 0; t < kTasks.size(); ++t) {
      const std::vector<double> wt = inner({1.0, -2.0}, kSupport[t], alpha, steps);
      for (int i = 0; i < 2; ++i) {
        g[static_cast<std::size_t>(i)] += (wt[i] - kQuery[t][i]) / 3.0;
        qloss += 0.5 * (wt[i] - kQuery[t][i]) * (wt[i] - kQuery[t][i]) / 3.0;
      }
    }
    const std::vector<double> w = values(q.w);
    CHECK(w[0] == Approx(1.0 - beta * g[0]).epsilon(1e-12));
    CHECK(w[1] == Approx(-2.0 - beta * g[1]).epsilon(1e-12));
    CHECK(maml.meta_gradient()[0][0] == Approx(g[0]).epsilon(1e-12));
    CHECK(maml.meta_gradient()[0][1] == Approx(g[1]).epsilon(1e-12));
    CHECK(reported == Approx(qloss).epsilon(1e-12));
    CHECK(maml.steps() == 1);
    CHECK(maml.name() == "FOMAML");
  }
}

TEST_CASE("Reptile: one inner SGD step on quadratics gives the hand-derived update", "[meta]") {
  Quad q({1.0, -2.0});
  const double alpha = 0.25, eps = 0.4;
  train::Reptile<double> reptile(q.parameters(), quad_loss(q),
                                 train::MetaOptions().inner_lr(alpha).inner_steps(1).meta_lr(eps));
  reptile.step(kTasks);
  // w' = w − α(w − c_t); w ← w + ε (mean w' − w) = w − εα (w − mean c).
  const double mean_c0 = (0 + 2 - 1) / 3.0, mean_c1 = (0 + 0 + 4) / 3.0;
  const std::vector<double> w = values(q.w);
  CHECK(w[0] == Approx(1.0 - eps * alpha * (1.0 - mean_c0)).epsilon(1e-12));
  CHECK(w[1] == Approx(-2.0 - eps * alpha * (-2.0 - mean_c1)).epsilon(1e-12));
  CHECK(reptile.name() == "Reptile");
}

TEST_CASE("Reptile with several inner steps and an SGD meta optimizer", "[meta]") {
  const double alpha = 0.3, eps = 0.7;
  Quad q({0.5, 0.5});
  train::Reptile<double> reptile(q.parameters(), quad_loss(q),
                                 train::MetaOptions().inner_lr(alpha).inner_steps(4).meta_lr(1.0));
  optim::SGD<double> meta_opt(q.parameters(), optim::SGDOptions(eps));
  reptile.set_meta_optimizer(meta_opt);
  reptile.step(kTasks);
  std::vector<double> mean_w(2, 0.0);
  for (const auto& c : kSupport) {
    const std::vector<double> wt = inner({0.5, 0.5}, c, alpha, 4);
    for (int i = 0; i < 2; ++i) mean_w[static_cast<std::size_t>(i)] += wt[i] / 3.0;
  }
  const std::vector<double> w = values(q.w);
  CHECK(w[0] == Approx(0.5 + eps * (mean_w[0] - 0.5)).epsilon(1e-12));
  CHECK(w[1] == Approx(0.5 + eps * (mean_w[1] - 0.5)).epsilon(1e-12));
  CHECK(meta_opt.step_count() == 1);
}

TEST_CASE("FOMAML with an SGD meta optimizer equals the plain outer step", "[meta]") {
  Quad a({1.0, 2.0}), b({1.0, 2.0});
  train::FOMAML<double> plain(a.parameters(), quad_loss(a),
                              train::MetaOptions().inner_lr(0.2).meta_lr(0.3));
  train::FOMAML<double> with_opt(b.parameters(), quad_loss(b),
                                 train::MetaOptions().inner_lr(0.2).meta_lr(99.0));
  optim::SGD<double> sgd(b.parameters(), optim::SGDOptions(0.3));
  with_opt.set_meta_optimizer(sgd);
  for (int i = 0; i < 3; ++i) {
    plain.step(kTasks);
    with_opt.step(kTasks);
  }
  const std::vector<double> wa = values(a.w), wb = values(b.w);
  CHECK(wa[0] == Approx(wb[0]).epsilon(1e-14));
  CHECK(wa[1] == Approx(wb[1]).epsilon(1e-14));
}

TEST_CASE("adapt_and_evaluate gives the query loss after n steps and restores the parameters",
          "[meta]") {
  Quad q({3.0, -1.0});
  const auto loss = quad_loss(q);
  const std::vector<double> before = values(q.w);
  const auto t = task(1, 1, 0, 2);
  const std::vector<double> got =
      train::adapt_and_evaluate<double>(q.parameters(), loss, t, {0, 1, 5, 10}, 0.1);
  REQUIRE(got.size() == 4);
  const int ns[] = {0, 1, 5, 10};
  for (int k = 0; k < 4; ++k) {
    const std::vector<double> w = inner({3.0, -1.0}, {1, 1}, 0.1, ns[k]);
    const double expect = 0.5 * (w[0] * w[0] + (w[1] - 2) * (w[1] - 2));
    CHECK(got[static_cast<std::size_t>(k)] == Approx(expect).epsilon(1e-12));
  }
  const std::vector<double> after = values(q.w);
  CHECK(std::memcmp(before.data(), after.data(), 2 * sizeof(double)) == 0);
  CHECK_THROWS_AS(train::adapt_and_evaluate<double>(q.parameters(), loss, t, {2, 1}, 0.1),
                  std::invalid_argument);
  // An empty query throws and the parameters are still restored.
  train::MetaTask<double> bad = t;
  bad.query = data::Batch<double>();
  CHECK_THROWS_AS(train::adapt_and_evaluate<double>(q.parameters(), loss, bad, {3}, 0.1),
                  std::invalid_argument);
  const std::vector<double> after2 = values(q.w);
  CHECK(std::memcmp(before.data(), after2.data(), 2 * sizeof(double)) == 0);
}

TEST_CASE("ParameterSnapshot saves and restores values", "[meta]") {
  Quad q({1.0, 2.0});
  train::ParameterSnapshot<double> snap(q.parameters());
  q.w.value()[0] = 7.0;
  snap.restore();
  CHECK(values(q.w) == std::vector<double>{1.0, 2.0});
  q.w.value()[1] = -3.0;
  snap.save();
  q.w.value()[1] = 5.0;
  snap.restore();
  CHECK(values(q.w) == std::vector<double>{1.0, -3.0});
}

TEST_CASE("meta-learning leaves frozen parameters as they are", "[meta]") {
  auto net =
      std::make_shared<nn::MLP<double>>(nn::MLPOptions({2, 3, 1}).activate_last(false).seed(3));
  net->parameter("fc0.weight").set_requires_grad(false);
  const Tensor<double> frozen =
      static_cast<const nn::Parameter<double>&>(net->parameter("fc0.weight")).value();
  train::MetaLossFn<double> loss1 = [&](const data::Batch<double>& b) {
    return losses::mse_loss(net->forward(Var<double>::from(b.x)), b.targets[0].values);
  };
  data::Batch<double> batch;
  batch.x = Tensor<double>::from({0.1, 0.2, -0.3, 0.4, 0.5, -0.6}, Shape{3, 2});
  data::Target<double> y;
  y.name = "y";
  y.kind = data::TargetKind::Value;
  y.values = Tensor<double>::from({1.0, -1.0, 0.5}, Shape{3, 1});
  batch.targets.push_back(y);
  train::MetaTask<double> t{batch, batch};
  const Tensor<double> b_before =
      static_cast<const nn::Parameter<double>&>(net->parameter("fc1.weight")).value();
  train::FOMAML<double> maml(net->parameters(), loss1, train::MetaOptions().meta_lr(0.1));
  maml.step({t, t});
  train::Reptile<double> reptile(net->parameters(), loss1,
                                 train::MetaOptions().meta_lr(0.5).inner_steps(3));
  reptile.step({t});
  train::adapt<double>(net->parameters(), loss1, batch, 4, 0.1);
  const Tensor<double>& now =
      static_cast<const nn::Parameter<double>&>(net->parameter("fc0.weight")).value();
  CHECK(std::memcmp(now.data(), frozen.data(),
                    static_cast<std::size_t>(now.numel()) * sizeof(double)) == 0);
  const Tensor<double>& b_now =
      static_cast<const nn::Parameter<double>&>(net->parameter("fc1.weight")).value();
  bool moved = false;
  for (Index i = 0; i < b_now.numel(); ++i) moved = moved || b_now[i] != b_before[i];
  CHECK(moved);
}

namespace {

// Sine-wave tasks (Finn et al. 2017): amplitude in [0.1, 5], phase in [0, π], x in [−5, 5].
train::MetaTask<float> sine_task(Generator& g, int k) {
  const double amp = g.uniform(0.1, 5.0), phase = g.uniform(0.0, 3.14159265358979);
  train::MetaTask<float> t;
  for (data::Batch<float>* b : {&t.support, &t.query}) {
    b->x = Tensor<float>({k, 1});
    data::Target<float> y;
    y.name = "y";
    y.kind = data::TargetKind::Value;
    y.values = Tensor<float>({k, 1});
    for (int i = 0; i < k; ++i) {
      const double x = g.uniform(-5.0, 5.0);
      b->x[i] = static_cast<float>(x);
      y.values[i] = static_cast<float>(amp * std::sin(x - phase));
    }
    b->targets.push_back(y);
  }
  return t;
}

std::vector<float> run(std::uint64_t seed, bool reptile) {
  auto net = std::make_shared<nn::MLP<float>>(
      nn::MLPOptions({1, 16, 16, 1}).activate_last(false).seed(11));
  train::MetaLossFn<float> loss = [&](const data::Batch<float>& b) {
    return losses::mse_loss(net->forward(Var<float>::from(b.x)), b.targets[0].values);
  };
  train::MetaTaskSampler<float> sampler = [](Generator& g) { return sine_task(g, 5); };
  const auto opts = train::MetaOptions().meta_batch_size(4).inner_steps(2).seed(seed);
  std::unique_ptr<train::MetaLearner<float>> learner;
  if (reptile)
    learner = std::make_unique<train::Reptile<float>>(net->parameters(), loss, opts);
  else
    learner = std::make_unique<train::FOMAML<float>>(net->parameters(), loss, opts);
  optim::Adam<float> meta_opt(net->parameters(), optim::AdamOptions(1e-2));
  learner->set_meta_optimizer(meta_opt);
  for (int i = 0; i < 20; ++i) learner->step(sampler);
  std::vector<float> out;
  for (auto* p : net->parameters())
    out.insert(out.end(), p->value().data(), p->value().data() + p->numel());
  return out;
}

}  // namespace

TEST_CASE("meta-learning is deterministic for a seed", "[meta]") {
  for (bool reptile : {false, true}) {
    const std::vector<float> a = run(5, reptile), b = run(5, reptile), c = run(6, reptile);
    REQUIRE(a.size() == b.size());
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(a.data(), c.data(), a.size() * sizeof(float)) != 0);
  }
}

TEST_CASE("meta-learning options and input are checked", "[meta]") {
  CHECK_THROWS_AS(train::MetaOptions().inner_lr(0), std::invalid_argument);
  CHECK_THROWS_AS(train::MetaOptions().inner_lr(std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(train::MetaOptions().inner_steps(0), std::invalid_argument);
  CHECK_THROWS_AS(train::MetaOptions().meta_lr(-1), std::invalid_argument);
  CHECK_THROWS_AS(train::MetaOptions().meta_batch_size(0), std::invalid_argument);
  Quad q({0.0, 0.0}), other({0.0, 0.0});
  train::FOMAML<double> maml(q.parameters(), quad_loss(q));
  CHECK_THROWS_AS(maml.step(std::vector<train::MetaTask<double>>{}), std::invalid_argument);
  optim::SGD<double> wrong(other.parameters(), optim::SGDOptions(0.1));
  CHECK_THROWS_AS(maml.set_meta_optimizer(wrong), std::invalid_argument);
  CHECK_THROWS_AS(train::FOMAML<double>({}, quad_loss(q)), std::invalid_argument);
  CHECK_THROWS_AS(train::Reptile<double>(q.parameters(), train::MetaLossFn<double>()),
                  std::invalid_argument);
  // A failing task leaves the parameters at their values before the step.
  train::MetaTask<double> bad = task(1, 1, 1, 1);
  bad.support = data::Batch<double>();
  CHECK_THROWS_AS(maml.step({task(1, 1, 2, 2), bad}), std::invalid_argument);
  CHECK(values(q.w) == std::vector<double>{0.0, 0.0});
}

TEST_CASE("FOMAML and Reptile meta-learn a MultiTaskModel through its loss", "[meta]") {
  auto trunk = std::make_shared<nn::MLP<double>>(nn::MLPOptions({1, 8}).seed(4));
  MultiTaskModel<double> model(std::make_shared<sharing::HardSharing<double>>(trunk, 8));
  model.add_task(TaskOptions<double>("y")
                     .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(8, 1).seed(5)))
                     .loss(LossKind::MSE));
  train::MetaLossFn<double> loss = [&](const data::Batch<double>& b) { return model.loss(b); };
  // Linear tasks y = a·x: support and query at different points.
  auto line = [](double a, std::initializer_list<double> xs) {
    data::Batch<double> b;
    const Index n = static_cast<Index>(xs.size());
    b.x = Tensor<double>({n, 1});
    data::Target<double> y;
    y.name = "y";
    y.kind = data::TargetKind::Value;
    y.values = Tensor<double>({n, 1});
    Index i = 0;
    for (double x : xs) {
      b.x[i] = x;
      y.values[i] = a * x;
      ++i;
    }
    b.targets.push_back(y);
    return b;
  };
  std::vector<train::MetaTask<double>> tasks;
  for (double a : {0.5, -1.0, 2.0})
    tasks.push_back({line(a, {-1.0, 0.5, 1.0}), line(a, {-0.5, 0.25, 0.75})});
  const double before = train::evaluate_loss<double>(loss, tasks[0].query);
  train::FOMAML<double> maml(model.parameters(), loss, train::MetaOptions().meta_lr(0.05));
  train::Reptile<double> reptile(model.parameters(), loss,
                                 train::MetaOptions().meta_lr(0.5).inner_steps(3));
  train::ParameterSnapshot<double> start(model.parameters());
  maml.step(tasks);
  reptile.step(tasks);
  bool moved = false;
  for (std::size_t k = 0; k < model.parameters().size(); ++k) {
    const Tensor<double>& v =
        static_cast<const nn::Parameter<double>&>(*model.parameters()[k]).value();
    for (Index i = 0; i < v.numel(); ++i) moved = moved || v[i] != start.value(k)[i];
  }
  CHECK(moved);
  CHECK(std::isfinite(train::evaluate_loss<double>(loss, tasks[0].query)));
  CHECK(std::isfinite(before));
}

}  // namespace test_meta_meta_learning
