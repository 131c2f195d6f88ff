#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <vector>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_optim_optimizers {

using namespace onestone;

namespace {
// One parameter with value w and a fixed gradient g each step.
struct One {
  nn::Parameter<double> p;
  explicit One(double w) : p(Tensor<double>::from({w}, {1})) {}
  void grad(double g) { p.grad()[0] = g; }
  double w() { return p.value()[0]; }
};
}  // namespace

TEST_CASE("SGD first steps match hand computation", "[optim]") {
  One a(1.0);
  optim::SGD<double> plain({&a.p}, optim::SGDOptions(0.1).weight_decay(0.5));
  a.grad(2.0);
  plain.step();
  CHECK(a.w() == Approx(1.0 - 0.1 * (2.0 + 0.5)));

  One b(1.0);
  optim::SGD<double> mom({&b.p}, optim::SGDOptions(0.1).momentum(0.9));
  b.grad(2.0);
  mom.step();  // buf = 2
  CHECK(b.w() == Approx(0.8));
  b.grad(1.0);
  mom.step();  // buf = 0.9*2 + 1 = 2.8
  CHECK(b.w() == Approx(0.8 - 0.28));

  One c(1.0);
  optim::SGD<double> nes({&c.p}, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
  c.grad(2.0);
  nes.step();  // buf = 2, d = 2 + 0.9*2 = 3.8
  CHECK(c.w() == Approx(1.0 - 0.38));
  c.grad(1.0);
  nes.step();  // buf = 2.8, d = 1 + 2.52 = 3.52
  CHECK(c.w() == Approx(0.62 - 0.352));
  CHECK_THROWS_AS(optim::SGD<double>({&c.p}, optim::SGDOptions(0.1).nesterov(true)),
                  std::invalid_argument);
}

TEST_CASE("Adam and AdamW first steps match hand computation", "[optim]") {
  One a(1.0);
  optim::Adam<double> adam({&a.p}, optim::AdamOptions(0.1));
  a.grad(2.0);
  adam.step();  // m̂ = g, v̂ = g² -> step lr·g/(|g|+eps) = 0.1
  CHECK(a.w() == Approx(0.9).epsilon(1e-9));
  a.grad(-1.0);
  adam.step();
  // m = 0.9*0.2 + 0.1*(-1) = 0.08; v = 0.999*0.004 + 0.001*1 = 0.004996
  const double m = 0.08, v = 0.004996, bc1 = 1 - 0.81, bc2 = 1 - 0.999 * 0.999;
  CHECK(a.w() == Approx(0.9 - 0.1 / bc1 * m / (std::sqrt(v) / std::sqrt(bc2) + 1e-8)));

  One b(2.0);
  optim::AdamW<double> adamw({&b.p}, optim::AdamOptions(0.1).weight_decay(0.1));
  b.grad(0.5);
  adamw.step();  // w = 2·(1 − 0.01) − 0.1
  CHECK(b.w() == Approx(2.0 * 0.99 - 0.1));

  One c(2.0);
  optim::Adam<double> adam_l2({&c.p}, optim::AdamOptions(0.1).weight_decay(0.1));
  c.grad(0.5);
  adam_l2.step();  // g' = 0.7 -> step 0.1
  CHECK(c.w() == Approx(1.9));
  CHECK(adam.state_tensors().size() == 2);
}

TEST_CASE("gradient clipping by global norm", "[optim]") {
  nn::Parameter<double> p1(Tensor<double>({2})), p2(Tensor<double>({1}));
  p1.grad()[0] = 3;
  p1.grad()[1] = 0;
  p2.grad()[0] = 4;
  const double n = optim::clip_grad_norm_<double>({&p1, &p2}, 1.0);
  CHECK(n == Approx(5.0));
  CHECK(p1.grad()[0] == Approx(0.6).epsilon(1e-5));
  CHECK(p2.grad()[0] == Approx(0.8).epsilon(1e-5));
  CHECK(optim::clip_grad_norm_<double>({&p1, &p2}, 10.0) == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("learning-rate schedules", "[optim]") {
  One a(0.0);
  optim::SGD<double> opt({&a.p}, optim::SGDOptions(1.0));
  optim::StepLR<double> step(opt, 2, 0.5);
  step.step();
  CHECK(opt.lr() == 1.0);
  step.step();
  CHECK(opt.lr() == 0.5);
  step.step();
  step.step();
  CHECK(opt.lr() == 0.25);

  opt.set_lr(1.0);
  optim::CosineAnnealingLR<double> cos(opt, 10, 0.0);
  CHECK(cos.lr_at(0) == Approx(1.0));
  CHECK(cos.lr_at(5) == Approx(0.5));
  CHECK(cos.lr_at(10) == Approx(0.0).margin(1e-12));
  CHECK(cos.lr_at(20) == Approx(0.0).margin(1e-12));

  opt.set_lr(1.0);
  auto after = std::make_shared<optim::CosineAnnealingLR<double>>(opt, 10);
  optim::LinearWarmup<double> warm(opt, 4, 0.0, after);
  CHECK(opt.lr() == 0.0);
  warm.step();
  CHECK(opt.lr() == Approx(0.25));
  for (int i = 0; i < 3; ++i) warm.step();
  CHECK(opt.lr() == Approx(1.0));
  for (int i = 0; i < 5; ++i) warm.step();
  CHECK(opt.lr() == Approx(0.5));
}

TEST_CASE("Adam split across threads gives the same bits as on one thread", "[optim]") {
  // Three parameters (70k + 5 + 30k scalars: above the threshold for splitting), 5 steps.
  auto run = [](int threads) {
    set_num_threads(threads);
    std::vector<std::unique_ptr<nn::Parameter<float>>> ps;
    for (Index n : {70000, 5, 30000}) {
      Tensor<float> v({n});
      for (Index i = 0; i < n; ++i) v[i] = std::sin(0.001f * static_cast<float>(i + n));
      ps.push_back(std::make_unique<nn::Parameter<float>>(std::move(v)));
    }
    std::vector<nn::Parameter<float>*> raw;
    for (auto& p : ps) raw.push_back(p.get());
    optim::AdamW<float> opt(raw, optim::AdamOptions(1e-2).weight_decay(0.1));
    for (int s = 0; s < 5; ++s) {
      for (auto& p : ps)
        for (Index i = 0; i < p->numel(); ++i)
          p->grad()[i] = std::cos(0.37f * static_cast<float>(i + s)) * p->value()[i];
      opt.step();
    }
    std::vector<float> out;
    for (auto& p : ps) out.insert(out.end(), p->value().data(), p->value().data() + p->numel());
    set_num_threads(1);
    return out;
  };
  const auto one = run(1), two = run(2);
  REQUIRE(one.size() == two.size());
  CHECK(one == two);
}

}  // namespace test_optim_optimizers
