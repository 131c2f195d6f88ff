// Gradient surgery: PCGrad (Yu et al. 2020), GradDrop (Chen et al. 2020), GradVac
// (Wang et al. 2021) — hand-derived cases, randomness and state.
#include <catch2/catch.hpp>
#include <set>
#include <utility>

#include "helpers.hpp"
#include "onestone/weighting/weighting.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_surgery {

using namespace onestone::weighting;
using namespace wtest;

TEST_CASE("PCGrad: two conflicting gradients by hand", "[weighting][pcgrad]") {
  // g1 = (1,0), g2 = (-1,1), g1.g2 = -1:
  //   g1' = g1 - (-1/2) g2 = (1/2, 1/2);   g2' = g2 - (-1/1) g1 = (0, 1);   d = (1/2, 3/2).
  // With two tasks each gradient has one partner, so both orders give the same d.
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    PCGrad<double> pc(seed);
    Vec d;
    pc.combine_gradients(make2(1, 0, -1, 1), d);
    CHECK(d[0] == Approx(0.5));
    CHECK(d[1] == Approx(1.5));
    CHECK(pc.coefficients()(0, 1) == Approx(0.5));
    CHECK(pc.coefficients()(1, 0) == Approx(1.0));
    pc.combine_gradients(make2(-1, 1, 1, 0), d);  // rows swapped
    CHECK(d[0] == Approx(0.5));
    CHECK(d[1] == Approx(1.5));
  }
  // No conflict: the plain sum.
  PCGrad<double> pc;
  Vec d;
  pc.combine_gradients(make2(1, 0, 1, 1), d);
  CHECK(d[0] == Approx(2.0));
  CHECK(d[1] == Approx(1.0));
}

TEST_CASE("PCGrad: three tasks, both orders by hand", "[weighting][pcgrad]") {
  // g1 = (1,0), g2 = (-1,1), g3 = (-1,2). g1 conflicts with g2 and g3; g2.g3 = 3 > 0.
  //  g1, order (2,3): (1,0) + 1/2 (-1,1) = (1/2,1/2); then (1/2,1/2).g3 = 1/2 > 0 -> (1/2, 1/2).
  //  g1, order (3,2): (1,0) + 1/5 (-1,2) = (4/5,2/5); .g2 = -2/5 -> + 1/5 (-1,1) = (3/5, 3/5).
  //  g2' = (0,1) and g3' = (0,2) in either order.
  //  d = (1/2, 7/2) or (3/5, 18/5).
  Jac J(3, 2);
  J << 1, 0, -1, 1, -1, 2;
  std::set<int> seen;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    PCGrad<double> pc(seed);
    Vec d;
    pc.combine_gradients(J, d);
    const bool a = std::abs(d[0] - 0.5) < 1e-12 && std::abs(d[1] - 3.5) < 1e-12;
    const bool b = std::abs(d[0] - 0.6) < 1e-12 && std::abs(d[1] - 3.6) < 1e-12;
    CHECK((a || b));
    seen.insert(a ? 0 : 1);
  }
  CHECK(seen.size() == 2);  // both orders occur
  // Seeded: the same seed gives the same sequence of results.
  PCGrad<double> p1(99), p2(99);
  for (int k = 0; k < 10; ++k) {
    Vec d1, d2;
    p1.combine_gradients(J, d1);
    p2.combine_gradients(J, d2);
    CHECK(d1 == d2);
  }
}

TEST_CASE("GradDrop: sign purity and masks", "[weighting][graddrop]") {
  // Columns with one sign are kept whole: (1+3, -2-1).
  Jac same(2, 2);
  same << 1, -2, 3, -1;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    GradDrop<double> gd(seed);
    Vec d;
    gd.combine_gradients(same, d);
    CHECK(d[0] == 4.0);
    CHECK(d[1] == -3.0);
  }
  // Mixed column (2, -1): P = 1/2 (1 + 1/3) = 2/3; keeps 2 w.p. 2/3 and -1 otherwise.
  // Zero column -> 0.
  Jac mixed(2, 2);
  mixed << 2, 0, -1, 0;
  GradDrop<double> gd(5);
  int pos = 0;
  const int n = 6000;
  for (int k = 0; k < n; ++k) {
    Vec d;
    gd.combine_gradients(mixed, d);
    CHECK(d[1] == 0.0);
    REQUIRE((d[0] == 2.0 || d[0] == -1.0));
    pos += d[0] == 2.0;
  }
  CHECK(double(pos) / n == Approx(2.0 / 3).margin(0.025));
  // Leak 1: the plain sum; leak 1/2: 1/2 of the dropped part survives.
  GradDrop<double> full(1, 1.0), half(1, 0.5);
  Vec d;
  full.combine_gradients(mixed, d);
  CHECK(d[0] == 1.0);
  for (int k = 0; k < 20; ++k) {
    half.combine_gradients(mixed, d);
    CHECK((d[0] == Approx(1.5) || d[0] == Approx(0.0)));
  }
  CHECK_THROWS_AS(GradDrop<double>(1, 2.0), std::invalid_argument);
  // The blocked, vectorized combine equals the paper's column-by-column rule (Chen et al. 2020,
  // Eq. 1-3) with the same draws, across several column blocks and with a leak.
  {
    onestone::Generator g(11);
    const Jac W = random_jacobian(g, 5, 2500);
    for (double leak : {0.0, 0.25}) {
      GradDrop<double> blocked(9, leak);
      onestone::Generator draws(9);
      Vec d;
      blocked.combine_gradients(W, d);
      REQUIRE(d.size() == W.cols());
      for (Eigen::Index k = 0; k < W.cols(); ++k) {
        double p = 0, q = 0;
        for (Eigen::Index i = 0; i < W.rows(); ++i) (W(i, k) > 0 ? p : q) += W(i, k);
        const double purity = p - q > 0 ? 0.5 * (1 + (p + q) / (p - q)) : 0.5;
        const double u = draws.uniform();
        const double ref =
            (leak + (1 - leak) * (purity > u)) * p + (leak + (1 - leak) * (purity < u)) * q;
        INFO("column " << k << " leak " << leak);
        REQUIRE(d[k] == Approx(ref).epsilon(1e-14).margin(1e-300));
      }
    }
  }
  // Reproducible with the seed.
  onestone::Generator gen(3);
  const Jac J = random_jacobian(gen, 3, 50);
  GradDrop<double> a(77), b(77);
  Vec da, db;
  a.combine_gradients(J, da);
  b.combine_gradients(J, db);
  CHECK(da == db);
  b.seed(78);
  b.combine_gradients(J, db);
  CHECK(da != db);
}

TEST_CASE("GradVac: first step is PCGrad, then cosines are raised to the EMA targets",
          "[weighting][gradvac]") {
  const Jac J = make2(1, 0, -1, 1);
  const double beta = 0.01;
  GradVac<double> gv(beta, 3);
  Vec d;
  // Step 1: targets are 0, so every conflicting pair is projected to orthogonal = PCGrad.
  gv.combine_gradients(J, d);
  CHECK(d[0] == Approx(0.5));
  CHECK(d[1] == Approx(1.5));
  const double phi = -1.0 / std::sqrt(2.0);  // cos(g1, g2)
  CHECK(gv.targets()(0, 1) == Approx(beta * phi));
  CHECK(gv.targets()(1, 0) == Approx(beta * phi));
  CHECK(gv.targets()(0, 0) == 0.0);
  // Step 2 (same gradients): phi = -0.707 < target = -0.00707, so each corrected gradient has
  // cosine exactly equal to the previous target with its partner's original gradient.
  const double t_prev = beta * phi;
  gv.combine_gradients(J, d);
  const Mat& C = gv.coefficients();
  const Vec g1c = J.transpose() * C.row(0).transpose();
  const Vec g2c = J.transpose() * C.row(1).transpose();
  CHECK(cosine(g1c, J.row(1).transpose()) == Approx(t_prev).epsilon(1e-10));
  CHECK(cosine(g2c, J.row(0).transpose()) == Approx(t_prev).epsilon(1e-10));
  // Only g2 is added to g1: w = |g1| (t sqrt(1-phi^2) - phi sqrt(1-t^2)) / (|g2| sqrt(1-t^2))
  // = 0.4964...: slightly less than PCGrad's 1/2 because the target is slightly below 0.
  const double w = (t_prev * std::sqrt(0.5) - phi * std::sqrt(1 - t_prev * t_prev)) /
                   (std::sqrt(2.0) * std::sqrt(1 - t_prev * t_prev));
  CHECK(C(0, 0) == 1.0);
  CHECK(C(0, 1) == Approx(w));
  CHECK(w == Approx(0.49646).epsilon(1e-4));
  CHECK(d.isApprox(g1c + g2c));
  // The EMA moved again.
  CHECK(gv.targets()(0, 1) == Approx((1 - beta) * t_prev + beta * phi));
  // Reset: back to PCGrad.
  gv.reset(2);
  gv.combine_gradients(J, d);
  CHECK(d[0] == Approx(0.5));
  CHECK(d[1] == Approx(1.5));
  // Changing the number of tasks without reset is an error.
  CHECK_THROWS_WITH(gv.combine_gradients(Jac::Identity(3, 3), d),
                    Catch::Contains("gradvac") && Catch::Contains("reset"));
}

TEST_CASE(
    "GradVac: aligned gradients raise the targets, then mildly conflicting ones are "
    "corrected",
    "[weighting][gradvac]") {
  // g1 = (1,0), g2 = (1,1): cos = 1/sqrt2 > 0 = target: no change, target -> beta/sqrt2.
  GradVac<double> gv(0.5, 1);
  Vec d;
  const Jac A = make2(1, 0, 1, 1);
  gv.combine_gradients(A, d);
  CHECK(d[0] == Approx(2.0));
  CHECK(d[1] == Approx(1.0));
  const double t = 0.5 / std::sqrt(2.0);
  CHECK(gv.targets()(0, 1) == Approx(t));
  // Now orthogonal gradients: cos = 0 < t, so g1 is rotated towards g2 until cos = t.
  const Jac B = make2(1, 0, 0, 1);
  gv.combine_gradients(B, d);
  const Vec g1c = B.transpose() * gv.coefficients().row(0).transpose();
  CHECK(cosine(g1c, Vec::Unit(2, 1)) == Approx(t));
  // For orthogonal unit vectors (phi = 0) the added amount is w = t / sqrt(1 - t^2).
  CHECK(gv.coefficients()(0, 1) == Approx(t / std::sqrt(1 - t * t)));
}

}  // namespace test_weighting_surgery
