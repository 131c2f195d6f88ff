#pragma once
/// @file nnls.hpp
/// `NNLS`: non-negative least squares min ‖Ax − b‖ subject to x ≥ 0 (Lawson & Hanson), with
/// QR sub-problems — the well-conditioned form of the dual-cone projections.

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/linalg.hpp"

namespace onestone {
namespace weighting {
namespace solvers {

/// Options of `NNLS`.
///
/// @code
/// onestone::weighting::solvers::NNLSOptions<double> opt;
/// opt.max_iter = 200;
/// @endcode
template <typename T>
struct NNLSOptions {
  /// Optimality tolerance (double: 2.2e-12): the solver keeps adding indices while some
  /// (Aᵀ(b − Ax))ⱼ > tol·a·‖b‖ (a = maxⱼ‖Aⱼ‖) and reports convergence when the KKT violation is
  /// ≤ tol·a·(‖b‖ + a‖x‖₁), the level rounding allows when x is large (ill-conditioned A).
  T tol = T(1e4) * std::numeric_limits<T>::epsilon();
  /// Sub-problem solves at most; 0 means 10·n + 50.
  int max_iter = 0;
};

/// Outcome of an `NNLS` solve.
///
/// @code
/// auto r = nnls.solve(A, b, x);   // r.converged, r.kkt_residual
/// @endcode
template <typename T>
struct NNLSResult {
  int iterations = 0;      ///< sub-problem (QR) solves
  T kkt_residual = T(0);   ///< max violation of the KKT conditions, relative (see NNLSOptions)
  bool converged = false;  ///< the KKT conditions hold within tol
};

/// Lawson & Hanson's active-set algorithm for non-negative least squares (1974, "Solving Least
/// Squares Problems", ch. 23):
///     min_x ‖Ax − b‖²   subject to x ≥ 0,   A of size r × n (small, any rank).
/// The free set P grows by the index with the largest wⱼ = (Aᵀ(b − Ax))ⱼ; on P the unconstrained
/// least-squares problem is solved by a column-pivoting Householder QR of A_P (no normal
/// equations, so the accuracy follows cond(A), not cond(A)²); if a coordinate turns ≤ 0 the
/// iterate moves towards the sub-problem solution until the first one hits 0, which leaves P.
/// At the end w ≤ tol on the bound variables and w = 0 on P (the KKT conditions). An index whose
/// first sub-problem gives it a non-positive value (numerical dependence) is skipped.
///
/// It is the same problem as `NonnegQP` with G = AᵀA, q = −Aᵀb, but better conditioned; UPGrad
/// and DualProj use it with A = R from a QR factorisation Jᵀ = QR (so AᵀA = JJᵀ).
///
/// @code
/// onestone::weighting::Matrix<double> A(2, 2);
/// A << 1, 0,
///      0, 1;
/// onestone::weighting::Vector<double> b(2), x;
/// b << 1, -1;                                  // x = (1, 0)
/// onestone::weighting::solvers::NNLS<double> nnls;
/// nnls.solve(A, b, x);
/// @endcode
template <typename T>
class NNLS {
 public:
  /// Solves into x (resized to A.cols()).
  /// @throws std::invalid_argument on empty or non-finite A, or b of the wrong size.
  template <typename MatA>
  NNLSResult<T> solve(const Eigen::MatrixBase<MatA>& A, const Vector<T>& b, Vector<T>& x,
                      const NNLSOptions<T>& opt = {}) {
    if (A.rows() == 0 || A.cols() == 0 || !A.allFinite())
      throw std::invalid_argument("NNLS: expected a non-empty finite matrix, got " +
                                  detail::shape_str(A.rows(), A.cols()));
    detail::check_vector("NNLS", "b", b, A.rows());
    const Eigen::Index n = A.cols();
    const int max_iter = opt.max_iter > 0 ? opt.max_iter : static_cast<int>(10 * n + 50);
    const T amax = A.colwise().norm().maxCoeff();
    // Rounding in Aᵀ(b − Ax) is about ε·‖A‖(‖b‖ + ‖A‖‖x‖): the tolerance follows it.
    auto scale = [&] {
      return amax * (b.norm() + amax * x.template lpNorm<1>()) + std::numeric_limits<T>::min();
    };
    x.setZero(n);
    passive_sets_.prepare(n, A.rows());
    passive_.assign(static_cast<std::size_t>(n), 0);
    banned_.assign(static_cast<std::size_t>(n), 0);
    NNLSResult<T> res;

    for (;;) {
      r_ = b;
      r_.noalias() -= A * x;
      w_.noalias() = A.transpose() * r_;
      Eigen::Index j = -1;
      // Keep improving down to the strict level tol·a·‖b‖ (it costs at most a few more solves);
      // convergence is judged with the rounding-aware scale below.
      T most = opt.tol * (amax * b.norm() + std::numeric_limits<T>::min());
      for (Eigen::Index i = 0; i < n; ++i)
        if (!passive_[idx(i)] && !banned_[idx(i)] && w_[i] > most) most = w_[i], j = i;
      if (j < 0 || res.iterations >= max_iter) break;
      passive_[idx(j)] = 1;
      bool first = true;
      for (;;) {
        if (res.iterations >= max_iter) break;
        ++res.iterations;
        solve_passive(A, b, n);
        bool all_positive = true;
        for (Eigen::Index i = 0; i < n; ++i)
          if (passive_[idx(i)] && !(z_[i] > T(0))) all_positive = false;
        if (all_positive) {
          x = z_;
          std::fill(banned_.begin(), banned_.end(), 0);
          break;
        }
        if (first && !(z_[j] > T(0))) {
          passive_[idx(j)] = 0;
          banned_[idx(j)] = 1;
          break;
        }
        first = false;
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

    r_ = b;
    r_.noalias() -= A * x;
    w_.noalias() = A.transpose() * r_;
    T viol = T(0);
    for (Eigen::Index i = 0; i < n; ++i)
      viol = std::max(viol, x[i] > T(0) ? std::abs(w_[i]) : std::max(w_[i], T(0)));
    res.kkt_residual = viol / scale();
    res.converged = res.kkt_residual <= opt.tol;
    return res;
  }

 private:
  static std::size_t idx(Eigen::Index i) { return static_cast<std::size_t>(i); }

  template <typename MatA>
  void solve_passive(const Eigen::MatrixBase<MatA>& A, const Vector<T>& b, Eigen::Index n) {
    map_.clear();
    map_.reserve(idx(n));  // capacity kept: grows once to the number of variables
    for (Eigen::Index i = 0; i < n; ++i)
      if (passive_[idx(i)]) map_.push_back(i);
    const auto k = static_cast<Eigen::Index>(map_.size());
    Passive& p = passive_sets_[k];
    for (Eigen::Index a = 0; a < k; ++a) p.sub.col(a) = A.col(map_[idx(a)]);
    p.qr.compute(p.sub);
    detail::col_piv_qr_solve(p.qr, b, p.sol, work_);
    z_.setZero(n);
    for (Eigen::Index a = 0; a < k; ++a) z_[map_[idx(a)]] = p.sol[a];
  }

  // The least-squares sub-problem on k passive columns: A_P, its QR and the solution.
  struct Passive {
    Passive(Eigen::Index k, Eigen::Index rows) : sub(rows, k), sol(k), qr(rows, k) {}
    Matrix<T> sub;
    Vector<T> sol;
    Eigen::ColPivHouseholderQR<Matrix<T>> qr;
  };

  std::vector<char> passive_, banned_;
  std::vector<Eigen::Index> map_;
  detail::PerSizeScratch<Passive> passive_sets_;  // one per passive-set size: no reallocation
  Vector<T> r_, w_, z_, work_;
};

}  // namespace solvers
}  // namespace weighting
}  // namespace onestone
