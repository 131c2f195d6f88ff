// Property tests over every method of the registry: a method added to the table goes through
// all of them. What is checked depends on the method's traits (non-conflicting, scaling, random).
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "helpers.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_registry {

using namespace onestone;
using namespace onestone::weighting;
using wtest::Jac;
using wtest::Vec;

namespace {
// Distinct positive losses for the methods that read them.
Vec losses_for(Eigen::Index m) { return Vec::LinSpaced(m, 1.0, 2.0); }

void run(Balancer<double>& b, const Jac& J, Vec& d) {
  Vec L = losses_for(J.rows());
  b.combine_gradients(J, L, d);
}
}  // namespace

TEST_CASE("the registry names every method once and builds it by name", "[weighting][registry]") {
  const auto& names = balancer_names();
  REQUIRE(names.size() >= 34);
  for (std::size_t i = 0; i < names.size(); ++i)
    for (std::size_t j = i + 1; j < names.size(); ++j) CHECK(names[i] != names[j]);
  for (const auto& spec : methods<double>()) {
    INFO(spec.name);
    auto b = make_balancer<double>(spec.name);
    CHECK(b->name() == spec.name);
    CHECK(b->family() == spec.traits.family);
    CHECK(std::string(spec.traits.paper).size() > 0);
    CHECK_THROWS_WITH(make_balancer<double>(spec.name, "no_such_option=1"),
                      Catch::Contains(spec.name) && Catch::Contains("no_such_option"));
  }
  CHECK_THROWS_WITH(make_balancer<double>("nope"),
                    Catch::Contains("unknown method 'nope'") && Catch::Contains("upgrad"));
  CHECK_THROWS_WITH(make_balancer<double>("cagrad", "rescale=sideways"),
                    Catch::Contains("rescale"));
  CHECK_THROWS_WITH(make_balancer<double>("cagrad", "c=abc"), Catch::Contains("not a number"));
  auto b = make_balancer_from_spec<double>("cagrad:c=0.4,rescale=none");
  CHECK(static_cast<CAGrad<double>&>(*b).c() == 0.4);
}

TEST_CASE("every gradient method: finite directions, bad input, one task",
          "[weighting][registry]") {
  Generator gen(3);
  for (const auto& spec : methods<double>()) {
    if (spec.traits.family == Family::Loss) continue;
    INFO(spec.name);
    for (int trial = 0; trial < 4; ++trial) {
      auto b = make_balancer<double>(spec.name);
      const Eigen::Index m = 2 + trial;
      b->reset(static_cast<int>(m));
      Jac J = wtest::random_jacobian(gen, m, 12);
      Vec d;
      run(*b, J, d);
      CHECK(d.size() == 12);
      CHECK(d.allFinite());
      CHECK(b->weights().size() == m);
    }
    // Bad input names the method.
    auto b = make_balancer<double>(spec.name);
    b->reset(2);
    Jac bad = Jac::Ones(2, 3);
    bad(1, 2) = std::nan("");
    Vec d;
    CHECK_THROWS_WITH(run(*b, bad, d), Catch::Contains(spec.name) && Catch::Contains("NaN"));
    CHECK_THROWS_WITH(b->combine_gradients(Jac(0, 3), d), Catch::Contains(spec.name));
    // One task: d is a positive multiple of its gradient.
    auto one = make_balancer<double>(spec.name);
    one->reset(1);
    Jac g = wtest::random_jacobian(gen, 1, 7);
    run(*one, g, d);
    const Vec gv = g.row(0).transpose();
    CHECK(wtest::cosine(d, gv) == Approx(1.0).epsilon(1e-9));
  }
}

TEST_CASE("non-conflicting methods: g_i . d >= 0 for every task", "[weighting][registry]") {
  Generator gen(5);
  for (const auto& spec : methods<double>()) {
    if (!spec.traits.non_conflicting) continue;
    INFO(spec.name);
    for (int trial = 0; trial < 20; ++trial) {
      const Eigen::Index m = 2 + trial % 4;
      Jac J = wtest::random_jacobian(gen, m, 10);
      if (trial % 5 == 0) J.row(1) = -J.row(0) + 0.05 * J.row(1);  // nearly opposed
      auto b = make_balancer<double>(spec.name);
      b->reset(static_cast<int>(m));
      Vec d;
      run(*b, J, d);
      if (b->fallbacks() > 0) continue;  // no solution on this Jacobian (Nash, FairGrad)
      const Vec Jd = J * d;
      CHECK(Jd.minCoeff() >= -1e-9 * J.norm() * d.norm());
    }
  }
}

TEST_CASE("deterministic methods are invariant to the task order", "[weighting][registry]") {
  Generator gen(7);
  for (const auto& spec : methods<double>()) {
    if (spec.traits.family == Family::Loss || spec.traits.random) continue;
    INFO(spec.name);
    for (int trial = 0; trial < 5; ++trial) {
      const Eigen::Index m = 3 + trial % 3;
      Jac J = wtest::random_jacobian(gen, m, 9);
      auto P = wtest::random_perm(gen, m);
      Jac PJ = P * J;
      Vec L = losses_for(m), PL = P * L;
      auto a = make_balancer<double>(spec.name), b = make_balancer<double>(spec.name);
      a->reset(static_cast<int>(m));
      b->reset(static_cast<int>(m));
      Vec da, db;
      a->combine_gradients(J, L, da);
      b->combine_gradients(PJ, PL, db);
      CHECK((da - db).norm() <= 1e-8 * (1 + da.norm()));
    }
  }
}

TEST_CASE("methods with a known scaling: d(cJ) = c^k d(J)", "[weighting][registry]") {
  Generator gen(11);
  for (const auto& spec : methods<double>()) {
    if (spec.traits.family == Family::Loss || !spec.traits.scaling_known) continue;
    INFO(spec.name << " (k = " << spec.traits.scaling_power << ")");
    Jac J = wtest::random_jacobian(gen, 3, 8);
    const double c = 3.0;
    // The same seed for both, so random methods draw the same numbers.
    auto a = make_balancer<double>(spec.name), b = make_balancer<double>(spec.name);
    a->reset(3);
    b->reset(3);
    Vec da, db;
    run(*a, J, da);
    run(*b, Jac(c * J), db);
    const double f = std::pow(c, spec.traits.scaling_power);
    CHECK((db - f * da).norm() <= 1e-7 * (1 + f * da.norm()));
  }
}

TEST_CASE("float instantiations agree with double", "[weighting][registry]") {
  Generator gen(13);
  Jac J = wtest::random_jacobian(gen, 3, 16);
  const Jacobian<float> Jf = J.cast<float>();
  for (const auto& spec : methods<double>()) {
    if (spec.traits.family == Family::Loss) continue;
    INFO(spec.name);
    auto bd = make_balancer<double>(spec.name);
    auto bf = make_balancer<float>(spec.name);
    bd->reset(3);
    bf->reset(3);
    Vec dd;
    Vector<float> df;
    Vec L = losses_for(3);
    const Vector<float> Lf = L.cast<float>();
    bd->combine_gradients(J, L, dd);
    bf->combine_gradients(Jf, Lf, df);
    CHECK((df.cast<double>() - dd).norm() <= 2e-3 * (1 + dd.norm()));
  }
}

TEST_CASE("absent tasks: every method takes a subset of its tasks",
          "[weighting][registry][missing]") {
  Generator gen(17);
  const Jac J3 = wtest::random_jacobian(gen, 3, 10);
  Jac J2(2, 10);
  J2.row(0) = J3.row(0);
  J2.row(1) = J3.row(2);
  const int ids[2] = {0, 2};
  for (const auto& spec : methods<double>()) {
    INFO(spec.name);
    auto b = make_balancer<double>(spec.name);
    b->reset(3);
    if (spec.traits.family == Family::Loss) {
      auto& tape = autograd::Tape<double>::current();
      tape.reset();
      std::vector<Var<double>> l = {Var<double>::variable(Tensor<double>::from({1.5}, {1})),
                                    Var<double>::variable(Tensor<double>::from({0.5}, {1}))};
      Var<double> total = b->combine_losses(l, {0, 2});
      CHECK(std::isfinite(total.item()));
      CHECK(b->weights().size() == 3);
      CHECK(b->weights()[1] == 0.0);
      total.backward();
      continue;
    }
    StepInfo<double> info;
    info.rows = 2;
    info.tasks = ids;
    Vec L(2), d;
    L << 1.0, 2.0;
    info.losses = &L;
    b->combine_gradients(J2, info, d);
    CHECK(d.allFinite());
    CHECK(b->weights().size() == 3);
    CHECK(b->weights()[1] == 0.0);
    if (!spec.traits.random && !spec.traits.stateful) {
      // A stateless method on a subset equals a fresh method on those rows.
      auto fresh = make_balancer<double>(spec.name);
      fresh->reset(2);
      Vec d2;
      fresh->combine_gradients(J2, L, d2);
      CHECK((d - d2).norm() <= 1e-10 * (1 + d.norm()));
    }
    // Then all three again: state of the absent task was kept, the method goes on.
    Vec L3 = losses_for(3);
    b->combine_gradients(J3, L3, d);
    CHECK(d.allFinite());
  }
}

TEST_CASE("every method's state round-trips through extra state", "[weighting][registry]") {
  Generator gen(19);
  for (const auto& spec : methods<double>()) {
    INFO(spec.name);
    auto a = make_balancer<double>(spec.name), b = make_balancer<double>(spec.name);
    a->reset(3);
    b->reset(3);
    if (spec.traits.family != Family::Loss) {
      Vec d;
      for (int k = 0; k < 3; ++k) run(*a, wtest::random_jacobian(gen, 3, 6), d);
      nn::ExtraState s(spec.name);
      a->get_extra_state(s);
      b->set_extra_state(s);
      Jac J = wtest::random_jacobian(gen, 3, 6);
      Vec da, db;
      run(*a, J, da);
      run(*b, J, db);
      CHECK((da - db).norm() <= 1e-12 * (1 + da.norm()));
    } else {
      nn::ExtraState s(spec.name);
      a->get_extra_state(s);
      CHECK_NOTHROW(b->set_extra_state(s));
    }
  }
}

// Every method has at least one test whose answer is known (a hand-derived or published value,
// or a property equal weighting lacks), listed here by test case name; a method added to the
// registry without one fails this test, and so does a listed test that no longer exists.
TEST_CASE("every method has a known-answer test that equal weighting would fail",
          "[weighting][registry]") {
  const std::map<std::string, std::vector<std::string>> known = {
      {"equal", {"equal weighting through per-task gradients equals plain backward"}},
      {"static", {"loss weighting methods: hand-derived values"}},
      {"sum", {"Sum sums the rows", "reference values: paper, TorchJD and LibMTL conventions"}},
      {"mean", {"reference values: paper, TorchJD and LibMTL conventions"}},
      {"constant", {"reference values: paper, TorchJD and LibMTL conventions"}},
      {"uncertainty",
       {"loss weighting methods: hand-derived values",
        "conventions: loss weightings of TorchJD's scalarizers and LibMTL"}},
      {"dwa", {"loss weighting methods: hand-derived values"}},
      {"rlw", {"loss weighting methods: hand-derived values"}},
      {"gls", {"loss weighting methods: hand-derived values"}},
      {"famo",
       {"loss weighting methods: hand-derived values",
        "conventions: loss weightings of TorchJD's scalarizers and LibMTL"}},
      {"stch",
       {"loss weighting methods: hand-derived values",
        "conventions: loss weightings of TorchJD's scalarizers and LibMTL"}},
      {"imtl_l", {"loss weighting methods: hand-derived values"}},
      {"auto_lambda", {"Auto-Lambda: the meta-gradient raises the weight of the helpful task"}},
      {"mgda", {"MGDA hand-derived cases", "non-conflicting methods: g_i . d >= 0 for every task"}},
      {"mgda_l2",
       {"MGDA normalisations (Sener & Koltun's code)",
        "MGDA-l2 is invariant to the norm of each gradient"}},
      {"mgda_loss",
       {"MGDA normalisations (Sener & Koltun's code)",
        "reference values of the loss normalisations of MGDA"}},
      {"mgda_loss+",
       {"MGDA normalisations (Sener & Koltun's code)",
        "reference values of the loss normalisations of MGDA"}},
      {"pcgrad",
       {"PCGrad: two conflicting gradients by hand", "PCGrad: three tasks, both orders by hand"}},
      {"gradvac",
       {"GradVac: first step is PCGrad, then cosines are raised to the EMA targets",
        "GradVac: the EMA convention of TorchJD and LibMTL (beta = 0.5) by steps"}},
      {"imtl_g", {"IMTL-G: equal projections on every unit gradient"}},
      {"cagrad", {"CAGrad: c = 0 is the mean, hand case, and the maximin property"}},
      {"nash_mtl", {"Nash-MTL: bargaining equations and scale invariance"}},
      {"fairgrad",
       {"reference values: paper, TorchJD and LibMTL conventions",
        "conventions: FairGrad of the authors' code, TorchJD and LibMTL"}},
      {"aligned_mtl", {"Aligned-MTL: hand case and the Gram condition"}},
      {"upgrad", {"UPGrad and DualProj by hand", "UPGrad averages the projections of every row"}},
      {"dualproj",
       {"UPGrad and DualProj by hand", "DualProj returns the projection of the mean (KKT)"}},
      {"config", {"ConFIG: equal positive cosine with every gradient"}},
      {"gradnorm", {"gradient-based balancers: GradNorm and DB-MTL on known Jacobians"}},
      {"db_mtl",
       {"gradient-based balancers: GradNorm and DB-MTL on known Jacobians",
        "conventions: DB-MTL of LibMTL"}},
      {"modo",
       {"MoDo and SDMGrad: hand-derived steps and fixed points", "conventions: MoDo of TorchJD"}},
      {"sdmgrad",
       {"MoDo and SDMGrad: hand-derived steps and fixed points",
        "conventions: SDMGrad of the authors' code, TorchJD and LibMTL"}},
      {"graddrop",
       {"GradDrop: sign purity and masks",
        "GradDrop: per-coordinate sign choice on the TorchJD Jacobian"}},
      {"moco",
       {"MoCo: first two steps by hand",
        "MoCo: with a fixed Jacobian lambda converges to MGDA's weights",
        "conventions: MoCo of LibMTL"}},
      {"excess_mtl",
       {"ExcessMTL: the authors' first two steps", "conventions: ExcessMTL of TorchJD and LibMTL"}},
  };
  std::set<std::string> cases;
  for (const auto& tc : Catch::getRegistryHub().getTestCaseRegistry().getAllTests())
    cases.insert(tc.getTestCaseInfo().name);
  for (const auto& name : weighting::balancer_names()) {
    INFO("method " << name);
    const auto it = known.find(name);
    REQUIRE(it != known.end());
    for (const auto& test : it->second) {
      INFO("test case '" << test << "'");
      CHECK(cases.count(test) == 1);
    }
  }
  CHECK(known.size() == weighting::balancer_names().size());
}

}  // namespace test_weighting_registry
