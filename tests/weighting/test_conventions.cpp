// The convention cells of docs/weighting.md ("## Conventions"): each option string that selects
// a library's or the authors' convention, checked against a value that library publishes in its
// own tests (TorchJD: tests/unit/aggregation and tests/unit/scalarization) or one derived by hand
// from that library's formulas (LibMTL: LibMTL/weighting/*.py; the authors' code). Random methods
// are checked by their rule and distribution. TorchJD's test Jacobian J = [[-4, 1, 1], [6, 1, 1]]
// (G = [[18, -22], [-22, 38]]) and the losses (2, 0.5) serve where a case is not given.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_conventions {

using namespace onestone;
using namespace onestone::weighting;
using wtest::Jac;
using wtest::Mat;
using wtest::torchjd_J;
using wtest::Vec;

namespace {
Vec two_losses() {
  Vec L(2);
  L << 2.0, 0.5;
  return L;
}
void check_vec(const Vec& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == static_cast<Eigen::Index>(want.size()));
  for (std::size_t k = 0; k < want.size(); ++k)
    CHECK(got[static_cast<Eigen::Index>(k)] == Approx(want[k]).margin(tol));
}
// The weights a Gramian method gives for a matrix (G, or a cross-Gram matrix), as TorchJD's
// Weighting objects are called.
Vec weigh(Balancer<double>& b, const Mat& A) {
  auto& g = dynamic_cast<GramianWeighting<double>&>(b);
  StepInfo<double> info;
  info.rows = A.rows();
  Vec w;
  g.weigh_gramian(A, info, w);
  return w;
}
Var<double> scalar(double v) { return Var<double>::variable(Tensor<double>::from({v}, {1})); }
std::vector<Var<double>> scalars(const std::vector<double>& v) {
  std::vector<Var<double>> out;
  for (double x : v) out.push_back(scalar(x));
  return out;
}
}  // namespace

TEST_CASE("conventions: equal weighting, PCGrad and Nash-MTL of LibMTL",
          "[weighting][conventions]") {
  const Jac J = torchjd_J();
  Vec d;
  SECTION("LibMTL EW sums the losses with weight 1: equal (and sum on gradients)") {
    auto& tape = autograd::Tape<double>::current();
    tape.reset();
    auto L = scalars({2.0, 0.5});
    auto eq = make_balancer<double>("equal");
    eq->reset(2);
    auto total = eq->combine_losses(L);
    CHECK(total.item() == Approx(2.5));
    check_vec(eq->weights(), {1, 1}, 0);
    auto s = make_balancer<double>("sum");
    s->combine_gradients(J, d);
    check_vec(d, {2, 2, 2}, 1e-12);
  }
  SECTION("LibMTL PCGrad: the sum of the projections; two tasks make the order irrelevant") {
    // g1·g2 = −22: pc1 = g1 + 22/38 g2, pc2 = g2 + 22/18 g1; LibMTL's returned batch_weight
    // (1 + 22/18, 1 + 22/38) is TorchJD's PCGradWeighting value (2.2222, 1.5789).
    for (int seed = 1; seed <= 4; ++seed) {
      auto p = make_balancer<double>("pcgrad", "seed=" + std::to_string(seed));
      p->combine_gradients(J, d);
      check_vec(d,
                {-4 + 6 * 22.0 / 38 + 6 - 4 * 22.0 / 18, 2 + 22.0 / 38 + 22.0 / 18,
                 2 + 22.0 / 38 + 22.0 / 18},
                1e-9);
      check_vec(p->weights(), {1 + 22.0 / 18, 1 + 22.0 / 38}, 1e-9);
    }
  }
  SECTION("LibMTL / TorchJD Nash-MTL: max_norm 1, update_weights_every reuses the weights") {
    // Step 1: TorchJD's published value. Step 2 (update_every=2): the step-1 solution of
    // Gα = 1/α on G, α = (0.59146, 0.40707), reused on J2 = [[1,0,0],[0,2,0]], then clipped:
    // J2ᵀα = (0.59146, 0.81414, 0) has norm 1.0063 > 1.
    auto n = make_balancer<double>("nash_mtl", "max_norm=1,update_every=2");
    n->reset(2);
    n->combine_gradients(J, d);
    check_vec(d, {0.0542, 0.7061, 0.7061}, 1e-4);
    Jac J2 = Jac::Zero(2, 3);
    J2(0, 0) = 1;
    J2(1, 1) = 2;
    n->combine_gradients(J2, d);
    check_vec(d, {0.587754, 0.809040, 0.0}, 1e-5);
    CHECK(d.norm() == Approx(1.0));
  }
}

TEST_CASE("conventions: FairGrad of the authors' code, TorchJD and LibMTL",
          "[weighting][conventions]") {
  const Jac J = torchjd_J();
  Vec d;
  SECTION("TorchJD FairGradWeighting(alpha=1) and LibMTL (the same equations, d = Jᵀw)") {
    auto f = make_balancer<double>("fairgrad");
    f->reset(2);
    f->combine_gradients(J, d);
    check_vec(f->weights(), {0.5915, 0.4071}, 1e-4);  // TorchJD's published weights
    check_vec(d, {0.076584, 0.998533, 0.998533}, 1e-5);
  }
  SECTION("the authors' code: d multiplied by T, then clipped to norm 1") {
    // alpha = 0.5 on 0.01·J: w solves Gw = w^(-2), w = (16.0037, 11.3192), Jᵀw has norm 0.388;
    // times T = 2 it stays below 1, so the clip does not act and the factor T shows.
    const Jac Js = 0.01 * J;
    auto plain = make_balancer<double>("fairgrad", "alpha=0.5");
    auto authors = make_balancer<double>("fairgrad", "alpha=0.5,aggregate=times_tasks,max_norm=1");
    plain->combine_gradients(Js, d);
    check_vec(d, {0.0390045, 0.2732299, 0.2732299}, 1e-6);
    authors->combine_gradients(Js, d);
    check_vec(d, {0.0780089, 0.5464598, 0.5464598}, 1e-6);
    check_vec(authors->weights(), {2 * 16.003750, 2 * 11.319241}, 1e-4);
    // alpha = 2 on J: ‖T·Jᵀw‖ > 1, so the clip decides.
    auto a2 = make_balancer<double>("fairgrad", "alpha=2,aggregate=times_tasks,max_norm=1");
    a2->combine_gradients(J, d);
    check_vec(d, {0.027952, 0.706830, 0.706830}, 1e-5);
  }
}

TEST_CASE("conventions: SDMGrad of the authors' code, TorchJD and LibMTL",
          "[weighting][conventions]") {
  SECTION("TorchJD SDMGradWeighting: its published hand values (n_iter = 1)") {
    // A1 = diag(1, 0.25, 0) -> (1/13, 1/13, 11/13); then A2 = I from that state -> (6/13, 6/13,
    // 1/13) (tests/unit/aggregation/test_sdmgrad.py). Both scales give these vertices.
    for (const char* scale : {"scale=clamped", "scale=reference"}) {
      INFO(scale);
      auto s = make_balancer<double>("sdmgrad", std::string("niter=1,") + scale);
      s->reset(3);
      Mat A1 = Mat::Zero(3, 3);
      A1(0, 0) = 1;
      A1(1, 1) = 0.25;
      check_vec(weigh(*s, A1), {1.0 / 13, 1.0 / 13, 11.0 / 13}, 1e-9);
      check_vec(weigh(*s, Mat::Identity(3, 3)), {6.0 / 13, 6.0 / 13, 1.0 / 13}, 1e-6);
    }
  }
  SECTION("the scale: the authors' mean(sqrt(diag + 1e-4))^2 or LibMTL's and TorchJD's") {
    // A = diag(1e-4, 4e-4), one step of lr 1 from (1/2, 1/2): the clamped scale 2.25e-4 gives
    // x = (0.93331, 0.06669), the authors' 3.3312e-4 gives x = (0.79269, 0.20731); w = (x +
    // 0.1)/1.3.
    Mat A = Mat::Zero(2, 2);
    A(0, 0) = 1e-4;
    A(1, 1) = 4e-4;
    auto c = make_balancer<double>("sdmgrad", "niter=1,lr=1,scale=clamped");
    c->reset(2);
    check_vec(weigh(*c, A), {0.8333185, 0.1666815}, 1e-6);
    auto r = make_balancer<double>("sdmgrad", "niter=1,lr=1");
    r->reset(2);
    check_vec(weigh(*r, A), {0.7251482, 0.2748518}, 1e-6);
  }
  SECTION("LibMTL (lr 5, clamped scale) and the authors' code (x T, clip 1) on J") {
    // On G = [[18, -22], [-22, 38]] the inner steps end at the vertex x = (0, 1), so
    // w = (0.15, 1.15)/1.3 = (0.11538, 0.88462) for lr 5 and 10 alike.
    const Jac J = torchjd_J();
    Vec d;
    auto lib = make_balancer<double>("sdmgrad", "lr=5,scale=clamped");
    lib->reset(2);
    lib->combine_gradients(J, d);
    check_vec(lib->weights(), {0.15 / 1.3, 1.15 / 1.3}, 1e-9);
    check_vec(d, {4.846154, 1.0, 1.0}, 1e-5);
    // The authors': 2·Jᵀw = (9.6923, 2, 2), norm 10.097, clipped to norm 1.
    auto authors = make_balancer<double>("sdmgrad", "aggregate=times_tasks,max_norm=1");
    authors->reset(2);
    authors->combine_gradients(J, d);
    check_vec(d, {0.959960, 0.198087, 0.198087}, 1e-5);
    // On 0.05·J the doubled direction has norm 0.505 < 1: the factor T shows.
    authors = make_balancer<double>("sdmgrad", "aggregate=times_tasks,max_norm=1");
    authors->reset(2);
    authors->combine_gradients(Jac(0.05 * J), d);
    check_vec(d, {0.484615, 0.1, 0.1}, 1e-5);
  }
}

TEST_CASE("conventions: MoDo of TorchJD", "[weighting][conventions]") {
  // TorchJD MoDoWeighting(gamma=0.1, rho=0.1) on a cross-Gram matrix A = J1·J2ᵀ (not symmetric):
  // λ ← Π_Δ(λ − γ(Aλ + ρλ)) from 1/2: (0.53, 0.47), then (0.5561, 0.4439).
  Mat A(2, 2);
  A << 1, 0.2, 0.4, 2;
  auto m = make_balancer<double>("modo");
  m->reset(2);
  check_vec(weigh(*m, A), {0.53, 0.47}, 1e-12);
  check_vec(weigh(*m, A), {0.5561, 0.4439}, 1e-12);
}

TEST_CASE("conventions: ExcessMTL of TorchJD and LibMTL", "[weighting][conventions]") {
  Jac J1(2, 2), J2(2, 2);
  J1 << 2, 0, 1, 0;
  J2 << 1, 0, 2, 0;
  Vec d;
  SECTION("TorchJD ExcessMTLWeighting(robust_step_size=1, n_warmup_steps=0): its published steps") {
    // Call 1 updates with the raw excess (2, 1): (e², e)/(e² + e); call 2 with (1/√5, 4/√5)
    // divided by the baseline (2, 1) (tests/unit/aggregation/test_excess_mtl.py).
    auto e = make_balancer<double>("excess_mtl", "eta=1,warmup=0");
    e->reset(2);
    e->combine_gradients(J1, d);
    check_vec(e->weights(), {0.7310586, 0.2689414}, 1e-6);
    e->combine_gradients(J2, d);
    check_vec(e->weights(), {0.3623341, 0.6376659}, 1e-6);
    CHECK(e->weights().sum() == Approx(1.0));
    check_vec(d, {e->weights()[0] + 2 * e->weights()[1], 0}, 1e-12);
  }
  SECTION("TorchJD n_warmup_steps=2: the baseline is the mean excess of the warm-up calls") {
    auto e = make_balancer<double>("excess_mtl", "eta=1,warmup=2");
    e->reset(2);
    e->combine_gradients(J1, d);
    check_vec(e->weights(), {0.5, 0.5}, 0);
    e->combine_gradients(J2, d);
    check_vec(e->weights(), {0.5, 0.5}, 0);
    e->combine_gradients(J1, d);
    check_vec(e->weights(), {0.6893117, 0.3106883}, 1e-6);
  }
  SECTION("LibMTL and the authors' code: weights summing to T, the paper's on the simplex") {
    auto sum = make_balancer<double>("excess_mtl", "aggregate=sum");
    auto paper = make_balancer<double>("excess_mtl");
    sum->reset(2);
    paper->reset(2);
    Vec ds, dp;
    for (const Jac* J : {&J1, &J2, &J1}) {
      sum->combine_gradients(*J, ds);
      paper->combine_gradients(*J, dp);
      CHECK(sum->weights().sum() == Approx(2.0));
      CHECK(paper->weights().sum() == Approx(1.0));
      CHECK((ds - 2 * dp).norm() <= 1e-12);
    }
  }
}

TEST_CASE("conventions: MoCo of LibMTL", "[weighting][conventions]") {
  // LibMTL: y ← y − βₖ(y − Lᵢgᵢ/‖gᵢ‖) from y = 0, λ ← softmax(λ − γₖ YYᵀλ), d = Yᵀλ, with
  // βₖ = 0.5/√k, γₖ = 0.1/√k; two steps on J with losses (2, 0.5), by hand.
  const Jac J = torchjd_J();
  const Vec L = two_losses();
  Vec d;
  auto m = make_balancer<double>("moco", "normalize_by_loss=1,init=zero,simplex=softmax");
  m->reset(2);
  m->combine_gradients(J, L, d);
  check_vec(m->weights(), {0.4882834, 0.5117166}, 1e-6);
  check_vec(d, {-0.3358409, 0.1358423, 0.1358423}, 1e-6);
  m->combine_gradients(J, L, d);
  check_vec(m->weights(), {0.4795343, 0.5204657}, 1e-6);
  check_vec(d, {-0.4405320, 0.1815589, 0.1815589}, 1e-6);
}

TEST_CASE("conventions: DB-MTL of LibMTL", "[weighting][conventions]") {
  // LibMTL: bᵢ ← ĝᵢ + 0.9(bᵢ − ĝᵢ) from 0 (beta_sigma 0), ĝᵢ = gᵢ/Lᵢ, d = Σ (max‖b‖/‖bᵢ‖) bᵢ:
  // step 1 b = 0.1ĝ, step 2 b = 0.19ĝ; d = ‖b₂‖(b₁/‖b₁‖ + b₂/‖b₂‖).
  const Jac J = torchjd_J();
  const Vec L = two_losses();
  Vec d;
  auto db = make_balancer<double>("db_mtl", "beta_sigma=0,init=zero");
  db->reset(2);
  db->combine_gradients(J, L, d);
  check_vec(db->weights(), {5.811865, 1.0}, 1e-5);
  check_vec(d, {0.0376270, 0.4905932, 0.4905932}, 1e-6);
  db->combine_gradients(J, L, d);
  check_vec(d, {0.0714912, 0.9321272, 0.9321272}, 1e-6);
}

TEST_CASE("conventions: GradDrop and RLW, rule and distribution", "[weighting][conventions]") {
  const Jac J = torchjd_J();
  Vec d;
  SECTION("GradDrop leak (LibMTL's leak; TorchJD's leak vector with one value for every task)") {
    // d = Σᵢ (ℓ + (1 − ℓ)Mᵢ)gᵢ: coordinate 0 keeps 6 + ℓ·(−4) or −4 + ℓ·6, the first with
    // probability P = 0.6; leak 1 keeps everything.
    int first = 0;
    for (int s = 1; s <= 400; ++s) {
      auto g = make_balancer<double>("graddrop", "leak=0.5,seed=" + std::to_string(s));
      g->combine_gradients(J, d);
      CHECK((d[0] == 4.0 || d[0] == -1.0));
      CHECK(d[1] == 2.0);
      first += d[0] == 4.0;
    }
    CHECK(first / 400.0 == Approx(0.6).margin(0.07));
    auto all = make_balancer<double>("graddrop", "leak=1");
    all->combine_gradients(J, d);
    check_vec(d, {2, 2, 2}, 0);
  }
  SECTION("RLW (LibMTL RLW, TorchJD Random): w = softmax(z), z ~ N(0, I)") {
    // log(w₁/w₀) = z₁ − z₀ ~ N(0, 2); E[w₀] = 1/2.
    auto r = make_balancer<double>("rlw", "seed=11");
    r->reset(2);
    auto& tape = autograd::Tape<double>::current();
    const int n = 20000;
    double sum = 0, sum2 = 0, w0 = 0;
    for (int k = 0; k < n; ++k) {
      tape.reset();
      auto L = scalars({2.0, 0.5});
      r->combine_losses(L);
      const double x = std::log(r->weights()[1] / r->weights()[0]);
      sum += x;
      sum2 += x * x;
      w0 += r->weights()[0];
      CHECK(r->weights().sum() == Approx(1.0));
    }
    CHECK(sum / n == Approx(0.0).margin(0.05));
    CHECK(sum2 / n - (sum / n) * (sum / n) == Approx(2.0).margin(0.1));
    CHECK(w0 / n == Approx(0.5).margin(0.01));
  }
}

TEST_CASE("conventions: loss weightings of TorchJD's scalarizers and LibMTL",
          "[weighting][conventions]") {
  auto& tape = autograd::Tape<double>::current();
  SECTION("uncertainty: TorchJD UW (published UW(3)([1, 2, 4]) = 3.5) and LibMTL UW (s0 = -0.5)") {
    tape.reset();
    auto u = make_balancer<double>("uncertainty");
    u->reset(3);
    auto L3 = scalars({1.0, 2.0, 4.0});
    CHECK(u->combine_losses(L3).item() == Approx(3.5));
    check_vec(u->weights(), {0.5, 0.5, 0.5}, 1e-15);
    // LibMTL: Σ (Lᵢ/(2e^{sᵢ}) + sᵢ/2) from s = −0.5; it reports 1/(2e^{s}) = 0.82436.
    tape.reset();
    auto lib = make_balancer<double>("uncertainty", "init=-0.5");
    lib->reset(2);
    auto L2 = scalars({2.0, 0.5});
    CHECK(lib->combine_losses(L2).item() == Approx(0.5 * std::exp(0.5) * 2.5 - 0.5));
    check_vec(lib->weights(), {0.5 * std::exp(0.5), 0.5 * std::exp(0.5)}, 1e-12);
  }
  SECTION("uncertainty: the paper's classification term and the common form") {
    // Regression ½e^{-s}L + ½s is stationary at s = log L, classification e^{-s}L + ½s at
    // s = log 2L: with L = (2, 0.5), s = (log 2, 0) both gradients vanish.
    tape.reset();
    UncertaintyOptions o;
    o.classification = {1};
    UncertaintyWeighting<double> u(o);
    u.reset(2);
    u.parameter("log_var").value()[0] = std::log(2.0);
    auto L = scalars({2.0, 0.5});
    auto total = u.combine_losses(L);
    CHECK(total.item() == Approx(0.5 + 0.5 * std::log(2.0) + 0.5));
    total.backward();
    CHECK(u.parameter("log_var").grad()[0] == Approx(0.0).margin(1e-12));
    CHECK(u.parameter("log_var").grad()[1] == Approx(0.0).margin(1e-12));
    CHECK(L[0].grad()[0] == Approx(0.25));  // ½e^{-s}
    CHECK(L[1].grad()[0] == Approx(1.0));   // e^{-s}
    CHECK(make_balancer<double>("uncertainty", "classification=1")->name() == "uncertainty");
    CHECK_THROWS_WITH(make_balancer<double>("uncertainty", "form=common,classification=1"),
                      Catch::Contains("classification"));
    tape.reset();
    auto common = make_balancer<double>("uncertainty", "form=common");
    common->reset(2);
    auto L2 = scalars({2.0, 0.5});
    CHECK(common->combine_losses(L2).item() == Approx(2.5));  // Σ e^{0}L + 0
  }
  SECTION("IMTL-L and GLS: TorchJD's published IMTLL(3)([1,2,4]) = 7, GeometricMean = 2") {
    tape.reset();
    auto L3 = scalars({1.0, 2.0, 4.0});
    auto i = make_balancer<double>("imtl_l");
    i->reset(3);
    CHECK(i->combine_losses(L3).item() == Approx(7.0));
    auto g = make_balancer<double>("gls");
    g->reset(3);
    CHECK(g->combine_losses(L3).item() == Approx(2.0));  // LibMTL: (Π L)^(1/T) alike
  }
  SECTION("DWA: TorchJD's published case (LibMTL's rule alike)") {
    // Epoch means (1, 1) then (1, 4): the third epoch weighs 2·softmax((1, 4)/2).
    auto w = make_balancer<double>("dwa");
    w->reset(2);
    for (auto v : {std::vector<double>{1, 1}, std::vector<double>{1, 4}}) {
      tape.reset();
      auto L = scalars(v);
      w->combine_losses(L);
      w->end_epoch();
    }
    tape.reset();
    auto L = scalars({3.0, 5.0});
    const double a = std::exp(0.5), b = std::exp(2.0);
    CHECK(w->combine_losses(L).item() == Approx(2 * (3 * a + 5 * b) / (a + b)));
    check_vec(w->weights(), {0.3648510, 1.6351490}, 1e-6);
  }
  SECTION("STCH: TorchJD's published values with a fixed reference point") {
    tape.reset();
    auto s = make_balancer<double>("stch", "mu=1,reference=0;0");
    s->reset(2);
    auto z = scalars({0.0, 0.0});
    CHECK(s->combine_losses(z).item() == Approx(std::log(2.0)));  // STCH(mu=1)([0, 0])
    auto w = make_balancer<double>("stch", "mu=1,pref=1;1,reference=0;0");
    w->reset(2);
    auto one = scalars({1.0, 1.0});
    CHECK(w->combine_losses(one).item() == Approx(1 + std::log(2.0)));  // weights (1, 1)
    auto r = make_balancer<double>("stch", "mu=1,pref=1;1,reference=1;1");
    r->reset(2);
    auto one2 = scalars({1.0, 1.0});
    CHECK(r->combine_losses(one2).item() == Approx(std::log(2.0)));  // reference (1, 1)
  }
  SECTION("STCH: LibMTL's log-nadir objective, warm-up, nadir epoch, then T·μ·logsumexp") {
    tape.reset();
    auto s = make_balancer<double>("stch", "objective=log_nadir,mu=1,warmup=1");
    s->reset(2);
    auto L0 = scalars({2.0, 0.5});  // epoch 0 (warm-up): log 2 + log 0.5 = 0
    auto total0 = s->combine_losses(L0);
    CHECK(total0.item() == Approx(0.0).margin(1e-12));
    total0.backward();
    CHECK(L0[0].grad()[0] == Approx(0.5));
    CHECK(L0[1].grad()[0] == Approx(2.0));
    s->end_epoch();
    auto L1 = scalars({2.0, 1.0});  // epoch 1 = the nadir epoch: still Σ log Lᵢ
    CHECK(s->combine_losses(L1).item() == Approx(std::log(2.0)));
    auto L2 = scalars({4.0, 3.0});
    CHECK(s->combine_losses(L2).item() == Approx(std::log(12.0)));
    s->end_epoch();  // nadir = mean of epoch 1 = (3, 2)
    auto& stch = dynamic_cast<STCH<double>&>(*s);
    check_vec(stch.nadir_point(), {3.0, 2.0}, 1e-15);
    // epoch 2: log(L/n) = (0, log 2); 2·1·log(1 + 2) = 2 log 3; dL/dLᵢ = 2·softmaxᵢ/Lᵢ.
    tape.reset();
    auto L3 = scalars({3.0, 4.0});
    auto total3 = s->combine_losses(L3);
    CHECK(total3.item() == Approx(2 * std::log(3.0)));
    total3.backward();
    CHECK(L3[0].grad()[0] == Approx(2.0 / 9.0));
    CHECK(L3[1].grad()[0] == Approx(1.0 / 3.0));
    check_vec(s->weights(), {2.0 / 9.0, 1.0 / 3.0}, 1e-12);
    // The state (nadir, epoch count) survives a save and restore.
    nn::ExtraState st("stch");
    s->get_extra_state(st);
    auto r = make_balancer<double>("stch", "objective=log_nadir,mu=1,warmup=1");
    r->reset(2);
    r->set_extra_state(st);
    tape.reset();
    auto L4 = scalars({3.0, 4.0});
    CHECK(r->combine_losses(L4).item() == Approx(2 * std::log(3.0)));
  }
  SECTION("GradNorm: LibMTL's T·softmax(θ), equal first epoch, then Adam on θ") {
    auto g = make_balancer<double>("gradnorm", "form=libmtl,alpha=1,lr=0.1");
    g->reset(2);
    Jac J(2, 2);
    J << 1, 0, 0, 2;  // ‖g‖ = (1, 2)
    Vec losses(2), d;
    losses << 2.0, 1.0;  // epoch 0: w = 1; its mean losses (3, 2) become Lᵢ(0)
    g->combine_gradients(J, losses, d);
    check_vec(d, {1.0, 2.0}, 1e-15);
    losses << 4.0, 3.0;
    g->combine_gradients(J, losses, d);
    g->end_epoch();
    // Epoch 1: θ = (1, 1), w = (1, 1); L/L(0) = (1, ½), r = (4/3, 2/3); Gᵢ = (1, 2), Ḡ = 1.5,
    // targets (2, 1): ∂/∂w = (−1, +2); ∂/∂θ = 2·½·((−1, 2) − ½) = (−1.5, 1.5); Adam's first step
    // moves θ by ∓lr·1.5/(1.5 + 1e-8).
    losses << 3.0, 1.0;
    g->combine_gradients(J, losses, d);
    check_vec(g->weights(), {1.0, 1.0}, 1e-15);
    auto& gn = dynamic_cast<GradNorm<double>&>(*g);
    const double step = 0.1 * 1.5 / (1.5 + 1e-8);
    check_vec(gn.logits(), {1.0 + step, 1.0 - step}, 1e-12);
    g->combine_gradients(J, losses, d);  // this step's weights: 2·softmax(θ)
    const double w0 = 2.0 / (1.0 + std::exp(-2 * step));
    check_vec(g->weights(), {w0, 2.0 - w0}, 1e-12);
    check_vec(d, {w0, 2 * (2.0 - w0)}, 1e-12);
  }
  SECTION("FAMO: LibMTL and TorchJD (w_lr 0.025, weight decay 1e-3), two updates by hand") {
    // Losses (2, 0.5) -> (1, 0.49) -> (0.9, 0.3); one Adam step on the logits per update.
    tape.reset();
    auto f = make_balancer<double>("famo", "gamma=1e-3");
    f->reset(2);
    auto L = scalars({2.0, 0.5});
    f->combine_losses(L);
    check_vec(f->weights(), {0.2, 0.8}, 1e-8);
    Vec after(2);
    after << 1.0, 0.49;
    f->after_step(after);
    auto& famo = dynamic_cast<FAMO<double>&>(*f);
    check_vec(famo.logits(), {-0.0249999985, 0.0249999985}, 1e-9);
    tape.reset();
    auto L2 = scalars({1.0, 0.49});
    f->combine_losses(L2);
    check_vec(f->weights(), {0.3179194, 0.6820806}, 1e-6);
    after << 0.9, 0.3;
    f->after_step(after);
    check_vec(famo.logits(), {-0.030293232, 0.030293232}, 1e-8);  // with decay 1e-2: 0.0302686
  }
}

}  // namespace test_weighting_conventions
