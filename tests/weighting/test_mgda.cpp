// MGDA (Sener & Koltun 2018) and Equal: hand-derived cases, normalisations, input checks.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "onestone/weighting/weighting.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_mgda {

using namespace onestone::weighting;
using namespace wtest;

TEST_CASE("Sum sums the rows", "[weighting][equal]") {
  Sum<double> eq;
  Vec d;
  eq.combine_gradients(make2(1, 2, 3, -5), d);
  CHECK(d[0] == 4.0);
  CHECK(d[1] == -3.0);
  CHECK(eq.weights() == Vec::Ones(2));
  CHECK_THROWS_WITH(eq.combine_gradients(Jac(0, 3), d),
                    Catch::Contains("sum") && Catch::Contains("0x3"));
}

TEST_CASE("MGDA hand-derived cases", "[weighting][mgda]") {
  MGDA<double> mgda;
  Vec d;
  // Two orthogonal unit gradients: weights (1/2, 1/2).
  mgda.combine_gradients(make2(1, 0, 0, 1), d);
  CHECK(mgda.weights()[0] == Approx(0.5));
  CHECK(mgda.weights()[1] == Approx(0.5));
  CHECK(d[0] == Approx(0.5));
  CHECK(d[1] == Approx(0.5));
  // g1 = (1,0), g2 = (0,2): min-norm point gamma = 4/5, d = (0.8, 0.4).
  mgda.combine_gradients(make2(1, 0, 0, 2), d);
  CHECK(mgda.weights()[0] == Approx(0.8));
  CHECK(d[0] == Approx(0.8));
  CHECK(d[1] == Approx(0.4));
  // Conflicting g1 = (1,0), g2 = (-1,1): gamma = 3/5, d = (0.2, 0.4), both g_i.d = 0.2 = |d|^2.
  mgda.combine_gradients(make2(1, 0, -1, 1), d);
  CHECK(d[0] == Approx(0.2));
  CHECK(d[1] == Approx(0.4));
  // Dominated direction: g2 = 2*g1 -> the smaller one.
  mgda.combine_gradients(make2(1, 1, 2, 2), d);
  CHECK(mgda.weights()[0] == Approx(1.0));
  CHECK(d[0] == Approx(1.0));
  // Three orthonormal gradients: 1/3 each.
  Jac J3 = Jac::Identity(3, 4);
  mgda.combine_gradients(J3, d);
  for (int i = 0; i < 3; ++i) CHECK(mgda.weights()[i] == Approx(1.0 / 3));
  CHECK(d[3] == 0.0);
  // Opposite gradients: Pareto stationary, d = 0.
  mgda.combine_gradients(make2(1, 0, -1, 0), d);
  CHECK(d.norm() == Approx(0.0).margin(1e-12));
}

TEST_CASE("MGDA normalisations (Sener & Koltun's code)", "[weighting][mgda]") {
  const Jac J = make2(1, 0, 0, 2);
  Vec d, losses(2);
  losses << 2.0, 1.0;
  {  // l2: normalised gradients orthonormal -> w = (1/2, 1/2) applied to the raw gradients.
    MGDA<double> m(MGDANormalization::l2);
    m.combine_gradients(J, d);
    CHECK(m.simplex_weights()[0] == Approx(0.5));
    CHECK(d[0] == Approx(0.5));
    CHECK(d[1] == Approx(1.0));
    CHECK(m.normalizers()[1] == Approx(2.0));
  }
  {  // l2 on the normalised gradients (LibMTL's variant): d = (1/2, 1/2).
    MGDAOptions<double> opt;
    opt.normalization = MGDANormalization::l2;
    opt.combine_normalized = true;
    MGDA<double> m(opt);
    m.combine_gradients(J, d);
    CHECK(d[0] == Approx(0.5));
    CHECK(d[1] == Approx(0.5));
    CHECK(m.weights()[1] == Approx(0.25));
  }
  {  // loss: g/L = (0.5,0), (0,2) -> w ∝ (1/0.25, 1/4) = (16/17, 1/17).
    MGDA<double> m(MGDANormalization::loss);
    m.combine_gradients(J, losses, d);
    CHECK(m.weights()[0] == Approx(16.0 / 17));
    CHECK(d[0] == Approx(16.0 / 17));
    CHECK(d[1] == Approx(2.0 / 17));
  }
  {  // loss+: n = L|g| = (2, 2) -> (0.5,0), (0,1) -> w = (0.8, 0.2).
    MGDA<double> m(MGDANormalization::loss_plus);
    m.combine_gradients(J, losses, d);
    CHECK(m.weights()[0] == Approx(0.8));
    CHECK(d[0] == Approx(0.8));
    CHECK(d[1] == Approx(0.4));
  }
}

TEST_CASE("MGDA-l2 is invariant to the norm of each gradient", "[weighting][mgda]") {
  onestone::Generator gen(21);
  MGDAOptions<double> opt;
  opt.normalization = MGDANormalization::l2;
  opt.combine_normalized = true;
  MGDA<double> a(opt), b(opt);
  for (int trial = 0; trial < 20; ++trial) {
    Jac J = random_jacobian(gen, 4, 6);
    Vec d1, d2;
    a.combine_gradients(J, d1);
    const Vec w1 = a.simplex_weights();
    for (int i = 0; i < 4; ++i) J.row(i) *= 0.1 + 10 * gen.uniform();
    b.combine_gradients(J, d2);
    CHECK((b.simplex_weights() - w1).cwiseAbs().maxCoeff() < 1e-7);
    CHECK((d1 - d2).norm() < 1e-7 * d1.norm() + 1e-12);
  }
}

TEST_CASE("MGDA input checks", "[weighting][mgda]") {
  Vec d, losses(3);
  losses << 1, 2, 3;
  MGDA<double> plain;
  CHECK_THROWS_AS(plain.combine_gradients(Jac(0, 0), d), std::invalid_argument);
  Jac J = make2(1, 0, 0, 1);
  J(1, 1) = std::nan("");
  CHECK_THROWS_WITH(plain.combine_gradients(J, d),
                    Catch::Contains("mgda") && Catch::Contains("NaN"));
  MGDA<double> byloss(MGDANormalization::loss);
  CHECK_THROWS_AS(byloss.combine_gradients(make2(1, 0, 0, 1), d),
                  std::invalid_argument);  // no losses
  CHECK_THROWS_WITH(byloss.combine_gradients(make2(1, 0, 0, 1), losses, d),
                    Catch::Contains("mgda") && Catch::Contains("2x2") && Catch::Contains("3"));
  Vec neg(2);
  neg << 1, -1;
  CHECK_THROWS_AS(byloss.combine_gradients(make2(1, 0, 0, 1), neg, d), std::invalid_argument);
  // The losses are unused by the none/l2 normalisations but still checked when given.
  CHECK_THROWS_AS(plain.combine_gradients(make2(1, 0, 0, 1), losses, d), std::invalid_argument);
  CHECK_NOTHROW(plain.combine_gradients(make2(1, 0, 0, 1), neg, d));
}

}  // namespace test_weighting_mgda
