#pragma once
/// @file nash.hpp
/// `NashSolver` / `solve_nash()`: the Nash bargaining weights α > 0 with (Gα)ᵢ = 1/αᵢ
/// (Navon et al. 2022, Nash-MTL), and FairGrad's α-fair generalisation (Gw)ᵢ = wᵢ^{−p},
/// p = 1/α (Ban & Ji 2024).

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "onestone/config.hpp"
#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {
namespace solvers {

/// Options of `NashSolver`.
///
/// @code
/// onestone::weighting::solvers::NashOptions<double> opt;
/// opt.tol = 1e-12;
/// @endcode
template <typename T>
struct NashOptions {
  int max_iter = 500;  ///< Newton iterations at most
  /// Stop when maxᵢ |αᵢ(Gα)ᵢ − 1| ≤ tol (scale-free; double 1e-10, float 1e-4).
  T tol = std::is_same<T, float>::value ? T(1e-4) : T(1e-10);
  /// When rounding stops the residual from decreasing above `tol` (ill-conditioned G), the
  /// result still counts as converged if the residual is ≤ accept_tol (double 1e-7, float 1e-3).
  T accept_tol = std::is_same<T, float>::value ? T(1e-3) : T(1e-7);
  /// p in (Gw)ᵢ = wᵢ^{−p}: 1 for Nash-MTL, 1/α for FairGrad with fairness α.
  double exponent = 1.0;
};

/// Outcome of a `NashSolver` solve.
///
/// @code
/// auto r = onestone::weighting::solvers::solve_nash(G, alpha);   // r.residual, r.converged
/// @endcode
template <typename T>
struct NashResult {
  int iterations = 0;      ///< Newton iterations done
  T residual = T(0);       ///< maxᵢ |αᵢ(Gα)ᵢ − 1|
  bool converged = false;  ///< residual ≤ tol
};

/// Solves the Nash-MTL bargaining equations Gα = 1/α (elementwise), α > 0, G = JJᵀ
/// (Navon et al. 2022, "Multi-Task Learning as a Bargaining Game", eq. (2)): the update
/// d = Jᵀα then satisfies gᵢ·d = 1/αᵢ for every task.
///
/// Method: the equations are the stationarity conditions of the strictly convex, self-concordant
/// f(α) = ½αᵀGα − Σᵢ log αᵢ on α > 0, minimised by damped Newton: H = G + diag(1/α²),
/// H·Δ = −(Gα − 1/α), step 1/(1 + λ) with λ the Newton decrement (which keeps α > 0 and
/// decreases f without a line search), full steps once λ < 1/4. Starts from αᵢ ∝ 1/√Gᵢᵢ (exact
/// for orthogonal gradients) with the best common scale, or from the given α (warm start).
/// Converges quadratically when a solution exists; it exists when the gradients are linearly
/// independent (G positive definite makes f coercive), and never when a task's gradient is zero
/// or when some non-negative combination of gradients vanishes (e.g. g₂ = −g₁) — then
/// `converged` is false. Nearly opposed gradients (cond(G) ≳ 1e12) may also fail in double.
///
/// @code
/// onestone::weighting::Matrix<double> G(2, 2);
/// G << 4, 0,
///      0, 1;                                  // orthogonal gradients of norms 2 and 1
/// onestone::weighting::Vector<double> alpha;
/// onestone::weighting::solvers::NashSolver<double> nash;
/// nash.solve(G, alpha);                         // alpha == (0.5, 1)
/// @endcode
template <typename T>
class NashSolver {
 public:
  /// Solves for α (resized to n). With `warm_start` and a positive α of the right size, starts
  /// from it. @throws std::invalid_argument on empty, non-square or non-finite G.
  NashResult<T> solve(const Matrix<T>& G, Vector<T>& alpha, const NashOptions<T>& opt = {},
                      bool warm_start = false);

 private:
  T objective(const Matrix<T>& G, const Vector<T>& a, T p);
  Vector<T> ga_, grad_, step_, trial_, tmp_;
  Matrix<T> hess_;
  detail::Scratch<Eigen::LLT<Matrix<T>>> llt_;
};

template <typename T>
NashResult<T> NashSolver<T>::solve(const Matrix<T>& G, Vector<T>& alpha, const NashOptions<T>& opt,
                                   bool warm_start) {
  detail::check_square("solve_nash", G);
  const Eigen::Index n = G.rows();
  const T p = static_cast<T>(opt.exponent);
  if (!(opt.exponent > 0) || !std::isfinite(opt.exponent))
    throw std::invalid_argument("solve_nash: exponent must be finite and > 0");
  NashResult<T> res;
  if (!(G.diagonal().minCoeff() > T(0))) {  // a zero gradient: (Gα)ᵢ = 0 ≠ αᵢ^{−p}
    alpha.setZero(n);
    res.residual = T(1);
    return res;
  }
  if (!(warm_start && alpha.size() == n && alpha.allFinite() && alpha.minCoeff() > T(0))) {
    // αᵢ = Gᵢᵢ^{−1/(1+p)} (exact for orthogonal gradients), times the best common scale s,
    // s^{1+p} = Σ αᵢ^{1−p} / αᵀGα (the minimiser of f(s·α) over s).
    alpha = G.diagonal().array().pow(-T(1) / (T(1) + p)).matrix();
    ga_.noalias() = G * alpha;
    const T quad = alpha.dot(ga_);
    const T lin = alpha.array().pow(T(1) - p).sum();
    if (quad > T(0)) alpha *= std::pow(lin / quad, T(1) / (T(1) + p));
  }
  const bool nash = opt.exponent == 1.0;
  T best = std::numeric_limits<T>::infinity();
  int stalled = 0;
  for (;;) {
    ga_.noalias() = G * alpha;
    res.residual = nash ? (alpha.cwiseProduct(ga_).array() - T(1)).abs().maxCoeff()
                        : (alpha.array().pow(p) * ga_.array() - T(1)).abs().maxCoeff();
    if (!std::isfinite(res.residual)) break;
    if (res.residual <= opt.tol) {
      res.converged = true;
      break;
    }
    if (res.iterations >= opt.max_iter) break;
    ++res.iterations;
    // f(α) = ½αᵀGα − Σφ(αᵢ), φ' = α^{−p}: gradient Gα − α^{−p}, Hessian G + diag(p α^{−p−1}).
    if (nash) {
      grad_ = ga_ - alpha.cwiseInverse();
      hess_ = G;
      hess_.diagonal() += alpha.cwiseProduct(alpha).cwiseInverse();
    } else {
      grad_ = ga_ - alpha.array().pow(-p).matrix();
      hess_ = G;
      hess_.diagonal() += (p * alpha.array().pow(-p - T(1))).matrix();
    }
    llt_.d.compute(hess_);
    if (llt_.d.info() != Eigen::Success) break;
    step_ = llt_.d.solve(grad_);
    step_ = -step_;
    if (!step_.allFinite()) break;
    // The Newton decrement λ² = gradᵀH⁻¹grad. For Nash-MTL f is self-concordant: the damped
    // step 1/(1 + λ) stays in α > 0 and decreases f, and full steps once λ < 1/4 converge
    // quadratically (Nesterov & Nemirovski; Boyd & Vandenberghe §9.6). Other exponents use a
    // backtracking line search on f.
    const T lambda2 = std::max(-grad_.dot(step_), T(0));
    const bool quadratic = lambda2 < T(0.0625);
    if (quadratic) {
      // Rounding floor: full Newton steps no longer reduce the residual.
      stalled = res.residual < best ? 0 : stalled + 1;
      best = std::min(best, res.residual);
      if (stalled >= 3) {
        res.converged = res.residual <= opt.accept_tol;
        break;
      }
    }
    T t = (quadratic || !nash) ? T(1) : T(1) / (T(1) + std::sqrt(lambda2));
    trial_ = alpha + t * step_;
    for (int k = 0; k < 60 && !(trial_.minCoeff() > T(0)); ++k) {  // stay in α > 0
      t *= T(0.5);
      trial_ = alpha + t * step_;
    }
    if (!(trial_.minCoeff() > T(0))) break;
    if (!nash && !quadratic) {
      const T f0 = objective(G, alpha, p);
      for (int k = 0; k < 60 && objective(G, trial_, p) > f0 - T(0.25) * t * lambda2; ++k) {
        t *= T(0.5);
        trial_ = alpha + t * step_;
      }
    }
    alpha = trial_;
  }
  return res;
}

template <typename T>
T NashSolver<T>::objective(const Matrix<T>& G, const Vector<T>& a, T p) {
  tmp_.noalias() = G * a;
  const T quad = T(0.5) * a.dot(tmp_);
  const T phi = p == T(1) ? a.array().log().sum() : (a.array().pow(T(1) - p) / (T(1) - p)).sum();
  return quad - phi;
}

/// One-shot `NashSolver<T>().solve(G, alpha, opt)`.
///
/// @code
/// auto r = onestone::weighting::solvers::solve_nash(G, alpha);   // G·alpha == 1/alpha
/// @endcode
template <typename T>
NashResult<T> solve_nash(const Matrix<T>& G, Vector<T>& alpha, const NashOptions<T>& opt = {}) {
  NashSolver<T> solver;
  return solver.solve(G, alpha, opt);
}

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXTERN_CLASS(WEIGHTING, NashSolver)
ONESTONE_EXPLICIT(WEIGHTING_FLOAT,
                  NashResult<float> solve_nash<float>(const Matrix<float>&, Vector<float>&,
                                                      const NashOptions<float>&))
ONESTONE_EXPLICIT(WEIGHTING_DOUBLE,
                  NashResult<double> solve_nash<double>(const Matrix<double>&, Vector<double>&,
                                                        const NashOptions<double>&))

}  // namespace solvers
}  // namespace weighting
}  // namespace onestone
