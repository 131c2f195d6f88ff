#pragma once
/// @file cagrad_dual.hpp
/// `CAGradDualSolver`: the CAGrad dual min_{w∈Δ} bᵀw + r·‖Σwᵢgᵢ‖ on the Gram matrix
/// (Liu et al. 2021).

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/linalg.hpp"
#include "onestone/weighting/solvers/project_simplex.hpp"

namespace onestone {
namespace weighting {
namespace solvers {

/// Options of `CAGradDualSolver`.
///
/// @code
/// onestone::weighting::solvers::CAGradDualOptions<double> opt;
/// opt.max_iter = 2000;
/// @endcode
template <typename T>
struct CAGradDualOptions {
  int max_iter = 1000;  ///< accelerated projected-gradient iterations at most
  /// Stop when the duality gap F(w) − minᵢ ∂F/∂wᵢ ≤ tol·(‖b‖∞ + r·maxᵢ‖gᵢ‖).
  T tol = detail::default_tol<T>();
};

/// Outcome of a `CAGradDualSolver` solve.
///
/// @code
/// auto r = solver.solve(G, b, radius, w);   // r.gap, r.converged
/// @endcode
template <typename T>
struct CAGradDualResult {
  int iterations = 0;      ///< iterations done
  T gap = T(0);            ///< final duality gap (absolute)
  bool converged = false;  ///< gap ≤ tol·scale
};

/// Minimises the CAGrad dual objective over the simplex Δ:
///     F(w) = bᵀw + r·√(wᵀGw),   b = G·(1/T)·𝟙 (bᵢ = gᵢ·g₀), r = c‖g₀‖ = √φ,
/// (Liu et al. 2021, "Conflict-Averse Gradient Descent for Multi-task Learning", eq. (4)).
///
/// F is convex; ∂F/∂w = b + r·Gw/‖g_w‖ = J·d(w) with d(w) = g₀ + r·g_w/‖g_w‖, so minᵢ ∂F/∂wᵢ is
/// the primal value minᵢ gᵢ·d(w) of the feasible d(w) and F(w) − minᵢ ∂F/∂wᵢ ≥ 0 is a duality
/// gap (zero exactly at the optimum). Method: FISTA (accelerated projected gradient, Beck &
/// Teboulle 2009) with backtracking on the step, function-value restart and `project_simplex()`,
/// with an exact active-set refinement on the support found every 50 iterations and at the end
/// (function values stall at rounding level long before the gap does): on a support S the
/// optimum has a closed form (a quadratic in the multiplier λ, see `polish`); it is kept only if
/// its gap is smaller. Stops on the gap. Nearly opposed gradients (Gram matrix near-singular,
/// optimum near the kink g_w = 0) may end unconverged, with a small gap (≈1e-5 relative seen in
/// stress tests); the returned w is then the best point found.
/// Degenerate case: when ‖g_w‖ = 0 the norm term's gradient is taken as 0.
///
/// @code
/// onestone::weighting::Matrix<double> G = onestone::weighting::Matrix<double>::Identity(2, 2);
/// using onestone::weighting::Vector;
/// Vector<double> b = G * Vector<double>::Constant(2, 0.5);
/// onestone::weighting::Vector<double> w;
/// onestone::weighting::solvers::CAGradDualSolver<double> solver;
/// solver.solve(G, b, 0.5 * std::sqrt(0.5), w);   // w == (0.5, 0.5) by symmetry
/// @endcode
template <typename T>
class CAGradDualSolver {
 public:
  /// Solves for w (resized to n), starting from the centre of the simplex.
  /// @throws std::invalid_argument on bad shapes, non-finite input or r < 0.
  CAGradDualResult<T> solve(const Matrix<T>& G, const Vector<T>& b, T r, Vector<T>& w,
                            const CAGradDualOptions<T>& opt = {});

 private:
  // F(x) and its gradient.
  T eval(const Matrix<T>& G, const Vector<T>& b, T r, const Vector<T>& x, Vector<T>& grad);

  // Exact solution on a support S (active-set refinement of the FISTA point). On S the KKT
  // conditions read b_S + r·G_SS w_S/n = λ𝟙, 𝟙ᵀw_S = 1, n² = w_SᵀG_SS w_S; with p = G_SS⁻¹𝟙,
  // q = G_SS⁻¹b_S, A = 𝟙ᵀp, B = 𝟙ᵀq, C = b_Sᵀq they give Aλ² − 2Bλ + C − r² = 0,
  // λ = (B + √(B² − A(C − r²)))/A and w_S = (λp − q)/(λA − B). Indices with w ≤ 0 leave S, an
  // index with ∂F/∂wⱼ < λ joins it; the result replaces w only if its gap is smaller.
  void polish(const Matrix<T>& G, const Vector<T>& b, T r, Vector<T>& w, CAGradDualResult<T>& res);

  // The sub-problem on a support of k indices: G_SS, b_S, p, q and the LDLT of G_SS.
  struct Support {
    Support(Eigen::Index k, Eigen::Index) : sub(k, k), bs(k), p(k), q(k), ldlt(k) {}
    Matrix<T> sub;
    Vector<T> bs, p, q;
    Eigen::LDLT<Matrix<T>> ldlt;
  };

  std::vector<char> in_;
  std::vector<Eigen::Index> idx_;
  detail::PerSizeScratch<Support> support_;  // one per support size: no reallocation
  Vector<T> cand_;
  Vector<T> y_, z_, v_, diff_, gx_, gy_, gz_, gw_, scratch_, polished_;
  T fz_ = T(0);
};

template <typename T>
CAGradDualResult<T> CAGradDualSolver<T>::solve(const Matrix<T>& G, const Vector<T>& b, T r,
                                               Vector<T>& w, const CAGradDualOptions<T>& opt) {
  detail::check_square("CAGradDualSolver", G);
  detail::check_vector("CAGradDualSolver", "b", b, G.rows());
  if (!(r >= T(0)) || !std::isfinite(r))
    throw std::invalid_argument("CAGradDualSolver: the radius r must be finite and >= 0");
  const Eigen::Index n = G.rows();
  CAGradDualResult<T> res;
  w.setConstant(n, T(1) / static_cast<T>(n));
  const T maxdiag = std::max(G.diagonal().maxCoeff(), T(0));
  const T scale = b.cwiseAbs().maxCoeff() + r * std::sqrt(maxdiag) + std::numeric_limits<T>::min();
  const T stop = opt.tol * scale;

  T fx = eval(G, b, r, w, gx_);
  res.gap = fx - gx_.minCoeff();
  if (res.gap <= stop || n == 1) {
    res.converged = true;
    return res;
  }
  y_ = w;
  T t = T(1);
  // Initial curvature estimate r·λmax(G)/‖g_w‖ ≤ r·tr(G)/‖g_w‖; backtracking corrects it.
  gw_.noalias() = G * w;
  const T gw0 = std::sqrt(std::max(w.dot(gw_), T(0)));
  T L = r * G.trace() / std::max(gw0, T(1e-6) * std::sqrt(maxdiag)) + std::numeric_limits<T>::min();

  while (res.iterations < opt.max_iter) {
    ++res.iterations;
    const T fy = eval(G, b, r, y_, gy_);
    for (int k = 0; k < 100; ++k) {
      v_ = y_ - gy_ / L;
      project_simplex(v_, z_, scratch_);
      diff_ = z_ - y_;
      fz_ = eval(G, b, r, z_, gz_);
      const T model = fy + gy_.dot(diff_) + T(0.5) * L * diff_.squaredNorm();
      if (fz_ <= model + T(4) * std::numeric_limits<T>::epsilon() * std::abs(fy)) break;
      L *= T(2);
    }
    if (fz_ > fx) {        // no decrease: restart the momentum from w
      if (y_ == w) break;  // a plain step from w failed to decrease F: at rounding level
      y_ = w;
      t = T(1);
      continue;
    }
    const T t_next = (T(1) + std::sqrt(T(1) + T(4) * t * t)) / T(2);
    y_ = z_ + ((t - T(1)) / t_next) * (z_ - w);
    w = z_;
    fx = fz_;
    gx_ = gz_;
    t = t_next;
    L *= T(0.9);
    res.gap = fx - gx_.minCoeff();
    if (res.gap <= stop) {
      res.converged = true;
      break;
    }
    if (res.iterations % 50 == 0) {  // try the exact refinement on the current support
      polished_ = w;
      CAGradDualResult<T> trial = res;
      polish(G, b, r, polished_, trial);
      if (trial.gap <= stop) {
        w = polished_;
        res.gap = trial.gap;
        res.converged = true;
        return res;
      }
    }
  }
  res.gap = fx - gx_.minCoeff();
  polish(G, b, r, w, res);
  res.converged = res.gap <= stop;
  return res;
}

template <typename T>
T CAGradDualSolver<T>::eval(const Matrix<T>& G, const Vector<T>& b, T r, const Vector<T>& x,
                            Vector<T>& grad) {
  gw_.noalias() = G * x;
  const T norm = std::sqrt(std::max(x.dot(gw_), T(0)));
  grad = b;
  if (norm > std::numeric_limits<T>::min()) grad += (r / norm) * gw_;
  return b.dot(x) + r * norm;
}

template <typename T>
void CAGradDualSolver<T>::polish(const Matrix<T>& G, const Vector<T>& b, T r, Vector<T>& w,
                                 CAGradDualResult<T>& res) {
  const Eigen::Index n = G.rows();
  const T wmax = w.maxCoeff();
  in_.assign(static_cast<std::size_t>(n), 0);
  for (Eigen::Index i = 0; i < n; ++i) in_[static_cast<std::size_t>(i)] = w[i] > T(1e-6) * wmax;
  support_.prepare(n);
  cand_ = w;
  for (Eigen::Index round = 0; round < 2 * n + 2; ++round) {
    idx_.clear();
    for (Eigen::Index i = 0; i < n; ++i)
      if (in_[static_cast<std::size_t>(i)]) idx_.push_back(i);
    const auto k = static_cast<Eigen::Index>(idx_.size());
    if (k == 0) return;
    Support& s = support_[k];
    for (Eigen::Index a = 0; a < k; ++a) {
      s.bs[a] = b[idx_[static_cast<std::size_t>(a)]];
      for (Eigen::Index c = 0; c < k; ++c)
        s.sub(a, c) = G(idx_[static_cast<std::size_t>(a)], idx_[static_cast<std::size_t>(c)]);
    }
    s.ldlt.compute(s.sub);
    if (s.ldlt.info() != Eigen::Success) return;
    s.p = s.ldlt.solve(Vector<T>::Ones(k));
    s.q = s.ldlt.solve(s.bs);
    if (!s.p.allFinite() || !s.q.allFinite()) return;
    const T A = s.p.sum(), B = s.q.sum(), C = s.bs.dot(s.q);
    const T disc = B * B - A * (C - r * r);
    if (!(A > T(0)) || !(disc > T(0))) return;
    const T lambda = (B + std::sqrt(disc)) / A;
    const T denom = lambda * A - B;
    if (!(denom > T(0))) return;
    cand_.setZero(n);
    Eigen::Index worst = -1;
    for (Eigen::Index a = 0; a < k; ++a) {
      const Eigen::Index i = idx_[static_cast<std::size_t>(a)];
      cand_[i] = (lambda * s.p[a] - s.q[a]) / denom;
      if (!(cand_[i] > T(0)) && (worst < 0 || cand_[i] < cand_[worst])) worst = i;
    }
    if (worst >= 0) {
      in_[static_cast<std::size_t>(worst)] = 0;
      continue;
    }
    const T f = eval(G, b, r, cand_, gz_);
    Eigen::Index enter = -1;
    for (Eigen::Index i = 0; i < n; ++i)
      if (!in_[static_cast<std::size_t>(i)] && (enter < 0 || gz_[i] < gz_[enter])) enter = i;
    const T gap = f - gz_.minCoeff();
    if (gap < res.gap) {
      res.gap = gap;
      w = cand_;
    }
    if (enter < 0 || gz_[enter] >= lambda) return;  // KKT: done
    in_[static_cast<std::size_t>(enter)] = 1;
  }
}

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXTERN_CLASS(WEIGHTING, CAGradDualSolver)

}  // namespace solvers
}  // namespace weighting
}  // namespace onestone
