// Stateful combiners over several steps: MoCo (Fernando et al. 2023) and GradVac.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "onestone/weighting/weighting.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_stateful {

using namespace onestone::weighting;
using namespace wtest;

TEST_CASE("MoCo: first two steps by hand", "[weighting][moco]") {
  // J = diag(1, 2): G = diag(1, 4), lambda0 = (1/2, 1/2), gamma_k = 0.1/sqrt(k).
  // Step 1: Y = J; lambda - 0.1 G lambda = (0.45, 0.30); simplex projection adds
  //         (1 - 0.75)/2 = 0.125: lambda1 = (0.575, 0.425); d = Y'lambda = (0.575, 0.85).
  const Jac J = make2(1, 0, 0, 2);
  MoCo<double> moco;
  Vec d;
  moco.combine_gradients(J, d);
  CHECK(moco.weights()[0] == Approx(0.575));
  CHECK(moco.weights()[1] == Approx(0.425));
  CHECK(d[0] == Approx(0.575));
  CHECK(d[1] == Approx(0.85));
  // Step 2 with J2 = [[3, 0], [0, 2]]: beta_2 = 0.5/sqrt2,
  // Y = J + beta_2 (J2 - J) = diag(1 + 2 beta_2, 2).
  // gamma_2 = 0.1/sqrt2; lambda' = lambda1 - gamma_2 diag(y11^2, 4) lambda1, then projected.
  const Jac J2 = make2(3, 0, 0, 2);
  moco.combine_gradients(J2, d);
  const double b2 = 0.5 / std::sqrt(2.0), g2 = 0.1 / std::sqrt(2.0);
  const double y11 = 1 + 2 * b2;
  CHECK(moco.tracked()(0, 0) == Approx(y11));
  CHECK(moco.tracked()(1, 1) == Approx(2.0));
  const double l1 = 0.575 - g2 * y11 * y11 * 0.575, l2 = 0.425 - g2 * 4 * 0.425;
  const double shift = (1 - l1 - l2) / 2;  // both stay positive here
  CHECK(moco.weights()[0] == Approx(l1 + shift));
  CHECK(moco.weights()[1] == Approx(l2 + shift));
  CHECK(d[0] == Approx(y11 * (l1 + shift)));
  CHECK(d[1] == Approx(2 * (l2 + shift)));
  CHECK(moco.steps() == 2);
  // Shape change needs reset.
  CHECK_THROWS_WITH(moco.combine_gradients(Jac::Identity(3, 2), d),
                    Catch::Contains("moco") && Catch::Contains("reset"));
  moco.reset(2);
  moco.combine_gradients(J, d);
  CHECK(moco.weights()[0] == Approx(0.575));
}

TEST_CASE("MoCo: with a fixed Jacobian lambda converges to MGDA's weights", "[weighting][moco]") {
  onestone::Generator gen(43);
  for (int trial = 0; trial < 5; ++trial) {
    const Jac J = random_jacobian(gen, 3, 5);
    MoCo<double> moco;
    MGDA<double> mgda;
    Vec d, dm;
    for (int k = 0; k < 20000; ++k) moco.combine_gradients(J, d);
    mgda.combine_gradients(J, dm);
    // Same min-norm point (weights may differ only if G is singular, which it is not here).
    CHECK((d - dm).norm() < 1e-3 * (1 + dm.norm()));
  }
  // Noisy gradients around a fixed J: the tracked gradients average the noise.
  const Jac J = make2(1, 0, 0, 1);
  MoCo<double> moco;
  Vec d;
  for (int k = 0; k < 20000; ++k) {
    Jac noisy = J;
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) noisy(i, j) += 0.5 * gen.normal();
    moco.combine_gradients(noisy, d);
  }
  CHECK((moco.tracked() - J).cwiseAbs().maxCoeff() < 0.05);
  CHECK(moco.weights()[0] == Approx(0.5).margin(0.05));
}

TEST_CASE("MoCo: loss normalisation option", "[weighting][moco]") {
  MoCoOptions opt;
  opt.normalize_by_loss = true;
  MoCo<double> moco(opt);
  Vec d, losses(2);
  losses << 2.0, 1.0;
  moco.combine_gradients(make2(4, 0, 0, 3), losses, d);  // rows become (2, 0) and (0, 1)
  CHECK(moco.tracked()(0, 0) == Approx(2.0));
  CHECK(moco.tracked()(1, 1) == Approx(1.0));
  CHECK_THROWS_AS(moco.combine_gradients(make2(4, 0, 0, 3), d),
                  std::invalid_argument);  // no losses
}

TEST_CASE("GradVac over many steps: targets follow the EMA of the cosines",
          "[weighting][gradvac]") {
  onestone::Generator gen(47);
  const double beta = 0.01;
  GradVac<double> gv(beta, 5);
  // A fixed pair with cosine c: phi is measured before correction, so with two tasks every step
  // sees phi = c and the target after k steps is c (1 - (1 - beta)^k).
  Jac J(2, 3);
  J << 1, 0, 0, 0.6, 0.8, 0;  // c = 0.6
  Vec d;
  for (int k = 1; k <= 200; ++k) {
    gv.combine_gradients(J, d);
    CHECK(gv.targets()(0, 1) == Approx(0.6 * (1 - std::pow(1 - beta, k))));
  }
  // Once the targets are high, a gradient pair with a lower cosine is corrected up to them.
  const double t01 = gv.targets()(0, 1), t10 = gv.targets()(1, 0);
  J << 1, 0, 0, 0, 1, 0;  // orthogonal now
  gv.combine_gradients(J, d);
  const Vec g0c = J.transpose() * gv.coefficients().row(0).transpose();
  const Vec g1c = J.transpose() * gv.coefficients().row(1).transpose();
  CHECK(cosine(g0c, J.row(1).transpose()) == Approx(t01));
  CHECK(cosine(g1c, J.row(0).transpose()) == Approx(t10));
  // Random sequences: d always equals the sum of the corrected gradients, which never have a
  // cosine below the target with a partner visited last (two tasks: the only partner).
  for (int k = 0; k < 50; ++k) {
    const Jac R = random_jacobian(gen, 2, 4);
    Mat before = gv.targets();
    gv.combine_gradients(R, d);
    const Mat& C = gv.coefficients();
    CHECK(d.isApprox(R.transpose() * C.colwise().sum().transpose()));
    for (int i = 0; i < 2; ++i) {
      const int j = 1 - i;
      const Vec gi = R.transpose() * C.row(i).transpose();
      CHECK(cosine(gi, R.row(j).transpose()) >= before(i, j) - 1e-9);
    }
  }
}

}  // namespace test_weighting_stateful
