// Tests of the task-balancing solvers: min_norm_2, min_norm (Frank–Wolfe), project_simplex,
// NonnegQP, the Nash-MTL solver and the CAGrad dual solver.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/solvers/cagrad_dual.hpp"
#include "onestone/weighting/solvers/min_norm.hpp"
#include "onestone/weighting/solvers/min_norm_2.hpp"
#include "onestone/weighting/solvers/nash.hpp"
#include "onestone/weighting/solvers/nnls.hpp"
#include "onestone/weighting/solvers/project_simplex.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_weighting_solvers {

using namespace onestone::weighting;
using Mat = Matrix<double>;
using Vec = Vector<double>;

namespace {
Jacobian<double> random_jacobian(onestone::Generator& gen, Eigen::Index t, Eigen::Index p) {
  Jacobian<double> J(t, p);
  for (Eigen::Index i = 0; i < t; ++i)
    for (Eigen::Index j = 0; j < p; ++j) J(i, j) = gen.normal();
  return J;
}
}  // namespace

TEST_CASE("min_norm_2 exact values", "[weighting][solvers]") {
  // x1 = (1,0), x2 = (0,1): midpoint, |(.5,.5)|^2 = .5
  auto r = solvers::min_norm_2(1.0, 0.0, 1.0);
  CHECK(r.gamma == Approx(0.5));
  CHECK(r.cost == Approx(0.5));
  // x1 = (1,0), x2 = (0,2): gamma = 4/5, point (0.8, 0.4), cost 0.8
  r = solvers::min_norm_2(1.0, 0.0, 4.0);
  CHECK(r.gamma == Approx(0.8));
  CHECK(r.cost == Approx(0.8));
  // x1 = (1,0), x2 = (2,1): v12 = 2 >= v11 = 1 -> x1 itself
  r = solvers::min_norm_2(1.0, 2.0, 5.0);
  CHECK(r.gamma == 1.0);
  CHECK(r.cost == 1.0);
  // x1 = (2,1), x2 = (1,0): x2 itself
  r = solvers::min_norm_2(5.0, 2.0, 1.0);
  CHECK(r.gamma == 0.0);
  CHECK(r.cost == 1.0);
  // x1 = (1,0), x2 = (-1,1): v11=1, v12=-1, v22=2 -> gamma = 3/5, point (1/5, 2/5), cost 1/5
  r = solvers::min_norm_2(1.0, -1.0, 2.0);
  CHECK(r.gamma == Approx(0.6));
  CHECK(r.cost == Approx(0.2));
  // opposite vectors: the origin
  r = solvers::min_norm_2(1.0, -1.0, 1.0);
  CHECK(r.gamma == Approx(0.5));
  CHECK(r.cost == Approx(0.0).margin(1e-15));
}

TEST_CASE("min_norm (Frank-Wolfe) agrees with brute force on 3 tasks", "[weighting][solvers]") {
  onestone::Generator gen(7);
  for (int trial = 0; trial < 20; ++trial) {
    const auto J = random_jacobian(gen, 3, trial % 2 == 0 ? 2 : 5);
    Mat G;
    gram(J, G);
    for (bool away : {true, false}) {
      solvers::MinNormOptions<double> opt;
      opt.away_steps = away;
      opt.max_iter = 20000;
      Vec w;
      const auto res = solvers::min_norm(G, w, opt);
      CHECK(w.minCoeff() >= 0.0);
      CHECK(w.sum() == Approx(1.0));
      CHECK(res.cost == Approx(w.dot(G * w)));
      // Grid search over the simplex, step 1/N.
      const int N = 400;
      double best = std::numeric_limits<double>::infinity();
      Vec wb(3), v(3);
      for (int a = 0; a <= N; ++a)
        for (int b = 0; a + b <= N; ++b) {
          v << double(a) / N, double(b) / N, double(N - a - b) / N;
          const double c = v.dot(G * v);
          if (c < best) best = c, wb = v;
        }
      // FW is at least as good as the grid and the grid is within its resolution of FW.
      CHECK(res.cost <= best + 1e-12);
      const double lip = 2.0 * G.cwiseAbs().sum() / N;  // |f(v) - f(v')| bound at grid spacing
      CHECK(best - res.cost <= lip);
      if (J.cols() >= 3) {  // G positive definite: unique minimiser
        CHECK((w - wb).cwiseAbs().maxCoeff() < 0.05);
      }
      if (away) CHECK(res.converged);
    }
  }
}

TEST_CASE("min_norm: known solutions and KKT", "[weighting][solvers]") {
  Mat G = Mat::Identity(4, 4);
  Vec w;
  auto r = solvers::min_norm(G, w);
  CHECK(r.converged);
  for (int i = 0; i < 4; ++i) CHECK(w[i] == Approx(0.25));
  // Orthogonal with norms 1,2: w ∝ 1/|g|^2 = (0.8, 0.2)
  G = Mat::Zero(2, 2);
  G(0, 0) = 1;
  G(1, 1) = 4;
  solvers::min_norm(G, w);
  CHECK(w[0] == Approx(0.8));
  CHECK(w[1] == Approx(0.2));
  // All zero: centre
  G = Mat::Zero(3, 3);
  solvers::min_norm(G, w);
  CHECK(w[0] == Approx(1.0 / 3));
  // KKT on random 8-task problems: (Gw)_i >= w'Gw with equality on the support
  onestone::Generator gen(3);
  for (int trial = 0; trial < 20; ++trial) {
    const auto J = random_jacobian(gen, 8, 20);
    gram(J, G);
    r = solvers::min_norm(G, w);
    CHECK(r.converged);
    const Vec s = G * w;
    const double v = w.dot(s), scale = G.diagonal().maxCoeff();
    for (int i = 0; i < 8; ++i) {
      CHECK(s[i] >= v - 1e-8 * scale);
      if (w[i] > 1e-6) CHECK(std::abs(s[i] - v) <= 1e-6 * scale);
    }
  }
  CHECK_THROWS_AS(solvers::min_norm(Mat(0, 0), w), std::invalid_argument);
  Mat bad = Mat::Identity(2, 2);
  bad(0, 1) = std::nan("");
  CHECK_THROWS_AS(solvers::min_norm(bad, w), std::invalid_argument);
}

TEST_CASE("project_simplex known points", "[weighting][solvers]") {
  Vec v(3), x;
  v << 0.2, 0.1, -1.0;
  solvers::project_simplex(v, x);
  CHECK(x[0] == Approx(0.55));
  CHECK(x[1] == Approx(0.45));
  CHECK(x[2] == 0.0);
  v.resize(2);
  v << 2.0, 0.0;
  solvers::project_simplex(v, x);
  CHECK(x[0] == Approx(1.0));
  CHECK(x[1] == 0.0);
  v << 1.0, 1.0;
  solvers::project_simplex(v, x);
  CHECK(x[0] == Approx(0.5));
  CHECK(x[1] == Approx(0.5));
  v << 0.3, 0.7;  // already on the simplex
  solvers::project_simplex(v, x);
  CHECK(x[0] == Approx(0.3));
  CHECK(x[1] == Approx(0.7));
  v << 0.0, 0.0;  // radius 2
  solvers::project_simplex(v, x, 2.0);
  CHECK(x[0] == Approx(1.0));
  // In place, and the projection minimises the distance among random simplex points.
  onestone::Generator gen(11);
  Vec y(5), tmp;
  for (int trial = 0; trial < 50; ++trial) {
    for (int i = 0; i < 5; ++i) y[i] = 3 * gen.normal();
    Vec p;
    solvers::project_simplex(y, p, tmp);
    CHECK(p.sum() == Approx(1.0));
    CHECK(p.minCoeff() >= 0.0);
    for (int k = 0; k < 20; ++k) {
      Vec q(5);
      for (int i = 0; i < 5; ++i) q[i] = -std::log(gen.uniform() + 1e-300);
      q /= q.sum();
      CHECK((y - p).norm() <= (y - q).norm() + 1e-12);
    }
    Vec same = y;
    solvers::project_simplex(same, same, tmp);
    CHECK((same - p).norm() < 1e-14);
  }
  CHECK_THROWS_AS(solvers::project_simplex(Vec(), x), std::invalid_argument);
}

namespace {
// Exhaustive active-set enumeration for min ½x'Gx + q'x, x >= 0 (small n, G PD).
Vec brute_qp(const Mat& G, const Vec& q) {
  const int n = static_cast<int>(G.rows());
  double best = std::numeric_limits<double>::infinity();
  Vec xb = Vec::Zero(n);
  for (int mask = 0; mask < (1 << n); ++mask) {
    std::vector<int> idx;
    for (int i = 0; i < n; ++i)
      if (mask & (1 << i)) idx.push_back(i);
    Vec x = Vec::Zero(n);
    if (!idx.empty()) {
      const int k = static_cast<int>(idx.size());
      Mat S(k, k);
      Vec r(k);
      for (int a = 0; a < k; ++a) {
        r[a] = -q[idx[a]];
        for (int b = 0; b < k; ++b) S(a, b) = G(idx[a], idx[b]);
      }
      const Vec z = S.ldlt().solve(r);
      if (z.minCoeff() < 0) continue;
      for (int a = 0; a < k; ++a) x[idx[a]] = z[a];
    }
    const double f = 0.5 * x.dot(G * x) + q.dot(x);
    if (f < best) best = f, xb = x;
  }
  return xb;
}
}  // namespace

TEST_CASE("NNLS matches exhaustive enumeration, also for ill-conditioned matrices",
          "[weighting][solvers]") {
  Mat A = Mat::Identity(2, 2);
  Vec b(2), x;
  b << 1, -1;
  auto r = solvers::NNLS<double>().solve(A, b, x);
  CHECK(r.converged);
  CHECK(x[0] == Approx(1.0));
  CHECK(x[1] == 0.0);
  onestone::Generator gen(15);
  solvers::NNLS<double> nnls;
  for (int trial = 0; trial < 60; ++trial) {
    const int n = 2 + trial % 5, rows = n + 2;
    A = random_jacobian(gen, rows, n);
    b.resize(rows);
    for (int i = 0; i < rows; ++i) b[i] = gen.normal();
    r = nnls.solve(A, b, x);
    CHECK(r.converged);
    const Mat G = A.transpose() * A;
    const Vec xb = brute_qp(G, Vec(-A.transpose() * b));
    CHECK((x - xb).cwiseAbs().maxCoeff() < 1e-9 * (1 + xb.cwiseAbs().maxCoeff()));
  }
  // Nearly opposite columns (cond ~ 1e7): the residual's KKT conditions still hold tightly,
  // where the Gram form would see cond ~ 1e14.
  for (int trial = 0; trial < 20; ++trial) {
    A = random_jacobian(gen, 4, 3);
    A.col(1) = -0.5 * A.col(0) + 1e-7 * A.col(1);
    b.resize(4);
    for (int i = 0; i < 4; ++i) b[i] = gen.normal();
    r = nnls.solve(A, b, x);
    const Vec w = A.transpose() * (b - A * x);
    const double scale = A.colwise().norm().maxCoeff() * b.norm();
    CHECK(w.maxCoeff() <= 1e-8 * scale);
    CHECK(x.minCoeff() >= 0.0);
  }
}

TEST_CASE("Nash solver: residual and orthogonal gradients", "[weighting][solvers]") {
  Mat G = Mat::Zero(3, 3);
  G.diagonal() << 4, 1, 0.25;  // orthogonal, norms 2, 1, 0.5
  Vec a;
  auto r = solvers::solve_nash(G, a);
  CHECK(r.converged);
  CHECK(a[0] == Approx(0.5));
  CHECK(a[1] == Approx(1.0));
  CHECK(a[2] == Approx(2.0));
  onestone::Generator gen(9);
  solvers::NashSolver<double> nash;
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 2 + trial % 5;
    auto J = random_jacobian(gen, n, 10);
    J.row(0) *= 1 + 10 * gen.uniform();  // uneven norms
    gram(J, G);
    r = nash.solve(G, a);
    CHECK(r.converged);
    CHECK(a.minCoeff() > 0);
    CHECK((G * a - a.cwiseInverse()).norm() < 1e-6);
  }
  // No solution: opposite gradients.
  G.resize(2, 2);
  G << 1, -1, -1, 1;
  r = solvers::solve_nash(G, a);
  CHECK_FALSE(r.converged);
  // Zero gradient.
  G << 1, 0, 0, 0;
  r = solvers::solve_nash(G, a);
  CHECK_FALSE(r.converged);
}

TEST_CASE("CAGrad dual solver: optimality by duality gap and against sampling",
          "[weighting][solvers]") {
  onestone::Generator gen(13);
  solvers::CAGradDualSolver<double> solver;
  for (int trial = 0; trial < 30; ++trial) {
    const int n = 2 + trial % 4;
    const auto J = random_jacobian(gen, n, 6);
    Mat G;
    gram(J, G);
    const Vec g0 = J.colwise().mean().transpose();
    const Vec b = J * g0;
    const double rad = 0.5 * g0.norm();
    Vec w;
    const auto res = solver.solve(G, b, rad, w);
    CHECK(res.converged);
    const Vec gw = J.transpose() * w;
    const Vec d = g0 + rad / gw.norm() * gw;
    const double best = (J * d).minCoeff();
    // No point of the ball does better (sampled).
    for (int k = 0; k < 200; ++k) {
      Vec u(6);
      for (int i = 0; i < 6; ++i) u[i] = gen.normal();
      const Vec dd = g0 + rad * std::pow(gen.uniform(), 1.0 / 6) * u / u.norm();
      CHECK((J * dd).minCoeff() <= best + 1e-9);
    }
  }
}

}  // namespace test_weighting_solvers
