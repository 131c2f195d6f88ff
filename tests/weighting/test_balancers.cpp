#include <catch2/catch.hpp>

#include "onestone/onestone.hpp"
#include "onestone/weighting/registry.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_balancers {

using namespace onestone;
using weighting::GradientSource;

namespace {
data::Dataset<double> toy_data(int tasks, std::uint64_t seed) {
  return data::make_mmoe_synthetic<double>(data::SyntheticOptions()
                                               .samples(400)
                                               .dim(8)
                                               .num_tasks(tasks)
                                               .correlation(0.3)
                                               .sine_terms(2)
                                               .seed(seed));
}

std::unique_ptr<MultiTaskModel<double>> toy_model(int tasks, const std::string& strategy = "hard") {
  manual_seed(21);
  std::shared_ptr<sharing::SharingStrategy<double>> s;
  if (strategy == "hard")
    s = std::make_shared<sharing::HardSharing<double>>(
        std::make_shared<nn::MLP<double>>(nn::MLPOptions({8, 16, 16})), 16);
  else
    s = std::make_shared<sharing::MMoE<double>>(sharing::MMoEOptions(tasks, 8, {16}, 3));
  auto m = std::make_unique<MultiTaskModel<double>>(s);
  for (int t = 0; t < tasks; ++t)
    m->add_task(TaskOptions<double>("task" + std::to_string(t))
                    .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(16, 1)))
                    .loss(LossKind::MSE));
  return m;
}

std::vector<Tensor<double>> grads_after_step(MultiTaskModel<double>& m,
                                             const data::Batch<double>& b) {
  optim::SGD<double> opt(m.parameters(), optim::SGDOptions(0.0));
  train::TrainStep<double>(m, opt)(b);
  std::vector<Tensor<double>> g;
  for (auto* p : m.parameters()) g.push_back(p->grad());
  return g;
}
}  // namespace

TEST_CASE("equal weighting through per-task gradients equals plain backward",
          "[weighting][integration]") {
  auto ds = toy_data(3, 1);
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(32).shuffle(false));
  data::Batch<double> b;
  loader.next(b);
  for (const std::string strategy : {"hard", "mmoe"}) {
    auto plain = toy_model(3, strategy);
    auto g_plain = grads_after_step(*plain, b);
    for (auto src : {GradientSource::Representation, GradientSource::Parameters}) {
      if (strategy == "mmoe" && src == GradientSource::Representation) continue;
      auto m = toy_model(3, strategy);
      m->set_balancer(std::make_shared<weighting::Sum<double>>(), src);
      auto g = grads_after_step(*m, b);
      REQUIRE(g.size() == g_plain.size());
      for (std::size_t k = 0; k < g.size(); ++k) {
        INFO(strategy << " source " << static_cast<int>(src) << " parameter " << k);
        CHECK((g[k].vector() - g_plain[k].vector()).cwiseAbs().maxCoeff() < 1e-10);
      }
    }
  }
  auto m = toy_model(2, "mmoe");
  CHECK_THROWS_WITH(
      [&] {
        m->set_balancer(weighting::make_balancer<double>("mgda"), GradientSource::Representation);
        optim::SGD<double> opt(m->parameters(), optim::SGDOptions(0.1));
        auto ds2 = toy_data(2, 1);
        data::DataLoader<double> l2(ds2, data::LoaderOptions().batch_size(32));
        data::Batch<double> b2;
        l2.next(b2);
        train::TrainStep<double>(*m, opt)(b2);
      }(),
      Catch::Contains("no shared representation"));
}

TEST_CASE("every balancing method trains a 2-task model", "[weighting][training]") {
  auto ds = toy_data(2, 2);
  for (const auto& name : weighting::balancer_names()) {
    for (auto src : {GradientSource::Representation, GradientSource::Parameters}) {
      auto b = weighting::make_balancer<double>(name, 3);
      if (!b->needs_gradients() && src == GradientSource::Parameters) continue;
      auto m = toy_model(2);
      m->set_balancer(b, src);
      optim::Adam<double> opt(m->parameters(), optim::AdamOptions(5e-3));
      data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(32).seed(1));
      data::DataLoader<double> eval(ds, data::LoaderOptions().batch_size(400).shuffle(false));
      auto before = m->evaluate(eval);
      train::TrainStep<double> step(*m, opt);
      for (int epoch = 0; epoch < 10; ++epoch) {
        for (const auto& batch : loader) step(batch);
        m->end_epoch();
      }
      auto after = m->evaluate(eval);
      INFO(name << " (source " << static_cast<int>(src) << "): mean mse " << before.mean("mse")
                << " -> " << after.mean("mse") << ", weights " << b->weights().transpose());
      CHECK(after.mean("mse") < 0.6 * before.mean("mse"));
      CHECK(b->weights().size() == 2);
      CHECK(b->weights().allFinite());
    }
  }
}

TEST_CASE("loss weighting methods: hand-derived values", "[weighting]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  auto L = [](double v) { return Var<double>::variable(Tensor<double>::from({v}, {1})); };
  std::vector<Var<double>> losses = {L(2.0), L(0.5)};

  SECTION("static: Σ λᵢLᵢ with the given weights, ∂L/∂Lᵢ = λᵢ") {
    auto st = weighting::make_balancer<double>("static", "weights=0.25;3");
    st->reset(2);
    auto total = st->combine_losses(losses, {0, 1});
    CHECK(total.item() == Approx(0.25 * 2.0 + 3 * 0.5).epsilon(1e-15));
    total.backward();
    CHECK(losses[0].grad()[0] == Approx(0.25));
    CHECK(losses[1].grad()[0] == Approx(3.0));
  }
  SECTION("uncertainty: Σ ½e^{-s}L + ½s (the paper's regression term), stationary at s = log L") {
    weighting::UncertaintyWeighting<double> u;
    u.reset(2);
    u.parameter("log_var").value()[0] = std::log(2.0);
    auto total = u.combine_losses(losses);
    CHECK(total.item() == Approx(0.5 + 0.5 * std::log(2.0) + 0.25));
    total.backward();
    CHECK(u.parameter("log_var").grad()[0] == Approx(0.0).margin(1e-12));  // ½(-e^{-s}L + 1) = 0
    CHECK(u.parameter("log_var").grad()[1] == Approx(0.25));               // ½(-0.5 + 1)
    CHECK(losses[0].grad()[0] == Approx(0.25));
    CHECK(u.weights()[0] == Approx(0.25));
  }
  SECTION("uncertainty, form=common: Σ e^{-s}L + s, stationary at s = log L") {
    weighting::UncertaintyOptions o;
    o.common = true;
    weighting::UncertaintyWeighting<double> u(o);
    u.reset(2);
    u.parameter("log_var").value()[0] = std::log(2.0);
    auto total = u.combine_losses(losses);
    CHECK(total.item() == Approx(1.0 + std::log(2.0) + 0.5));
    total.backward();
    CHECK(u.parameter("log_var").grad()[0] == Approx(0.0).margin(1e-12));  // -e^{-s}L + 1 = 0
    CHECK(u.parameter("log_var").grad()[1] == Approx(0.5));                // -0.5 + 1
    CHECK(losses[0].grad()[0] == Approx(0.5));
  }
  SECTION("IMTL-L: Σ e^{s}L − s") {
    weighting::IMTLL<double> u;
    u.reset(2);
    auto total = u.combine_losses(losses);
    CHECK(total.item() == Approx(2.5));
    total.backward();
    CHECK(u.parameter("log_var").grad()[0] == Approx(1.0));   // e^{0}·2 − 1
    CHECK(u.parameter("log_var").grad()[1] == Approx(-0.5));  // 0.5 − 1
  }
  SECTION("GLS: geometric mean, gradient L/(T·Lᵢ)") {
    weighting::GLS<double> g;
    g.reset(2);
    auto total = g.combine_losses(losses);
    CHECK(total.item() == Approx(1.0));
    total.backward();
    CHECK(losses[0].grad()[0] == Approx(1.0 / (2 * 2.0)));
    CHECK(losses[1].grad()[0] == Approx(1.0 / (2 * 0.5)));
  }
  SECTION("STCH approaches the weighted maximum as mu falls") {
    weighting::STCH<double> s(1e-3, {1.0, 1.0}, 0.0);
    s.reset(2);
    // ideal point starts at the first losses themselves, so first call gives μ log 2;
    auto first = s.combine_losses(losses);
    CHECK(first.item() == Approx(1e-3 * std::log(2.0)));
    std::vector<Var<double>> later = {L(3.0), L(0.7)};
    auto second = s.combine_losses(later);
    CHECK(second.item() == Approx(1.0).epsilon(1e-3));  // max(3 − 2, 0.7 − 0.5)
    CHECK(s.weights()[0] == Approx(1.0).epsilon(1e-6));
  }
  SECTION("RLW weights are a fresh softmax of normals") {
    weighting::RLW<double> r(5);
    r.reset(2);
    r.combine_losses(losses);
    auto w1 = r.weights();
    r.combine_losses(losses);
    CHECK(r.weights().sum() == Approx(1.0));
    CHECK((r.weights().array() > 0).all());
    CHECK(r.weights() != w1);
  }
  SECTION("FAMO: wᵢ = zᵢ/(c·Lᵢ); logits move towards the task that improved least") {
    weighting::FAMO<double> f;
    f.reset(2);
    f.combine_losses(losses);
    // z = (½, ½), c = ½/2 + ½/0.5 = 1.25 -> w = (0.2, 0.8)
    CHECK(f.weights()[0] == Approx(0.2));
    CHECK(f.weights()[1] == Approx(0.8));
    weighting::Vector<double> after(2);
    after << 1.0, 0.49;  // task 0 halved, task 1 barely moved
    f.after_step(after);
    CHECK(f.logits()[1] > f.logits()[0]);
  }
  SECTION("DWA: weights from the last two epoch means, T·softmax(r/2)") {
    weighting::DWA<double> d(2.0);
    d.reset(2);
    d.combine_losses(losses);
    d.end_epoch();  // epoch means (2, 0.5)
    std::vector<Var<double>> e2 = {L(1.0), L(0.5)};
    d.combine_losses(e2);
    CHECK(d.weights()[0] == 1.0);  // the first two epochs weigh 1
    d.end_epoch();                 // r = (0.5, 1)
    d.combine_losses(e2);
    const double a = std::exp(0.25), b = std::exp(0.5);
    CHECK(d.weights()[0] == Approx(2 * a / (a + b)));
    CHECK(d.weights()[1] == Approx(2 * b / (a + b)));
  }
}

TEST_CASE("gradient-based balancers: GradNorm and DB-MTL on known Jacobians", "[weighting]") {
  weighting::Jacobian<double> J(2, 2);
  J << 3, 0, 0, 1;
  weighting::Vector<double> losses(2), d;
  losses << 1.0, 1.0;
  SECTION("GradNorm starts equal, then lowers the task with the larger gradient") {
    weighting::GradNorm<double> g(1.5, 0.01);
    g.reset(2);
    g.combine_gradients(J, losses, d);
    CHECK(d[0] == Approx(3.0));
    CHECK(d[1] == Approx(1.0));
    CHECK(g.weights().sum() == Approx(2.0));  // this step used w = (1, 1)
    CHECK(g.learned_weights().sum() == Approx(2.0));
    CHECK(g.learned_weights()[0] < g.learned_weights()[1]);  // the next step's
  }
  SECTION("DB-MTL rescales log-loss gradients to the largest norm") {
    weighting::DBMTL<double> db;
    db.reset(2);
    losses << 2.0, 0.5;  // log-loss gradients (1.5, 0) and (0, 2)
    db.combine_gradients(J, losses, d);
    CHECK(d[0] == Approx(2.0));  // (2/1.5)·1.5
    CHECK(d[1] == Approx(2.0));
  }
}

TEST_CASE("a failing combiner falls back to the previous weights instead of stopping training",
          "[weighting]") {
  weighting::NashMTL<double> b;
  b.reset(2);
  weighting::Jacobian<double> ok(2, 2), opposed(2, 2);
  ok << 1, 0, 0, 2;
  opposed << 1, 0, -1, 0;  // no α > 0 solves Gα = 1/α
  weighting::Vector<double> losses = weighting::Vector<double>::Ones(2), d;
  b.combine_gradients(ok, losses, d);
  const weighting::Vector<double> w = b.weights();
  CHECK(w[0] == Approx(1.0));
  CHECK(w[1] == Approx(0.5));
  b.combine_gradients(opposed, losses, d);
  CHECK(b.fallbacks() == 1);
  CHECK_FALSE(b.last_error().empty());
  CHECK(d[0] == Approx(w[0] - w[1]));
}

}  // namespace test_weighting_balancers
