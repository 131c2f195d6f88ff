// IMTL-G, Aligned-MTL, ConFIG, Nash-MTL and CAGrad: hand-derived cases and defining properties.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "onestone/weighting/weighting.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_closed_form {

using namespace onestone::weighting;
using namespace wtest;

TEST_CASE("IMTL-G: equal projections on every unit gradient", "[weighting][imtl]") {
  IMTLG<double> imtl;
  Vec d;
  // g1 = (2,0), g2 = (0,1): d = (2a1, a2), 2a1 = a2, a1 + a2 = 1 -> a = (1/3, 2/3), d = (2/3, 2/3).
  imtl.combine_gradients(make2(2, 0, 0, 1), d);
  CHECK(imtl.weights()[0] == Approx(1.0 / 3));
  CHECK(imtl.weights()[1] == Approx(2.0 / 3));
  CHECK(d[0] == Approx(2.0 / 3));
  CHECK(d[1] == Approx(2.0 / 3));
  // One task: the gradient itself.
  Jac one(1, 3);
  one << 1, 2, 3;
  imtl.combine_gradients(one, d);
  CHECK(d.isApprox(one.row(0).transpose()));
  onestone::Generator gen(17);
  for (int trial = 0; trial < 30; ++trial) {
    const int t = 2 + trial % 5;
    Jac J = random_jacobian(gen, t, 10);
    for (int i = 0; i < t; ++i) J.row(i) *= 0.1 + 5 * gen.uniform();
    imtl.combine_gradients(J, d);
    CHECK(imtl.weights().sum() == Approx(1.0));
    const double p0 = d.dot(J.row(0).normalized());
    for (int i = 1; i < t; ++i) CHECK(d.dot(J.row(i).normalized()) == Approx(p0).epsilon(1e-8));
    // Scaling every gradient by c keeps alpha and scales d.
    const Vec a = imtl.weights();
    Vec d2;
    imtl.combine_gradients(3.5 * J, d2);
    CHECK((imtl.weights() - a).cwiseAbs().maxCoeff() < 1e-9);
    CHECK(d2.isApprox(3.5 * d, 1e-9));
  }
  Jac zero = make2(1, 0, 0, 0);
  // A zero gradient leaves the weights undefined: the step falls back to the previous weights.
  const auto before = imtl.fallbacks();
  imtl.combine_gradients(zero, d);
  CHECK(imtl.fallbacks() == before + 1);
  CHECK_THAT(imtl.last_error(),
             Catch::Contains("imtl_g") && Catch::Contains("task 1 has a zero gradient"));
}

TEST_CASE("Aligned-MTL: hand case and the Gram condition", "[weighting][aligned]") {
  AlignedMTL<double> al;
  Vec d;
  // J = diag(2, 1): G = diag(4, 1), sigma = 1, B = diag(1/2, 1), alpha = (1/2, 1), d = (1, 1).
  al.combine_gradients(make2(2, 0, 0, 1), d);
  CHECK(al.sigma() == Approx(1.0));
  CHECK(al.weights()[0] == Approx(0.5));
  CHECK(al.weights()[1] == Approx(1.0));
  CHECK(d[0] == Approx(1.0));
  CHECK(d[1] == Approx(1.0));
  onestone::Generator gen(19);
  for (int trial = 0; trial < 30; ++trial) {
    const int t = 2 + trial % 5;
    const Jac J = random_jacobian(gen, t, 8);
    al.combine_gradients(J, d);
    const Mat& B = al.balance_matrix();
    const Mat Ja = B * J;  // aligned gradients
    const double s = al.sigma();
    // Aligned Gram matrix = sigma * I: orthogonal, equal norms sqrt(sigma).
    CHECK((Ja * Ja.transpose() - s * Mat::Identity(t, t)).cwiseAbs().maxCoeff() < 1e-9 * s);
    // d is the sum of the aligned gradients; each has the same projection sigma on d.
    CHECK(d.isApprox(Ja.colwise().sum().transpose(), 1e-10));
    for (int i = 0; i < t; ++i) CHECK(Ja.row(i).dot(d) == Approx(s).epsilon(1e-8));
    CHECK(s == Approx(al.eigenvalues().minCoeff()));
    // Global scaling: B unchanged, d scaled.
    Vec d2;
    al.combine_gradients(2.0 * J, d2);
    CHECK(d2.isApprox(2.0 * d, 1e-9));
  }
  // Rank-deficient (4 tasks in 2 dimensions): B G B = sigma * (projector onto the range).
  const Jac J = random_jacobian(gen, 4, 2);
  al.combine_gradients(J, d);
  CHECK(al.eigenvalues().size() == 2);
  const Mat& B = al.balance_matrix();
  const Mat A = B * J * J.transpose() * B;
  CHECK((A * A - al.sigma() * A).cwiseAbs().maxCoeff() < 1e-9);
  CHECK(A.trace() == Approx(2 * al.sigma()));
  // Other scales.
  AlignedMTL<double> med(AlignedScale::median), rmse(AlignedScale::rmse);
  Jac D = Jac::Zero(3, 3);
  D.diagonal() << 3, 2, 1;  // eigenvalues 9, 4, 1
  med.combine_gradients(D, d);
  CHECK(med.sigma() == Approx(4.0));
  rmse.combine_gradients(D, d);
  CHECK(rmse.sigma() == Approx(14.0 / 3));
  // All zero.
  al.combine_gradients(Jac::Zero(2, 3), d);
  CHECK(d.norm() == 0.0);
}

TEST_CASE("ConFIG: equal positive cosine with every gradient", "[weighting][config]") {
  ConFIG<double> cf;
  Vec d;
  // Orthonormal: u = (1,1)/sqrt2, length = 2/sqrt2 -> d = (1, 1).
  cf.combine_gradients(make2(1, 0, 0, 1), d);
  CHECK(d[0] == Approx(1.0));
  CHECK(d[1] == Approx(1.0));
  // g1 = (2,0), g2 = (0,1): same unit direction, length (2 + 1)/sqrt2 -> d = (3/2, 3/2).
  cf.combine_gradients(make2(2, 0, 0, 1), d);
  CHECK(d[0] == Approx(1.5));
  CHECK(d[1] == Approx(1.5));
  // Conflicting g1 = (1,0), g2 = (-1,1): unit rows u1 = (1,0), u2 = (-1,1)/sqrt2; U v = 1 gives
  // v = (1, 1 + sqrt2), |v|^2 = 4 + 2 sqrt2; length = (g1 + g2).v/|v| = (1 + sqrt2)/|v|;
  // d = (1 + sqrt2)/(4 + 2 sqrt2) v = v/(2 sqrt2) = (0.35355, 0.85355).
  cf.combine_gradients(make2(1, 0, -1, 1), d);
  CHECK(d[0] == Approx(1 / (2 * std::sqrt(2.0))));
  CHECK(d[1] == Approx((1 + std::sqrt(2.0)) / (2 * std::sqrt(2.0))));
  onestone::Generator gen(23);
  for (int trial = 0; trial < 30; ++trial) {
    const int t = 2 + trial % 5;
    Jac J = random_jacobian(gen, t, 9);
    cf.combine_gradients(J, d);
    const double c0 = cosine(d, J.row(0).transpose());
    CHECK(c0 > 0);
    for (int i = 1; i < t; ++i) CHECK(cosine(d, J.row(i).transpose()) == Approx(c0).epsilon(1e-8));
    // Length: the sum of the projections of the gradients on d's direction.
    CHECK(d.norm() == Approx((J * d.normalized()).sum()).epsilon(1e-10));
    // Direction invariant to each gradient's norm.
    const Vec u = d.normalized();
    J.row(0) *= 7.0;
    cf.combine_gradients(J, d);
    CHECK((d.normalized() - u).norm() < 1e-9);
  }
  const auto before = cf.fallbacks();
  cf.combine_gradients(make2(0, 0, 1, 1), d);  // a zero gradient: falls back
  CHECK(cf.fallbacks() == before + 1);
  CHECK_THAT(cf.last_error(),
             Catch::Contains("config") && Catch::Contains("task 0 has a zero gradient"));
}

TEST_CASE("Nash-MTL: bargaining equations and scale invariance", "[weighting][nash]") {
  NashMTL<double> nash;
  Vec d;
  // Orthogonal gradients: alpha_i = 1/|g_i|, d = sum of unit gradients.
  Jac J3 = Jac::Zero(3, 4);
  J3(0, 0) = 2.0;
  J3(1, 1) = 0.5;
  J3(2, 3) = -4.0;
  nash.combine_gradients(J3, d);
  CHECK(nash.weights()[0] == Approx(0.5));
  CHECK(nash.weights()[1] == Approx(2.0));
  CHECK(nash.weights()[2] == Approx(0.25));
  CHECK(d[0] == Approx(1.0));
  CHECK(d[1] == Approx(1.0));
  CHECK(d[3] == Approx(-1.0));
  onestone::Generator gen(29);
  for (int trial = 0; trial < 40; ++trial) {
    const int t = 2 + trial % 5;
    Jac J = random_jacobian(gen, t, 10);
    nash.reset(t);
    nash.combine_gradients(J, d);
    const Vec& a = nash.weights();
    const Mat G = J * J.transpose();
    CHECK((G * a - a.cwiseInverse()).norm() < 1e-6);
    CHECK(a.minCoeff() > 0);
    for (int i = 0; i < t; ++i) CHECK(J.row(i).dot(d) == Approx(1.0 / a[i]).epsilon(1e-8));
    // Scaling one gradient by c divides its alpha by c and leaves d unchanged.
    const Vec a0 = a, d0 = d;
    J.row(0) *= 4.0;
    nash.combine_gradients(J, d);
    CHECK(nash.weights()[0] == Approx(a0[0] / 4.0).epsilon(1e-8));
    CHECK((d - d0).norm() < 1e-8 * d0.norm());
  }
  // Opposite gradients have no bargaining solution; a zero gradient neither: those steps fall
  // back to the previous weights.
  nash.reset(2);
  nash.combine_gradients(make2(1, 0, -1, 0), d);
  CHECK(nash.fallbacks() == 1);
  nash.combine_gradients(make2(1, 0, 0, 0), d);
  CHECK(nash.fallbacks() == 2);
  CHECK_THAT(nash.last_error(), Catch::Contains("zero gradient"));
  // Still usable afterwards.
  nash.combine_gradients(make2(1, 0, 0, 1), d);
  CHECK(d[0] == Approx(1.0));
}

TEST_CASE("CAGrad: c = 0 is the mean, hand case, and the maximin property", "[weighting][cagrad]") {
  onestone::Generator gen(31);
  CAGrad<double> mean(0.0);
  Vec d;
  for (int trial = 0; trial < 10; ++trial) {
    const Jac J = random_jacobian(gen, 2 + trial % 4, 7);
    mean.combine_gradients(J, d);
    CHECK(d.isApprox(J.colwise().mean().transpose(), 1e-12));
  }
  // Orthonormal g1, g2: g0 = (1/2,1/2), |g0| = 1/sqrt2, sqrt(phi) = c|g0|; by symmetry
  // w = (1/2,1/2), g_w = g0, d = g0 + c g0 = 1.5 g0 = (0.75, 0.75); rescale 1/(1 + c^2) -> 0.6.
  CAGrad<double> sq(0.5), none(0.5, CAGradRescale::none), lin(0.5, CAGradRescale::linear);
  const Jac I = make2(1, 0, 0, 1);
  sq.combine_gradients(I, d);
  CHECK(d[0] == Approx(0.6));
  CHECK(d[1] == Approx(0.6));
  none.combine_gradients(I, d);
  CHECK(d[0] == Approx(0.75));
  lin.combine_gradients(I, d);
  CHECK(d[0] == Approx(0.5));
  // Random: |d - g0| = c|g0| and d maximises min_i g_i.d over that ball; tasks in the support of
  // the dual weights all attain the minimum.
  for (int trial = 0; trial < 30; ++trial) {
    const int t = 2 + trial % 4;
    const Jac J = random_jacobian(gen, t, 6);
    none.combine_gradients(J, d);
    CHECK(none.solver_result().converged);
    const Vec g0 = J.colwise().mean().transpose();
    CHECK((d - g0).norm() == Approx(0.5 * g0.norm()).epsilon(1e-9));
    const Vec s = J * d;
    const double best = s.minCoeff();
    for (int i = 0; i < t; ++i)
      if (none.simplex_weights()[i] > 1e-8) CHECK(s[i] == Approx(best).epsilon(1e-7));
    for (int k = 0; k < 100; ++k) {
      Vec u(6);
      for (int i = 0; i < 6; ++i) u[i] = gen.normal();
      const Vec dd = g0 + 0.5 * g0.norm() * u.normalized();
      CHECK((J * dd).minCoeff() <= best + 1e-10);
    }
  }
  CHECK_THROWS_AS(CAGrad<double>(-1.0), std::invalid_argument);
}

}  // namespace test_weighting_closed_form
