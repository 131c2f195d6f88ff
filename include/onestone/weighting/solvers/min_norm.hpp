#pragma once
/// @file min_norm.hpp
/// `MinNormSolver` / `min_norm()`: the minimum-norm point of the convex hull of T vectors
/// (Frank–Wolfe on the Gram matrix, MGDA-UB of Sener & Koltun 2018).

#include <algorithm>
#include <limits>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/linalg.hpp"
#include "onestone/weighting/solvers/min_norm_2.hpp"

namespace onestone {
namespace weighting {
namespace solvers {

/// Options of `MinNormSolver`.
///
/// @code
/// onestone::weighting::solvers::MinNormOptions<double> opt;
/// opt.max_iter = 500;  opt.away_steps = false;   // plain Frank–Wolfe, as in the paper's code
/// @endcode
template <typename T>
struct MinNormOptions {
  int max_iter = 1000;  ///< Frank–Wolfe iterations at most
  /// Stop when the Frank–Wolfe gap wᵀGw − minᵢ(Gw)ᵢ ≤ tol · max(diag G); then
  /// wᵀGw − min ≤ 2·gap and (Gw)ᵢ ≥ wᵀGw − gap, i.e. gᵢ·d ≥ ‖d‖² − gap for every task.
  T tol = detail::default_tol<T>();
  /// Also take away steps (Lacoste-Julien & Jaggi 2015), which converge linearly instead of
  /// O(1/k); false gives the plain Frank–Wolfe of Sener & Koltun's code.
  bool away_steps = true;
};

/// Outcome of a `MinNormSolver::solve` call.
///
/// @code
/// auto r = onestone::weighting::solvers::min_norm(G, w);   if (!r.converged) { /* ... */ }
/// @endcode
template <typename T>
struct MinNormResult {
  int iterations = 0;      ///< Frank–Wolfe iterations done
  T gap = T(0);            ///< final Frank–Wolfe gap wᵀGw − minᵢ(Gw)ᵢ (absolute)
  T cost = T(0);           ///< final wᵀGw = ‖Σᵢ wᵢgᵢ‖²
  bool converged = false;  ///< gap ≤ tol · max(diag G)
};

/// Minimum-norm element of the convex hull of T vectors given only their Gram matrix:
/// w* = argmin_{w ∈ Δ} wᵀGw, Δ = {w ≥ 0, Σwᵢ = 1} (the MGDA sub-problem).
///
/// Follows MGDA-UB (Sener & Koltun 2018, "Multi-Task Learning as Multi-Objective Optimization",
/// Algorithm 2): start from the best pair (exact two-vector solution `min_norm_2()` over every
/// pair), then Frank–Wolfe steps towards the vertex t = argminᵢ(Gw)ᵢ with the exact line search
/// of `min_norm_2()` on the segment [Σwᵢgᵢ, g_t]. With `away_steps` the step may instead move away
/// from the worst active vertex a = argmax_{wᵢ>0}(Gw)ᵢ (exact line search, step capped so
/// w stays ≥ 0). Finally an exact active-set refinement on the support found is tried (kept
/// only if it lowers the gap), which removes the tolerance-level error and rescues the slow
/// cases near Pareto stationarity.
/// Iteration cost O(T²); the workspace is kept between calls.
///
/// @code
/// onestone::weighting::Matrix<double> G(2, 2);
/// G << 1, 0,
///      0, 1;                          // two orthogonal unit vectors
/// onestone::weighting::Vector<double> w;
/// onestone::weighting::solvers::MinNormSolver<double> solver;
/// solver.solve(G, w);                  // w == (0.5, 0.5)
/// @endcode
template <typename T>
class MinNormSolver {
 public:
  /// Solves for w (resized to T). G must be symmetric positive semi-definite.
  /// @throws std::invalid_argument when G is empty, not square or not finite.
  MinNormResult<T> solve(const Matrix<T>& G, Vector<T>& w, const MinNormOptions<T>& opt = {});

 private:
  // Active-set refinement of the Frank–Wolfe point (Wolfe's min-norm-point idea): on a support
  // S the minimiser of wᵀGw over {Σw = 1} solves the bordered system (G scaled to max diag 1)
  // [G_SS 𝟙; 𝟙ᵀ 0][w_S; −c] = [0; 1] (complete orthogonal decomposition, so a singular G_SS
  // is fine); a non-positive weight leaves S, the vertex with the smallest (Gw)ⱼ < c joins it.
  // The result replaces w only if its Frank–Wolfe gap is smaller.
  void polish(const Matrix<T>& G, Vector<T>& w, MinNormResult<T>& res);

  // The bordered system of size s = |S| + 1, its decomposition and the solve's workspace.
  struct Bordered {
    Bordered(Eigen::Index s, Eigen::Index)
        : kkt(s, s), rhs(s), sol(s), work_c(s), work_y(s), cod(s, s) {}
    Matrix<T> kkt;
    Vector<T> rhs, sol, work_c, work_y;
    Eigen::CompleteOrthogonalDecomposition<Matrix<T>> cod;
  };

  Vector<T> s_;  // G·w
  std::vector<char> in_;
  std::vector<Eigen::Index> idx_;
  detail::PerSizeScratch<Bordered> bordered_;  // one per system size: no reallocation
  Vector<T> cand_;
};

template <typename T>
MinNormResult<T> MinNormSolver<T>::solve(const Matrix<T>& G, Vector<T>& w,
                                         const MinNormOptions<T>& opt) {
  detail::check_square("min_norm", G);
  const Eigen::Index m = G.rows();
  MinNormResult<T> res;
  w.resize(m);
  if (m == 1) {
    w[0] = T(1);
    res.cost = G(0, 0);
    res.converged = true;
    return res;
  }
  const T scale = G.diagonal().maxCoeff();
  if (!(scale > T(0))) {  // every vector is zero: any w is optimal, take the centre
    w.setConstant(T(1) / static_cast<T>(m));
    res.converged = true;
    return res;
  }
  // Best pair.
  T best = std::numeric_limits<T>::infinity();
  Eigen::Index bi = 0, bj = 1;
  T bgamma = T(1);
  for (Eigen::Index i = 0; i < m; ++i)
    for (Eigen::Index j = i + 1; j < m; ++j) {
      const MinNorm2<T> r = min_norm_2(G(i, i), G(i, j), G(j, j));
      if (r.cost < best) best = r.cost, bi = i, bj = j, bgamma = r.gamma;
    }
  w.setZero();
  w[bi] = bgamma;
  w[bj] = T(1) - bgamma;

  const T stop = opt.tol * scale;
  for (;;) {
    s_.noalias() = G * w;
    const T v11 = w.dot(s_);
    Eigen::Index t = 0;
    s_.minCoeff(&t);
    res.gap = v11 - s_[t];
    res.cost = v11;
    if (res.gap <= stop) {
      res.converged = true;
      break;
    }
    if (res.iterations >= opt.max_iter) break;
    ++res.iterations;

    Eigen::Index a = -1;
    T away_gap = T(0);
    if (opt.away_steps)
      for (Eigen::Index i = 0; i < m; ++i)
        if (w[i] > T(0) && (a < 0 || s_[i] > s_[a])) a = i;
    if (a >= 0) away_gap = s_[a] - v11;

    if (a < 0 || res.gap >= away_gap || w[a] >= T(1)) {
      // Frank–Wolfe step: w ← γ·w + (1 − γ)·e_t, γ from the exact segment search.
      const MinNorm2<T> r = min_norm_2(v11, s_[t], G(t, t));
      w *= r.gamma;
      w[t] += T(1) - r.gamma;
    } else {
      // Away step: w ← (1 + γ)·w − γ·e_a, 0 ≤ γ ≤ w_a / (1 − w_a).
      const T gmax = w[a] / (T(1) - w[a]);
      const T curv = v11 - T(2) * s_[a] + G(a, a);  // ‖Σwᵢgᵢ − g_a‖²
      T gamma = curv > T(0) ? (s_[a] - v11) / curv : gmax;
      const bool drop = !(gamma < gmax);
      if (drop) gamma = gmax;
      w *= (T(1) + gamma);
      w[a] -= gamma;
      if (drop) w[a] = T(0);
    }
    w = w.cwiseMax(T(0));
    w /= w.sum();
  }
  polish(G, w, res);
  res.converged = res.gap <= stop;
  return res;
}

template <typename T>
void MinNormSolver<T>::polish(const Matrix<T>& G, Vector<T>& w, MinNormResult<T>& res) {
  const Eigen::Index n = G.rows();
  const T wmax = w.maxCoeff();
  const T scale = G.diagonal().maxCoeff();  // > 0 here; keeps the bordered matrix balanced
  in_.assign(static_cast<std::size_t>(n), 0);
  for (Eigen::Index i = 0; i < n; ++i) in_[static_cast<std::size_t>(i)] = w[i] > T(1e-9) * wmax;
  bordered_.prepare(n + 1);
  for (Eigen::Index round = 0; round < 2 * n + 2; ++round) {
    idx_.clear();
    for (Eigen::Index i = 0; i < n; ++i)
      if (in_[static_cast<std::size_t>(i)]) idx_.push_back(i);
    const auto k = static_cast<Eigen::Index>(idx_.size());
    if (k == 0) return;
    Bordered& sys = bordered_[k + 1];
    sys.kkt.setZero();
    sys.rhs.setZero();
    sys.rhs[k] = T(1);
    for (Eigen::Index a = 0; a < k; ++a) {
      for (Eigen::Index b = 0; b < k; ++b)
        sys.kkt(a, b) =
            G(idx_[static_cast<std::size_t>(a)], idx_[static_cast<std::size_t>(b)]) / scale;
      sys.kkt(a, k) = T(1);
      sys.kkt(k, a) = T(1);
    }
    sys.cod.compute(sys.kkt);
    detail::cod_solve(sys.cod, sys.rhs, sys.sol, sys.work_c, sys.work_y);
    if (!sys.sol.allFinite()) return;
    cand_.setZero(n);
    Eigen::Index worst = -1;
    for (Eigen::Index a = 0; a < k; ++a) {
      const Eigen::Index i = idx_[static_cast<std::size_t>(a)];
      cand_[i] = sys.sol[a];
      if (!(cand_[i] > T(0)) && (worst < 0 || cand_[i] < cand_[worst])) worst = i;
    }
    if (worst >= 0) {
      in_[static_cast<std::size_t>(worst)] = 0;
      continue;
    }
    cand_ /= cand_.sum();
    s_.noalias() = G * cand_;
    const T v = cand_.dot(s_);
    Eigen::Index enter = 0;
    s_.minCoeff(&enter);
    const T gap = v - s_[enter];
    if (gap < res.gap) {
      res.gap = gap;
      res.cost = v;
      w = cand_;
    }
    if (in_[static_cast<std::size_t>(enter)] || !(s_[enter] < v)) return;  // KKT holds
    in_[static_cast<std::size_t>(enter)] = 1;
  }
}

/// One-shot `MinNormSolver<T>().solve(G, w, opt)`.
///
/// @code
/// auto r = onestone::weighting::solvers::min_norm(G, w);   // w on the simplex, r.cost = wᵀGw
/// @endcode
template <typename T>
MinNormResult<T> min_norm(const Matrix<T>& G, Vector<T>& w, const MinNormOptions<T>& opt = {}) {
  MinNormSolver<T> solver;
  return solver.solve(G, w, opt);
}

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXTERN_CLASS(WEIGHTING, MinNormSolver)
ONESTONE_EXPLICIT(WEIGHTING_FLOAT,
                  MinNormResult<float> min_norm<float>(const Matrix<float>&, Vector<float>&,
                                                       const MinNormOptions<float>&))
ONESTONE_EXPLICIT(WEIGHTING_DOUBLE,
                  MinNormResult<double> min_norm<double>(const Matrix<double>&, Vector<double>&,
                                                         const MinNormOptions<double>&))

}  // namespace solvers
}  // namespace weighting
}  // namespace onestone
