// UPGrad and DualProj (Quinton & Rey 2024): hand-derived projections and KKT conditions.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "onestone/weighting/weighting.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_dual_cone {

using namespace onestone::weighting;
using namespace wtest;

TEST_CASE("UPGrad and DualProj by hand", "[weighting][upgrad][dualproj]") {
  // g1 = (1,0), g2 = (-1,1); dual cone C = {x : x1 >= 0, x2 >= x1}.
  //  pi(g1): g2.g1 < 0 -> onto the face x2 = x1: (1/2, 1/2).
  //  pi(g2): g1.g2 < 0 -> onto the face x1 = 0: (0, 1).
  //  UPGrad = mean = (1/4, 3/4). DualProj: the mean (0, 1/2) is already in C.
  const Jac J = make2(1, 0, -1, 1);
  UPGrad<double> up;
  DualProj<double> dp;
  Vec d;
  up.combine_gradients(J, d);
  CHECK(d[0] == Approx(0.25));
  CHECK(d[1] == Approx(0.75));
  dp.combine_gradients(J, d);
  CHECK(d[0] == Approx(0.0).margin(1e-15));
  CHECK(d[1] == Approx(0.5));
  // DualProj with a mean outside the cone: g1 = (1,0), g2 = (-2,1), mean (-1/2, 1/2) violates
  // x1 >= 0 (g1.mean < 0); g2.mean = 3/2 > 0. Projection onto {x1 = 0}: (0, 1/2), which also
  // satisfies g2.x = 1/2 >= 0.
  dp.combine_gradients(make2(1, 0, -2, 1), d);
  CHECK(d[0] == Approx(0.0).margin(1e-15));
  CHECK(d[1] == Approx(0.5));
  // No conflict: both are the mean gradient; with pref = 1 the sum.
  const Jac A = make2(1, 0, 1, 1);
  up.combine_gradients(A, d);
  CHECK(d.isApprox(Vec(A.colwise().mean().transpose())));
  dp.combine_gradients(A, d);
  CHECK(d.isApprox(Vec(A.colwise().mean().transpose())));
  DualConeOptions<double> sum;
  sum.pref = {1.0, 1.0};
  UPGrad<double> up_sum(sum);
  up_sum.combine_gradients(A, d);
  CHECK(d.isApprox(Vec(A.colwise().sum().transpose())));
  // Opposite gradients: the cone is the orthogonal complement -> 0 in that direction.
  up.combine_gradients(make2(1, 0, -1, 0), d);
  CHECK(d.norm() < 1e-12);
  // Checks.
  DualConeOptions<double> bad;
  bad.pref = {1.0, 1.0, 1.0};
  DualProj<double> dp3(bad);
  CHECK_THROWS_WITH(dp3.combine_gradients(A, d),
                    Catch::Contains("dualproj") && Catch::Contains("3 entries"));
  bad.pref = {-1.0, -1.0};
  CHECK_THROWS_AS(UPGrad<double>(bad), std::invalid_argument);
}

TEST_CASE("DualProj returns the projection of the mean (KKT)", "[weighting][dualproj]") {
  onestone::Generator gen(37);
  DualProj<double> dp;
  for (int trial = 0; trial < 50; ++trial) {
    const int t = 2 + trial % 6, p = 1 + trial % 9;
    const Jac J = random_jacobian(gen, t, p);
    Vec d;
    dp.combine_gradients(J, d);
    CHECK(dp.converged());
    // d = J'w with w = u + lambda, lambda >= 0, J d >= 0, lambda_j (J d)_j = 0: exactly the KKT
    // conditions of min |x - mean|^2 s.t. J x >= 0.
    const Vec lambda = dp.weights() - Vec::Constant(t, 1.0 / t);
    const Vec s = J * d;
    const double scale = J.squaredNorm();
    CHECK(lambda.minCoeff() >= -1e-12);
    CHECK(s.minCoeff() >= -1e-9 * scale);
    CHECK(lambda.cwiseProduct(s).cwiseAbs().maxCoeff() <= 1e-9 * scale);
  }
}

TEST_CASE("UPGrad averages the projections of every row", "[weighting][upgrad]") {
  onestone::Generator gen(41);
  UPGrad<double> up;
  DualProj<double> single;
  for (int trial = 0; trial < 40; ++trial) {
    const int t = 2 + trial % 5;
    const Jac J = random_jacobian(gen, t, 2 + trial % 7);
    Vec d;
    up.combine_gradients(J, d);
    CHECK(up.converged());
    // Reference: project each row separately with DualProj(pref = e_i) and average.
    Vec ref = Vec::Zero(J.cols());
    for (int i = 0; i < t; ++i) {
      DualConeOptions<double> o;
      o.pref.assign(static_cast<std::size_t>(t), 0.0);
      o.pref[static_cast<std::size_t>(i)] = 1.0;
      DualProj<double> proj(o);
      Vec pi;
      proj.combine_gradients(J, pi);
      ref += pi / t;
    }
    CHECK((d - ref).norm() <= 1e-9 * (1 + ref.norm()));
    CHECK((up.weights().array() >= 1.0 / t - 1e-12).all());  // w >= u (each w_i >= u_i e_i)
  }
}

}  // namespace test_weighting_dual_cone
