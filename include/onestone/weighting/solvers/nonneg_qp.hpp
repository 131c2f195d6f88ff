#pragma once
/// @file nonneg_qp.hpp
/// `NonnegQP`: a small dense active-set solver for min ½xᵀGx + qᵀx subject to x ≥ 0 (or x ≥ l),
/// G positive semi-definite, given only G (e.g. dual-cone projections from a Gram matrix).

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {
namespace solvers {

/// Options of `NonnegQP`.
///
/// @code
/// onestone::weighting::solvers::QPOptions<double> opt;
/// opt.tol = 1e-12;
/// @endcode
template <typename T>
struct QPOptions {
  /// Optimality tolerance on the gradient, relative to ‖q‖∞ + max|G|·‖x‖₁ (double: 2.2e-12).
  T tol = T(1e4) * std::numeric_limits<T>::epsilon();
  /// Sub-problem solves at most; 0 means 10·n + 50.
  int max_iter = 0;
};

/// Outcome of a `NonnegQP` solve.
///
/// @code
/// auto r = qp.solve(G, q, x);   // r.converged, r.kkt_residual
/// @endcode
template <typename T>
struct QPResult {
  int iterations = 0;      ///< sub-problem (linear system) solves
  T kkt_residual = T(0);   ///< max violation of the KKT conditions, relative (see QPOptions::tol)
  bool converged = false;  ///< the KKT conditions hold within tol
};

/// Active-set solver for the convex quadratic program
///     min_x ½ xᵀGx + qᵀx   subject to x ≥ 0,
/// G symmetric positive semi-definite, q ∈ range(G) (e.g. G = JJᵀ and q = J·h, which is always
/// the case for the dual-cone projections below, and which guarantees a finite minimum).
///
/// Method: Lawson & Hanson's NNLS active-set algorithm (1974, ch. 23) written on the Gram form.
/// A free ("passive") set P is grown one index at a time, picking the most negative gradient
/// (Gx + q)ⱼ; on P the unconstrained minimiser solves G_PP z = −q_P; if some zᵢ ≤ 0 the iterate
/// moves towards z until the first coordinate hits 0, which then leaves P. It stops when the KKT
/// conditions hold: x ≥ 0, Gx + q ≥ −tol, (Gx + q)ᵢ = 0 on P. When q = J·h, a chosen index's
/// gradient is never in the span of P's rows, so G_PP stays non-singular in exact arithmetic;
/// a numerically dependent index is skipped. Finite; typically O(n) solves of size ≤ n.
/// Working on G squares the conditioning of J: when a factor R with G = RᵀR is at hand (as in
/// UPGrad and DualProj, which factorise Jᵀ = QR), `NNLS` on R is the more accurate choice.
///
/// @code
/// onestone::weighting::Matrix<double> G(2, 2);
/// G << 2, 0,
///      0, 1;
/// onestone::weighting::Vector<double> q(2), x;
/// q << -2, 1;                                  // minimiser x = (1, 0)
/// onestone::weighting::solvers::NonnegQP<double> qp;
/// qp.solve(G, q, x);
/// @endcode
template <typename T>
class NonnegQP {
 public:
  /// Solves min ½xᵀGx + qᵀx, x ≥ 0, into x (resized to n).
  /// @throws std::invalid_argument on empty, non-square or non-finite G, or q of the wrong size.
  QPResult<T> solve(const Matrix<T>& G, const Vector<T>& q, Vector<T>& x,
                    const QPOptions<T>& opt = {}) {
    detail::check_square("NonnegQP", G);
    detail::check_vector("NonnegQP", "q", q, G.rows());
    const Eigen::Index n = G.rows();
    const int max_iter = opt.max_iter > 0 ? opt.max_iter : static_cast<int>(10 * n + 50);
    const T gmax = G.cwiseAbs().maxCoeff();
    const T qmax = q.cwiseAbs().maxCoeff();
    x.setZero(n);
    passive_.assign(static_cast<std::size_t>(n), 0);
    banned_.assign(static_cast<std::size_t>(n), 0);
    QPResult<T> res;
    auto tolerance = [&] { return opt.tol * (qmax + gmax * x.template lpNorm<1>()) + tiny(); };

    for (;;) {
      grad_.noalias() = G * x;
      grad_ += q;
      const T tol_abs = tolerance();
      Eigen::Index j = -1;
      T most = tol_abs;
      for (Eigen::Index i = 0; i < n; ++i)
        if (!passive_[idx(i)] && !banned_[idx(i)] && -grad_[i] > most) most = -grad_[i], j = i;
      if (j < 0) break;
      if (res.iterations >= max_iter) break;
      passive_[idx(j)] = 1;
      bool first = true;
      for (;;) {
        if (res.iterations >= max_iter) break;
        ++res.iterations;
        solve_passive(G, q, n);
        bool all_positive = true;
        for (Eigen::Index i = 0; i < n; ++i)
          if (passive_[idx(i)] && !(z_[i] > T(0))) all_positive = false;
        if (all_positive) {
          x = z_;
          std::fill(banned_.begin(), banned_.end(), 0);
          break;
        }
        if (first && !(z_[j] > T(0))) {
          // j cannot enter (numerically dependent on P): leave x as it is and skip j.
          passive_[idx(j)] = 0;
          banned_[idx(j)] = 1;
          break;
        }
        first = false;
        // Move from x towards z until the first passive coordinate reaches 0.
        T alpha = T(1);
        Eigen::Index hit = -1;
        for (Eigen::Index i = 0; i < n; ++i)
          if (passive_[idx(i)] && !(z_[i] > T(0))) {
            const T a = x[i] / (x[i] - z_[i]);
            if (hit < 0 || a < alpha) alpha = a, hit = i;
          }
        x += alpha * (z_ - x);
        x[hit] = T(0);
        for (Eigen::Index i = 0; i < n; ++i)
          if (passive_[idx(i)] && !(x[i] > T(0))) passive_[idx(i)] = 0, x[i] = T(0);
      }
    }

    // KKT residual of the final point.
    grad_.noalias() = G * x;
    grad_ += q;
    T viol = T(0);
    for (Eigen::Index i = 0; i < n; ++i)
      viol = std::max(viol, x[i] > T(0) ? std::abs(grad_[i]) : std::max(-grad_[i], T(0)));
    const T denom = qmax + gmax * x.template lpNorm<1>() + tiny();
    res.kkt_residual = viol / denom;
    res.converged = viol <= tolerance();
    return res;
  }

 private:
  static std::size_t idx(Eigen::Index i) { return static_cast<std::size_t>(i); }
  static T tiny() { return std::numeric_limits<T>::min(); }

  // z = argmin over the passive set (z = 0 elsewhere): G_PP z_P = −q_P.
  void solve_passive(const Matrix<T>& G, const Vector<T>& q, Eigen::Index n) {
    map_.clear();
    for (Eigen::Index i = 0; i < n; ++i)
      if (passive_[idx(i)]) map_.push_back(i);
    const auto k = static_cast<Eigen::Index>(map_.size());
    sub_.resize(k, k);
    rhs_.resize(k);
    for (Eigen::Index a = 0; a < k; ++a) {
      rhs_[a] = -q[map_[idx(a)]];
      for (Eigen::Index b = 0; b < k; ++b) sub_(a, b) = G(map_[idx(a)], map_[idx(b)]);
    }
    ldlt_.d.compute(sub_);
    sol_ = ldlt_.d.solve(rhs_);
    if (ldlt_.d.info() != Eigen::Success || !sol_.allFinite())
      sol_ = sub_.completeOrthogonalDecomposition().solve(rhs_);
    z_.setZero(n);
    for (Eigen::Index a = 0; a < k; ++a) z_[map_[idx(a)]] = sol_[a];
  }

  std::vector<char> passive_, banned_;
  std::vector<Eigen::Index> map_;
  Matrix<T> sub_;
  Vector<T> rhs_, sol_, z_, grad_;
  detail::Scratch<Eigen::LDLT<Matrix<T>>> ldlt_;
};

/// One-shot `NonnegQP<T>().solve(G, q, x, opt)`: min ½xᵀGx + qᵀx subject to x ≥ 0.
///
/// @code
/// auto r = onestone::weighting::solvers::solve_nonneg_qp(G, q, x);
/// @endcode
template <typename T>
QPResult<T> solve_nonneg_qp(const Matrix<T>& G, const Vector<T>& q, Vector<T>& x,
                            const QPOptions<T>& opt = {}) {
  NonnegQP<T> qp;
  return qp.solve(G, q, x, opt);
}

/// Lower-bounded form: min ½xᵀGx + qᵀx subject to x ≥ lower, by the shift x = lower + y
/// (y ≥ 0 minimises ½yᵀGy + (q + G·lower)ᵀy). `qp` carries the workspace.
///
/// This is the dual-cone projection of Quinton & Rey 2024 ("Jacobian descent for multi-objective
/// optimization", Prop. 1): the projection of Jᵀu onto the dual cone {x : Jx ≥ 0} of the rows
/// of J is Jᵀw with w = argmin_{v ≥ u} vᵀGv, G = JJᵀ — call it with q = 0 and lower = u.
///
/// @code
/// using onestone::weighting::Vector;
/// Vector<double> u(2), zero = Vector<double>::Zero(2), w;
/// u << 0.5, 0.0;
/// onestone::weighting::solvers::NonnegQP<double> qp;
/// onestone::weighting::solvers::solve_lower_bounded_qp(qp, G, zero, u, w);   // w ≥ u
/// @endcode
template <typename T>
QPResult<T> solve_lower_bounded_qp(NonnegQP<T>& qp, const Matrix<T>& G, const Vector<T>& q,
                                   const Vector<T>& lower, Vector<T>& x,
                                   const QPOptions<T>& opt = {}) {
  detail::check_square("solve_lower_bounded_qp", G);
  detail::check_vector("solve_lower_bounded_qp", "lower", lower, G.rows());
  detail::check_vector("solve_lower_bounded_qp", "q", q, G.rows());
  Vector<T> shifted = q;
  shifted.noalias() += G * lower;
  const QPResult<T> r = qp.solve(G, shifted, x, opt);
  x += lower;
  return r;
}

}  // namespace solvers
}  // namespace weighting
}  // namespace onestone
