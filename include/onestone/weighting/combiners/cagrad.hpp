#pragma once
/// @file cagrad.hpp
/// `CAGrad<T>`: conflict-averse gradient descent (Liu et al. 2021).

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/solvers/cagrad_dual.hpp"

namespace onestone {
namespace weighting {

/// How CAGrad rescales its direction (the `rescale` argument of the authors' code):
/// none: d = g₀ + λg_w;  squared (default, rescale=1): divided by (1 + c²);
/// linear (rescale=2): divided by (1 + c).
///
/// @code
/// onestone::weighting::CAGrad<double> cag(0.5, onestone::weighting::CAGradRescale::none);
/// @endcode
enum class CAGradRescale { none, squared, linear };

/// CAGrad (Liu, Liu, Jin, Stone & Liu 2021, "Conflict-Averse Gradient Descent for Multi-task
/// Learning", NeurIPS). With the mean gradient g₀ = (1/T)Σgᵢ and φ = c²‖g₀‖², the update
/// maximises the worst task improvement in a ball around g₀:
///     max_d minᵢ gᵢ·d   subject to ‖d − g₀‖ ≤ √φ,
/// solved through its dual over the simplex (`solvers::CAGradDualSolver`)
///     w = argmin_{w ∈ Δ} g_wᵀg₀ + √φ‖g_w‖,   g_w = Σᵢwᵢgᵢ,
/// giving d = g₀ + (√φ/‖g_w‖)·g_w, then divided by (1 + c²) (the authors' default rescale=1;
/// see `CAGradRescale`). The paper uses c ∈ [0, 1); if ‖g_w‖ = 0 at the dual optimum (possible
/// only when 0 is in the convex hull of the gradients, and then the optimum for c ≥ 1), d = g₀.
/// solver_result() reports the dual's convergence (nearly opposed gradients may leave a small
/// duality gap, see `solvers::CAGradDualSolver`).
///
/// Scale: the MEAN gradient (c = 0 gives exactly g₀ = (1/T)Σgᵢ), as in the paper and code.
/// weights() gives d = Jᵀ·weights() (= (1/T + λwᵢ)/rescale); simplex_weights() is w.
///
/// @code
/// onestone::weighting::CAGrad<double> cag(/*c=*/0.5);
/// onestone::weighting::Vector<double> d;
/// cag.combine(J, d);   // J = [1 0; 0 1]: d = 1.5·(0.5, 0.5)/1.25 = (0.6, 0.6)
/// @endcode
template <typename T>
class CAGrad {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// @param c the conflict-aversion radius c ≥ 0 (paper: 0.5; 0 gives the mean gradient).
  /// @param rescale the final rescaling. @param opt dual-solver options.
  explicit CAGrad(T c = T(0.5), CAGradRescale rescale = CAGradRescale::squared,
                  solvers::CAGradDualOptions<T> opt = {})
      : c_(c), rescale_(rescale), opt_(opt) {
    if (!(c >= T(0)) || !std::isfinite(c))
      throw std::invalid_argument("CAGrad: c must be finite and >= 0");
  }

  /// The method's name, used in error messages.
  static const char* name() { return "CAGrad"; }

  /// d ← the CAGrad direction. @throws std::invalid_argument on an empty or non-finite J.
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    const Eigen::Index m = J.rows();
    const T inv_m = T(1) / static_cast<T>(m);
    gram(J, G_);
    centre_.setConstant(m, inv_m);
    b_.noalias() = G_ * centre_;  // bᵢ = gᵢ·g₀
    const T g0_norm = std::sqrt(std::max(b_.sum() * inv_m, T(0)));
    const T radius = c_ * g0_norm;  // √φ
    weights_.setConstant(m, inv_m);
    simplex_.setConstant(m, inv_m);
    lambda_ = T(0);
    if (radius > T(0)) {
      result_ = solver_.solve(G_, b_, radius, simplex_, opt_);
      gw_.noalias() = G_ * simplex_;
      const T gw = std::sqrt(std::max(simplex_.dot(gw_), T(0)));
      if (gw > T(0)) lambda_ = radius / gw;
      weights_ += lambda_ * simplex_;
    }
    switch (rescale_) {
      case CAGradRescale::none:
        break;
      case CAGradRescale::squared:
        weights_ /= (T(1) + c_ * c_);
        break;
      case CAGradRescale::linear:
        weights_ /= (T(1) + c_);
        break;
    }
    d.noalias() = J.transpose() * weights_;
  }

  /// The coefficients of the last call: d = Jᵀ·weights().
  const Vector& weights() const { return weights_; }
  /// The dual simplex weights w of the last call.
  const Vector& simplex_weights() const { return simplex_; }
  /// λ = √φ/‖g_w‖ of the last call (0 when c = 0 or g_w = 0).
  T lambda() const { return lambda_; }
  /// Convergence information of the last dual solve.
  const solvers::CAGradDualResult<T>& solver_result() const { return result_; }

 private:
  T c_;
  CAGradRescale rescale_;
  solvers::CAGradDualOptions<T> opt_;
  solvers::CAGradDualSolver<T> solver_;
  solvers::CAGradDualResult<T> result_;
  Matrix G_;
  Vector b_, simplex_, weights_;
  Vector centre_, gw_;  // scratch: 𝟙/T and G·w
  T lambda_ = T(0);
};

}  // namespace weighting
}  // namespace onestone
