// Missing labels and sample weights: a task's loss averages over its labelled samples only,
// gradient methods see the labelled subsets' gradients, a batch without labels for a task
// leaves it out of the step (for every balancing method), and any loss and metric can be used.
#include <catch2/catch.hpp>
#include <cmath>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_model_missing_labels {

using namespace onestone;

namespace {
// 64 samples of 6 features; task "a" (3 outputs, half its labels missing), task "b" (1 output).
data::Dataset<double> make_data(std::uint64_t seed, bool missing) {
  Generator g(seed);
  const Index n = 64;
  Tensor<double> x({n, 6}), a({n, 3}), b({n, 1});
  for (Index k = 0; k < x.numel(); ++k) x[k] = g.normal();
  for (Index k = 0; k < a.numel(); ++k) a[k] = g.normal();
  for (Index k = 0; k < b.numel(); ++k) b[k] = g.normal();
  data::Dataset<double> ds(std::move(x));
  ds.add_regression("a", std::move(a)).add_regression("b", std::move(b));
  if (missing) {
    Mask m({n});
    for (Index i = 0; i < n; ++i) m[i] = g.uniform() < 0.5;
    for (Index i = 0; i < 8; ++i) m[i] = 0;  // the first batch has no label of "a"
    ds.set_labelled("a", m);
  }
  return ds;
}
std::unique_ptr<MultiTaskModel<double>> make_model() {
  auto trunk = std::make_shared<nn::MLP<double>>(nn::MLPOptions({6, 16, 16}).seed(4));
  auto m = std::make_unique<MultiTaskModel<double>>(
      std::make_shared<sharing::HardSharing<double>>(trunk, 16));
  m->add_task(TaskOptions<double>("a")
                  .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(16, 3).seed(5)))
                  .loss(LossKind::MSE));
  m->add_task(TaskOptions<double>("b")
                  .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(16, 1).seed(6)))
                  .loss(LossKind::MSE));
  return m;
}
// Rows of a batch whose label of "a" is present.
Tensor<Index> labelled_rows(const data::Target<double>& t) {
  std::vector<Index> r;
  for (Index i = 0; i < t.size(); ++i)
    if (t.is_labelled(i)) r.push_back(i);
  Tensor<Index> out({static_cast<Index>(r.size())});
  for (std::size_t k = 0; k < r.size(); ++k) out[static_cast<Index>(k)] = r[k];
  return out;
}
}  // namespace

TEST_CASE("50% missing labels: the same trajectory as a loop that drops those terms",
          "[model][missing]") {
  const auto ds = make_data(1, true);
  auto model = make_model();
  auto hand = make_model();  // same seeds: same initial weights
  optim::Adam<double> opt(model->parameters(), optim::AdamOptions(1e-2));
  optim::Adam<double> hopt(hand->parameters(), optim::AdamOptions(1e-2));
  train::TrainStep<double> step(*model, opt);
  data::DataLoader<double> l1(ds, data::LoaderOptions().batch_size(8).shuffle(false));
  data::DataLoader<double> l2(ds, data::LoaderOptions().batch_size(8).shuffle(false));
  data::Batch<double> b1, b2;
  int absent_steps = 0;
  for (int s = 0; s < 24; ++s) {
    if (!l1.next(b1)) {
      l1.start_epoch();
      l1.next(b1);
      l2.start_epoch();
    }
    REQUIRE(l2.next(b2));
    const auto& r = step(b1);
    // The hand-written loop: task a's MSE over its labelled rows only; no term when none.
    autograd::Tape<double>::current().reset();
    hopt.zero_grad();
    const auto& out = hand->forward_tasks(b2.x);
    const data::Target<double>& ta = b2.target("a");
    Var<double> total = losses::mse_loss(out[1], b2.target("b").values);
    const Tensor<Index> rows = labelled_rows(ta);
    double la = std::nan("");
    Tensor<double> ya({rows.numel(), 3});  // outlives backward: the loss views it
    if (rows.numel() > 0) {
      for (Index k = 0; k < rows.numel(); ++k)
        for (Index j = 0; j < 3; ++j) ya.at(k, j) = ta.values.at(rows[k], j);
      Var<double> lsub = losses::mse_loss(index_select(out[0], 0, rows), ya);
      la = lsub.item();
      total = total + lsub;
    } else {
      ++absent_steps;
    }
    const double lt = total.item();
    total.backward();
    hopt.step();
    INFO("step " << s);
    CHECK(r.present[0] == (rows.numel() > 0));
    if (rows.numel() > 0) CHECK(std::abs(r.task_losses[0] - la) <= 1e-12);
    CHECK(std::abs(r.total - lt) <= 1e-12 * std::max(1.0, std::abs(lt)));
    const auto p1 = model->parameters(), p2 = hand->parameters();
    for (std::size_t k = 0; k < p1.size(); ++k)
      CHECK((p1[k]->value().vector() - p2[k]->value().vector()).cwiseAbs().maxCoeff() <= 1e-12);
  }
  CHECK(absent_steps >= 1);
}

TEST_CASE("Jacobian rows are the gradients of the labelled subsets", "[model][missing]") {
  const auto ds = make_data(3, true);
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(16).shuffle(false));
  data::Batch<double> b;
  loader.next(b);
  loader.next(b);  // rows 16..31: some labels of "a" missing
  for (auto src :
       {weighting::GradientSource::Representation, weighting::GradientSource::Parameters}) {
    auto model = make_model();
    model->set_balancer(weighting::make_balancer<double>("sum"), src);
    optim::SGD<double> opt(model->parameters(), optim::SGDOptions(0.0));
    train::TrainStep<double> step(*model, opt);
    step(b);
    const weighting::Jacobian<double> J = step.last_jacobian();
    REQUIRE(J.rows() == 2);
    // By hand: the labelled-subset loss of "a" and the loss of "b", each back-propagated alone.
    auto hand = make_model();
    for (int task = 0; task < 2; ++task) {
      autograd::Tape<double>::current().reset();
      hand->zero_grad();
      const auto& out = hand->forward_tasks(b.x);
      Var<double> z = hand->strategy().shared_representation();
      Var<double> loss;
      Tensor<double> ya;  // outlives backward: the loss views it
      if (task == 0) {
        const Tensor<Index> rows = labelled_rows(b.target("a"));
        ya = Tensor<double>({rows.numel(), 3});
        for (Index k = 0; k < rows.numel(); ++k)
          for (Index j = 0; j < 3; ++j) ya.at(k, j) = b.target("a").values.at(rows[k], j);
        loss = losses::mse_loss(index_select(out[0], 0, rows), ya);
      } else {
        loss = losses::mse_loss(out[1], b.target("b").values);
      }
      weighting::Vector<double> row;
      if (src == weighting::GradientSource::Representation) {
        autograd::Tape<double>::current().backward(loss.id(), nullptr, z.id());
        row = Eigen::Map<const weighting::Vector<double>>(
            autograd::Tape<double>::current().grad_in(z.id()), z.numel());
      } else {
        loss.backward();
        std::vector<double> g;
        for (auto* p : hand->strategy().shared_parameters())
          for (Index k = 0; k < p->numel(); ++k) g.push_back(p->grad()[k]);
        row = Eigen::Map<const weighting::Vector<double>>(g.data(),
                                                          static_cast<Eigen::Index>(g.size()));
      }
      INFO("source " << static_cast<int>(src) << " task " << task);
      CHECK((J.row(task).transpose() - row).cwiseAbs().maxCoeff() <= 1e-13);
    }
  }
}

TEST_CASE("a batch without labels for a task works with every balancing method",
          "[model][missing]") {
  const auto ds = make_data(5, true);  // the first batch of 8 has no label of "a"
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(8).shuffle(false));
  data::Batch<double> first, second;
  loader.next(first);
  loader.next(second);
  REQUIRE(first.target("a").labelled_count() == 0);
  for (const auto& name : weighting::balancer_names()) {
    for (auto src :
         {weighting::GradientSource::Representation, weighting::GradientSource::Parameters}) {
      auto b = weighting::make_balancer<double>(name);
      if (!b->needs_gradients() && src == weighting::GradientSource::Parameters) continue;
      INFO(name << " source " << static_cast<int>(src));
      auto model = make_model();
      model->set_balancer(b, src);
      optim::Adam<double> opt(model->parameters(), optim::AdamOptions(1e-3));
      train::TrainStep<double> step(*model, opt);
      step(second);                 // both tasks
      const auto& r = step(first);  // task a absent
      CHECK_FALSE(r.skipped);
      CHECK_FALSE(r.present[0]);
      CHECK(r.present[1]);
      CHECK(std::isnan(r.task_losses[0]));
      CHECK(b->weights()[0] == 0.0);
      step(second);
      model->end_epoch();
      for (auto* p : model->parameters()) CHECK(p->value().vector().allFinite());
    }
  }
  // A batch where no task is labelled is skipped.
  data::Dataset<double> none = make_data(6, false);
  none.set_labelled("a", Mask({64})).set_labelled("b", Mask({64}));
  data::DataLoader<double> nl(none, data::LoaderOptions().batch_size(8));
  data::Batch<double> nb;
  nl.next(nb);
  auto model = make_model();
  optim::SGD<double> opt(model->parameters(), optim::SGDOptions(0.1));
  train::TrainStep<double> step(*model, opt);
  const auto& r = step(nb);
  CHECK(r.skipped);
  CHECK_THAT(r.skip_reason, Catch::Contains("no task has a labelled sample"));
}

TEST_CASE("sample weights: a loss only on the clicked rows, weighted", "[model][missing]") {
  auto ds = make_data(7, false);
  Tensor<double> w({64});
  for (Index i = 0; i < 64; ++i) w[i] = i % 4 == 0 ? 2.0 : (i % 4 == 1 ? 0.5 : 0.0);
  ds.set_sample_weights("a", w);
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(16).shuffle(false));
  data::Batch<double> b;
  loader.next(b);
  auto model = make_model();
  model->loss(b);
  const Var<double>& la = model->task_losses()[0];
  // By hand: Σₙ wₙ Σⱼ (pₙⱼ − yₙⱼ)² / (3 Σₙ wₙ).
  const auto& out = model->forward_tasks(b.x);
  double num = 0, den = 0;
  for (Index n = 0; n < 16; ++n) {
    for (Index j = 0; j < 3; ++j) {
      const double d = out[0].data()[n * 3 + j] - b.target("a").values.at(n, j);
      num += b.target("a").weight[n] * d * d;
    }
    den += 3 * b.target("a").weight[n];
  }
  CHECK(la.item() == Approx(num / den).epsilon(1e-13));
}

TEST_CASE("a task with a user-written loss and metric trains", "[model][tasks]") {
  // Task "q": the 0.9-quantile (pinball) loss, a user-written loss; metric: the fraction of
  // targets below the prediction, which should approach 0.9.
  Generator g(9);
  const Index n = 512;
  Tensor<double> x({n, 2}), y({n, 1});
  for (Index i = 0; i < n; ++i) {
    x.at(i, 0) = g.uniform(-1, 1);
    x.at(i, 1) = 1.0;
    y[i] = 2.0 * x.at(i, 0) + g.normal();
  }
  data::Dataset<double> ds(std::move(x));
  ds.add_regression("q", std::move(y));
  auto trunk = std::make_shared<nn::Linear<double>>(nn::LinearOptions(2, 4).seed(1));
  MultiTaskModel<double> model(std::make_shared<sharing::HardSharing<double>>(trunk, 4));
  const double tau = 0.9;
  auto pinball = [tau](const Var<double>& p, const data::Target<double>& t) {
    Var<double> r = Var<double>::from(t.values, p.tape()) - p;  // y − p
    return mean(maximum(r * tau, r * (tau - 1.0)));
  };
  auto coverage = metrics::metric_fn<double>(
      "coverage", true, [](const Tensor<double>& p, const data::Target<double>& t) {
        double below = 0;
        for (Index i = 0; i < p.numel(); ++i) below += t.values[i] <= p[i] ? 1.0 : 0.0;
        return std::make_pair(below, static_cast<double>(p.numel()));
      });
  model.add_task(TaskOptions<double>("q")
                     .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(4, 1).seed(2)))
                     .loss(pinball)
                     .metric(coverage));
  optim::Adam<double> opt(model.parameters(), optim::AdamOptions(2e-2));
  train::TrainStep<double> step(model, opt);
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(64).seed(3));
  data::DataLoader<double> eval(ds, data::LoaderOptions().batch_size(512).shuffle(false));
  const double before = model.evaluate(eval).get("q", "loss");
  for (int e = 0; e < 60; ++e)
    for (const auto& b : loader) step(b);
  const auto rep = model.evaluate(eval);
  CHECK(rep.get("q", "loss") < 0.7 * before);
  CHECK(rep.get("q", "coverage") == Approx(0.9).margin(0.04));
  CHECK(rep.task("q").higher_is_better("coverage"));
}

TEST_CASE("gradient accumulation adds each batch's balanced gradient", "[model][missing]") {
  const auto ds = make_data(8, true);
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(16).shuffle(false));
  data::Batch<double> b1, b2;
  loader.next(b1);
  loader.next(b2);
  for (const char* name : {"upgrad", "auto_lambda", "equal"}) {
    for (auto src :
         {weighting::GradientSource::Representation, weighting::GradientSource::Parameters}) {
      INFO(name << " source " << static_cast<int>(src));
      auto acc = make_model(), one = make_model();
      acc->set_balancer(weighting::make_balancer<double>(name), src);
      one->set_balancer(weighting::make_balancer<double>(name), src);
      optim::SGD<double> o1(acc->parameters(), optim::SGDOptions(0.1));
      optim::SGD<double> o2(one->parameters(), optim::SGDOptions(0.1));
      train::TrainStep<double> s1(*acc, o1), s2(*one, o2);
      o1.zero_grad();
      s1.accumulate(b1);
      s1.accumulate(b2);
      // The same two batches one at a time (same balancer state evolution).
      o2.zero_grad();
      s2.accumulate(b1);
      std::vector<Tensor<double>> g1;
      for (auto* p : one->parameters()) g1.push_back(p->grad());
      o2.zero_grad();
      s2.accumulate(b2);
      const auto pa = acc->parameters(), po = one->parameters();
      for (std::size_t k = 0; k < pa.size(); ++k)
        CHECK((pa[k]->grad().vector() - g1[k].vector() - po[k]->grad().vector())
                  .cwiseAbs()
                  .maxCoeff() <= 1e-12);
    }
  }
}

}  // namespace test_model_missing_labels
