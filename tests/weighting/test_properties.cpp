// Property tests over random Jacobians: no conflict (g_i.d >= 0), task-permutation invariance,
// float instantiation and input checks for every combiner.
#include <catch2/catch.hpp>
#include <string>

#include "helpers.hpp"
#include "onestone/weighting/weighting.hpp"

using namespace onestone::weighting;
using namespace wtest;

TEST_CASE("Non-conflicting directions: J d >= 0", "[weighting][properties]") {
  onestone::Generator gen(101);
  MGDA<double> mgda;
  UPGrad<double> up;
  DualProj<double> dp;
  PCGrad<double> pc(3);
  for (int trial = 0; trial < 50; ++trial) {
    const int t = 2 + trial % 6, p = 1 + (trial * 7) % 12;  // includes T > P
    const Jac J = random_jacobian(gen, t, p);
    Vec d;
    mgda.combine(J, d);
    CHECK((J * d).minCoeff() >= -1e-9);
    up.combine(J, d);
    CHECK((J * d).minCoeff() >= -1e-9);
    dp.combine(J, d);
    CHECK((J * d).minCoeff() >= -1e-9);
    const Jac J2 = J.topRows(2);
    pc.combine(J2, d);
    CHECK((J2 * d).minCoeff() >= -1e-9);
  }
}

TEST_CASE("Non-conflicting directions with nearly opposed gradients", "[weighting][properties]") {
  // g1 = -g0/2 + 1e-6 r: the dual cone is a thin wedge and the projection weights are ~1e6-1e7;
  // MGDA's point is nearly 0. The factorised (QR/NNLS) and refined solvers keep J d >= 0 to
  // ~1e-10 relative.
  onestone::Generator gen(103);
  MGDA<double> mgda;
  UPGrad<double> up;
  DualProj<double> dp;
  for (int trial = 0; trial < 50; ++trial) {
    const int t = 2 + trial % 6, p = 2 + (trial * 5) % 12;
    Jac J = random_jacobian(gen, t, p);
    J.row(1) = -0.5 * J.row(0) + 1e-6 * J.row(1);
    const double s2 = J.rowwise().squaredNorm().maxCoeff();
    Vec d;
    mgda.combine(J, d);
    CHECK(mgda.solver_result().converged);
    CHECK((J * d).minCoeff() >= -1e-12 * s2);
    up.combine(J, d);
    CHECK(up.converged());
    CHECK((J * d).minCoeff() >= -1e-9 * s2);
    dp.combine(J, d);
    CHECK(dp.converged());
    CHECK((J * d).minCoeff() >= -1e-9 * s2);
  }
}

namespace {
template <typename Method>
void check_permutation_invariance(Method& method, int t, int p, double tol, std::uint64_t seed) {
  onestone::Generator gen(seed);
  for (int trial = 0; trial < 20; ++trial) {
    const Jac J = random_jacobian(gen, t, p);
    const auto P = random_perm(gen, t);
    const Jac JP = P * J;
    Vec d1, d2;
    method.combine(J, d1);
    method.combine(JP, d2);
    INFO(Method::name() << " trial " << trial);
    CHECK((d1 - d2).norm() <= tol * (1 + d1.norm()));
  }
}
}  // namespace

TEST_CASE("Permutation invariance", "[weighting][properties]") {
  for (int t : {3, 5}) {
    MGDA<double> mgda;
    check_permutation_invariance(mgda, t, 8, 1e-7, 1);
    MGDA<double> mgda_l2(MGDANormalization::l2);
    check_permutation_invariance(mgda_l2, t, 8, 1e-7, 2);
    UPGrad<double> up;
    check_permutation_invariance(up, t, 8, 1e-9, 3);
    DualProj<double> dp;
    check_permutation_invariance(dp, t, 8, 1e-9, 4);
    IMTLG<double> imtl;
    check_permutation_invariance(imtl, t, 8, 1e-9, 5);
    NashMTL<double> nash;
    check_permutation_invariance(nash, t, 8, 1e-8, 6);
    AlignedMTL<double> al;
    check_permutation_invariance(al, t, 8, 1e-9, 7);
    ConFIG<double> cf;
    check_permutation_invariance(cf, t, 8, 1e-9, 8);
    CAGrad<double> cag;
    check_permutation_invariance(cag, t, 8, 1e-7, 9);
    Equal<double> eq;
    check_permutation_invariance(eq, t, 8, 1e-12, 10);
  }
  // Rank-deficient Jacobians (more tasks than parameters) for the dual-cone methods, whose
  // directions stay unique.
  UPGrad<double> up;
  check_permutation_invariance(up, 6, 3, 1e-8, 11);
  DualProj<double> dp;
  check_permutation_invariance(dp, 6, 3, 1e-8, 12);
  MGDA<double> mgda;
  check_permutation_invariance(mgda, 6, 3, 1e-6, 13);
}

namespace {
// Runs the float instantiation next to the double one on the same (well-conditioned) Jacobian.
template <template <typename> class Method, typename... Args>
void float_matches_double(const Jac& J, double tol, Args... args) {
  Method<double> md(args...);
  Method<float> mf(args...);
  Vec dd;
  Vector<float> df;
  md.combine(J, dd);
  const Jacobian<float> Jf = J.cast<float>();
  mf.combine(Jf, df);
  INFO(Method<double>::name());
  CHECK((df.cast<double>() - dd).norm() <= tol * (1 + dd.norm()));
}
}  // namespace

TEST_CASE("float instantiations agree with double", "[weighting][properties]") {
  Jac J(3, 4);
  J << 1.0, 0.2, -0.3, 0.1, -0.4, 1.1, 0.2, 0.0, 0.3, -0.2, 0.9, 0.5;
  float_matches_double<Equal>(J, 1e-6);
  float_matches_double<MGDA>(J, 1e-4);
  float_matches_double<PCGrad>(J, 1e-5, std::uint64_t(1));
  float_matches_double<GradVac>(J, 1e-5, 0.01, std::uint64_t(1));
  float_matches_double<IMTLG>(J, 1e-4);
  float_matches_double<CAGrad>(J, 1e-4);
  float_matches_double<NashMTL>(J, 1e-4);
  float_matches_double<AlignedMTL>(J, 1e-4);
  float_matches_double<UPGrad>(J, 1e-4);
  float_matches_double<DualProj>(J, 1e-4);
  float_matches_double<ConFIG>(J, 1e-4);
  float_matches_double<MoCo>(J, 1e-5);
  // GradDrop draws in double and compares in T: same seed, same masks.
  float_matches_double<GradDrop>(J, 1e-6, std::uint64_t(4));
}

namespace {
template <typename Method>
void check_bad_input(Method& m) {
  Vec d;
  const std::string name = Method::name();
  CHECK_THROWS_WITH(m.combine(Jac(0, 4), d), Catch::Contains(name) && Catch::Contains("0x4"));
  CHECK_THROWS_WITH(m.combine(Jac(2, 0), d), Catch::Contains(name) && Catch::Contains("2x0"));
  Jac J = Jac::Identity(2, 3);
  J(0, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH(m.combine(J, d), Catch::Contains(name) && Catch::Contains("2x3"));
  J(0, 2) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(m.combine(J, d), std::invalid_argument);
}
}  // namespace

TEST_CASE("Every combiner rejects empty and non-finite Jacobians", "[weighting][properties]") {
  Equal<double> a;
  check_bad_input(a);
  MGDA<double> b;
  check_bad_input(b);
  PCGrad<double> c;
  check_bad_input(c);
  GradDrop<double> e;
  check_bad_input(e);
  GradVac<double> f;
  check_bad_input(f);
  IMTLG<double> g;
  check_bad_input(g);
  CAGrad<double> h;
  check_bad_input(h);
  NashMTL<double> i;
  check_bad_input(i);
  AlignedMTL<double> j;
  check_bad_input(j);
  UPGrad<double> k;
  check_bad_input(k);
  DualProj<double> l;
  check_bad_input(l);
  ConFIG<double> m;
  check_bad_input(m);
  MoCo<double> n;
  check_bad_input(n);
}

TEST_CASE("A single task", "[weighting][properties]") {
  Jac J(1, 3);
  J << 3, 0, -4;  // |g| = 5
  const Vec g = J.row(0).transpose();
  Vec d;
  Equal<double> eq;
  eq.combine(J, d);
  CHECK(d.isApprox(g));
  MGDA<double> mgda;
  mgda.combine(J, d);
  CHECK(d.isApprox(g));
  PCGrad<double> pc;
  pc.combine(J, d);
  CHECK(d.isApprox(g));
  GradVac<double> gv;
  gv.combine(J, d);
  CHECK(d.isApprox(g));
  GradDrop<double> gd;
  gd.combine(J, d);
  CHECK(d.isApprox(g));
  IMTLG<double> imtl;
  imtl.combine(J, d);
  CHECK(d.isApprox(g));
  AlignedMTL<double> al;
  al.combine(J, d);
  CHECK(d.isApprox(g));
  UPGrad<double> up;
  up.combine(J, d);
  CHECK(d.isApprox(g));
  DualProj<double> dp;
  dp.combine(J, d);
  CHECK(d.isApprox(g));
  ConFIG<double> cf;
  cf.combine(J, d);
  CHECK(d.isApprox(g));
  MoCo<double> moco;
  moco.combine(J, d);
  CHECK(d.isApprox(g));
  NashMTL<double> nash;  // alpha = 1/|g|: the unit gradient
  nash.combine(J, d);
  CHECK(d.isApprox(g / 5.0));
  CAGrad<double> cag;  // w = 1, lambda = c: d = (1 + c) g / (1 + c^2) = 1.2 g
  cag.combine(J, d);
  CHECK(d.isApprox(1.2 * g));
}
