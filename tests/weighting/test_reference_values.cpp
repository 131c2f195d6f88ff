// Each method, and each option that reproduces another library's convention, against a value
// published by that library (TorchJD's tests/unit/aggregation/test_values.py on
// J = [[-4, 1, 1], [6, 1, 1]]), by the authors' code, or derived by hand. Every expected
// direction differs from equal weighting's (2, 2, 2), so a method that fell back to the plain
// sum would fail here.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "onestone/weighting/weighting.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_reference_values {

using namespace onestone::weighting;
using wtest::Jac;
using wtest::torchjd_J;
using wtest::Vec;

namespace {
struct Case {
  std::string method, options, source;
  std::vector<double> d;
  double tol;
};
}  // namespace

TEST_CASE("reference values: paper, TorchJD and LibMTL conventions", "[weighting][reference]") {
  const std::vector<Case> cases = {
      {"sum", "", "TorchJD Sum", {2, 2, 2}, 1e-12},
      {"mean", "", "TorchJD Mean", {1, 1, 1}, 1e-12},
      {"constant", "weights=1;2", "TorchJD Constant([1, 2])", {8, 3, 3}, 1e-12},
      {"mgda", "", "TorchJD MGDA; hand: gamma = 60/100", {0, 1, 1}, 1e-6},
      {"mgda_l2", "", "Sener & Koltun's code, l2 (hand)", {1, 1, 1}, 1e-6},
      {"mgda_l2",
       "combine=normalized",
       "LibMTL mgda_gn=l2 (parameter mode)",
       {0.0153, 0.199, 0.199},
       1e-4},
      {"pcgrad", "", "TorchJD PCGrad / the paper (sum)", {0.5848, 3.8012, 3.8012}, 1e-4},
      {"pcgrad",
       "aggregate=mean",
       "the mean variant of some ports",
       {0.2924, 1.9006, 1.9006},
       1e-4},
      {"gradvac", "", "TorchJD GradVac, first call (= PCGrad)", {0.5848, 3.8012, 3.8012}, 1e-4},
      {"imtl_g", "", "TorchJD IMTLG", {0.0767, 1, 1}, 1e-4},
      {"aligned_mtl", "", "the authors' code and LibMTL (sum)", {0.4266, 1.9347, 1.9347}, 1e-4},
      {"aligned_mtl",
       "aggregate=mean",
       "TorchJD AlignedMTL (mean)",
       {0.2133, 0.9673, 0.9673},
       1e-4},
      {"aligned_mtl",
       "scale=rmse",
       "the authors' rmse scale (sum)",
       {1.1528, 5.2283, 5.2283},
       1e-4},
      {"config", "", "TorchJD ConFIG", {0.1588, 2.0706, 2.0706}, 1e-4},
      {"dualproj",
       "",
       "exact projection (hand: 5/9, 10/9, 10/9)",
       {5.0 / 9, 10.0 / 9, 10.0 / 9},
       1e-9},
      {"dualproj", "reg_eps=1e-4", "TorchJD / LibMTL DualProj", {0.5563, 1.1109, 1.1109}, 2e-4},
      {"upgrad",
       "",
       "exact projections (= PCGrad-mean for 2 tasks)",
       {0.2924, 1.9006, 1.9006},
       1e-4},
      {"upgrad", "reg_eps=1e-4", "TorchJD / LibMTL UPGrad", {0.2929, 1.9004, 1.9004}, 2e-4},
      {"cagrad", "rescale=none", "TorchJD CAGrad(c=0.5)", {0.1835, 1.2041, 1.2041}, 1e-4},
      {"cagrad", "", "the authors' code / LibMTL (rescale 1)", {0.1468, 0.9633, 0.9633}, 1e-4},
      {"cagrad", "rescale=linear", "the authors' rescale 2", {0.1223, 0.8027, 0.8027}, 1e-4},
      {"cagrad",
       "c=0.4,rescale=none",
       "c = 0.4 (the authors' experiments)",
       {0.3468, 1.1633, 1.1633},
       1e-4},
      {"cagrad", "c=0.4", "c = 0.4, rescale 1", {0.2990, 1.0028, 1.0028}, 1e-4},
      {"nash_mtl", "", "the paper's equations (no cap)", {0.0766, 0.9985, 0.9985}, 1e-4},
      {"nash_mtl",
       "max_norm=1",
       "TorchJD NashMTL / the reference's clipping",
       {0.0542, 0.7061, 0.7061},
       1e-4},
      {"fairgrad", "", "TorchJD FairGrad(alpha=1)", {0.0766, 0.9985, 0.9985}, 1e-4},
      {"fairgrad",
       "alpha=2",
       "alpha = 2 (the authors' experiments)",
       {0.0313, 0.7908, 0.7908},
       1e-4},
      {"fairgrad",
       "alpha=2,max_norm=1",
       "the authors' code: x T, then clip to norm 1",
       {0.0280, 0.7068, 0.7068},
       1e-4},
      {"fairgrad", "alpha=0.5", "alpha = 0.5", {0.1810, 1.2682, 1.2682}, 1e-4},
  };
  const Jac J = torchjd_J();
  for (const auto& c : cases) {
    INFO(c.method << " (" << c.options << "): " << c.source);
    auto b = make_balancer<double>(c.method, c.options);
    b->reset(2);
    Vec d;
    b->combine_gradients(J, d);
    REQUIRE(d.size() == 3);
    for (int k = 0; k < 3; ++k)
      CHECK(d[k] == Approx(c.d[static_cast<std::size_t>(k)]).margin(c.tol));
    CHECK(b->fallbacks() == 0);
  }
}

TEST_CASE("reference values of the loss normalisations of MGDA", "[weighting][reference]") {
  // Losses (2, 0.5): simplex weights by hand / the survey of Sener & Koltun's normalisations.
  const Jac J = torchjd_J();
  Vec L(2), d;
  L << 2.0, 0.5;
  struct C {
    const char* m;
    const char* o;
    double d0;
  };
  for (const C& c : {C{"mgda_loss", "", -2.6783}, C{"mgda_loss+", "", -2.1606},
                     C{"mgda_loss", "combine=normalized", -0.1496},
                     C{"mgda_loss+", "combine=normalized", -0.0266}}) {
    INFO(c.m << " " << c.o);
    auto b = make_balancer<double>(c.m, c.o);
    b->reset(2);
    b->combine_gradients(J, L, d);
    CHECK(d[0] == Approx(c.d0).margin(1e-4));
  }
}

TEST_CASE("GradVac: the EMA convention of TorchJD and LibMTL (beta = 0.5) by steps",
          "[weighting][reference]") {
  const Jac J = torchjd_J();
  Vec d;
  auto half = make_balancer<double>("gradvac", "beta=0.5");
  half->reset(2);
  const double d1[] = {0.5848, 1.0065, 1.3245};
  for (double e : d1) {
    half->combine_gradients(J, d);
    CHECK(d[0] == Approx(e).margin(1e-4));
  }
  CHECK(static_cast<GradVac<double>&>(*half).targets()(0, 1) == Approx(-0.73604).margin(1e-5));
  auto paper = make_balancer<double>("gradvac");  // beta = 0.01
  paper->reset(2);
  for (double e : {0.5848, 0.5924, 0.6000}) {
    paper->combine_gradients(J, d);
    CHECK(d[0] == Approx(e).margin(1e-4));
  }
}

TEST_CASE("MoDo and SDMGrad: hand-derived steps and fixed points", "[weighting][reference]") {
  const Jac J = torchjd_J();
  Vec d;
  SECTION("MoDo: one projected step from 1/2, cross-Gram = G") {
    auto m = make_balancer<double>("modo", "gamma=0.01,rho=0");
    m->reset(2);
    m->combine_gradients(J, d);
    CHECK(m->weights()[0] == Approx(0.55));
    CHECK(m->weights()[1] == Approx(0.45));
    CHECK(d[0] == Approx(0.5));
    auto lib = make_balancer<double>("modo", "gamma=1e-3,rho=0.1");  // LibMTL's gamma
    lib->reset(2);
    lib->combine_gradients(J, d);
    CHECK(lib->weights()[0] == Approx(0.505).margin(1e-9));
    // With a fixed Jacobian and a small step, MoDo's weights approach MGDA's (0.6, 0.4).
    for (int k = 0; k < 4000; ++k) m->combine_gradients(J, d);
    CHECK(m->weights()[0] == Approx(0.6).margin(1e-3));
  }
  SECTION("SDMGrad: MGDA on the shrunk simplex (converged inner loop)") {
    auto s = make_balancer<double>("sdmgrad", "lr=0.05,niter=4000");
    s->reset(2);
    s->combine_gradients(J, d);  // the bound 0.3/(1.3*2) does not bind: MGDA's d
    CHECK(d[0] == Approx(0.0).margin(1e-6));
    CHECK(d[1] == Approx(1.0).margin(1e-6));
    Jac D = Jac::Zero(2, 2);
    D(0, 0) = 1;
    D(1, 1) = 10;
    auto s2 = make_balancer<double>("sdmgrad", "lr=0.005,niter=20000");
    s2->reset(2);
    s2->combine_gradients(D, d);  // MGDA would give c2 = 1/101; the bound 0.1154 binds
    CHECK(d[0] == Approx(0.8846).margin(1e-4));
    CHECK(d[1] == Approx(1.1538).margin(1e-4));
  }
}

TEST_CASE("ExcessMTL: the authors' first two steps", "[weighting][reference]") {
  Jac J1(2, 2), J2(2, 2);
  J1 << 2, 0, 1, 0;
  J2 << 1, 0, 2, 0;
  Vec d;
  for (auto [eta, w0, w1] :
       {std::tuple<const char*, double, double>{"eta=1e-2,aggregate=sum", 0.992174, 1.007826},
        std::tuple<const char*, double, double>{"eta=1,aggregate=sum", 0.34579, 1.65421}}) {
    auto e = make_balancer<double>("excess_mtl", eta);
    e->reset(2);
    e->combine_gradients(J1, d);  // baseline e0 = (2, 1), weights unchanged
    CHECK(e->weights()[0] == 1.0);
    CHECK(e->weights()[1] == 1.0);
    e->combine_gradients(J2, d);
    CHECK(e->weights()[0] == Approx(w0).margin(1e-5));
    CHECK(e->weights()[1] == Approx(w1).margin(1e-5));
    CHECK(e->weights().sum() == Approx(2.0));
  }
}

TEST_CASE("GradDrop: per-coordinate sign choice on the TorchJD Jacobian",
          "[weighting][reference]") {
  const Jac J = torchjd_J();
  Vec d;
  int six = 0;
  for (int s = 0; s < 400; ++s) {
    auto g = make_balancer<double>("graddrop", "seed=" + std::to_string(s + 1));
    g->combine_gradients(J, d);
    CHECK(d[1] == 2.0);  // one sign only: always kept
    CHECK(d[2] == 2.0);
    CHECK((d[0] == 6.0 || d[0] == -4.0));
    six += d[0] == 6.0;
  }
  CHECK(six / 400.0 == Approx(0.6).margin(0.07));  // purity P = (1 + 2/10)/2
}

TEST_CASE("Auto-Lambda: the meta-gradient raises the weight of the helpful task",
          "[weighting][reference]") {
  // Quadratic losses L1 = ½|θ − (1, 0)|², L2 = ½|θ − (0, 1)|² at θ = 0, λ = 0.1, lr α = 0.1,
  // primary task 1: θ' = (0.01, 0.01), ∇L1(θ') = (−0.99, 0.01); meta-gradient
  // −α ∇Lᵢ(θ)·∇L1(θ') = (−0.099, 0.001) (the survey's finite difference agrees to 1e-16).
  AutoLambda<double> al(0.1, 1e-2, {0});
  al.reset(2);
  Vec g(2);
  g << -0.099, 0.001;
  StepInfo<double> info;
  info.rows = 2;
  al.meta_step(g, info);
  CHECK(al.lambda()[0] > 0.1);  // Adam's first step is lr·sign: ±0.01
  CHECK(al.lambda()[0] == Approx(0.11).margin(1e-6));
  CHECK(al.lambda()[1] == Approx(0.09).margin(1e-6));
  CHECK(al.is_primary(0));
  CHECK_FALSE(al.is_primary(1));
}

}  // namespace test_weighting_reference_values
