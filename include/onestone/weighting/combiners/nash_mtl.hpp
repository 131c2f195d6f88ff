#pragma once
/// @file nash_mtl.hpp
/// `NashMTL<T>`: multi-task learning as a bargaining game (Navon et al. 2022).

#include <stdexcept>
#include <string>

#include "onestone/nn/extra_state.hpp"
#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/solvers/nash.hpp"

namespace onestone {
namespace weighting {

/// Nash-MTL (Navon, Shamsian, Achituve, Maron, Kawaguchi, Chechik & Fetaya 2022, "Multi-Task
/// Learning as a Bargaining Game", ICML). The Nash bargaining solution is d = Σᵢ αᵢgᵢ = Jᵀα with
/// α > 0 solving
///     (Gα)ᵢ = 1/αᵢ  for every i,   G = JJᵀ,
/// so that every task gets gᵢ·d = 1/αᵢ > 0 (for orthogonal gradients αᵢ = 1/‖gᵢ‖ and
/// d = Σ gᵢ/‖gᵢ‖). α is found to high accuracy by `solvers::NashSolver` (damped Newton on the
/// convex ½αᵀGα − Σlog αᵢ) instead of the paper's 20 rounds of convex approximations (whose
/// constraints αᵢ(Gα)ᵢ ≥ 1 describe the same α); the previous α warm-starts the next call.
///
/// Scale: as in the paper, fixed by the equations (not normalised; the reference code clips the
/// final gradient norm to 1, which belongs to the training loop). weights() is α.
/// No α exists when a gradient is zero or some non-negative combination of gradients vanishes
/// (e.g. g₂ = −g₁); then combine throws std::runtime_error. State: the warm start (`reset()`).
///
/// @code
/// onestone::weighting::NashMTL<double> nash;
/// onestone::weighting::Vector<double> d;
/// nash.combine(J, d);   // J = [2 0; 0 1]: alpha = (0.5, 1), d = (1, 1)
/// @endcode
template <typename T>
class NashMTL {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// @param opt Newton solver options.
  explicit NashMTL(solvers::NashOptions<T> opt = {}) : opt_(opt) {}

  /// The method's name, used in error messages.
  static const char* name() { return "Nash-MTL"; }

  /// Forgets the warm start.
  void reset() { alpha_.resize(0); }

  /// d ← Jᵀα. @throws std::invalid_argument on bad J; std::runtime_error when no α exists
  /// (the solver does not converge).
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    gram(J, G_);
    for (Eigen::Index i = 0; i < G_.rows(); ++i)
      if (!(G_(i, i) > T(0)))
        throw std::runtime_error(std::string(name()) + ": task " + std::to_string(i) +
                                 " has a zero gradient (Jacobian " +
                                 detail::shape_str(J.rows(), J.cols()) +
                                 "); no alpha > 0 solves G alpha = 1/alpha");
    result_ = solver_.solve(G_, alpha_, opt_, /*warm_start=*/true);
    if (!result_.converged) {
      // A stale warm start could in principle slow Newton down: retry from scratch once
      // (warm_start = false ignores alpha_'s values and keeps its storage).
      result_ = solver_.solve(G_, alpha_, opt_, false);
    }
    if (!result_.converged) {
      alpha_.resize(0);
      throw std::runtime_error(std::string(name()) + ": no solution of G alpha = 1/alpha for the " +
                               detail::shape_str(J.rows(), J.cols()) + " Jacobian (residual " +
                               std::to_string(result_.residual) +
                               "); the gradients may be linearly dependent or opposed");
    }
    d.noalias() = J.transpose() * alpha_;
  }

  /// α of the last call: d = Jᵀ·weights().
  const Vector& weights() const { return alpha_; }
  /// Convergence information of the last solve.
  const solvers::NashResult<T>& solver_result() const { return result_; }

  /// Saves the warm start α (for checkpoints through `GradientBalancer`).
  void save_state(nn::ExtraState& s) const { s.put("alpha", alpha_); }
  /// Restores what `save_state` saved.
  void load_state(const nn::ExtraState& s) {
    Vector alpha;
    s.get("alpha", alpha);
    alpha_ = std::move(alpha);
  }

 private:
  solvers::NashOptions<T> opt_;
  solvers::NashSolver<T> solver_;
  solvers::NashResult<T> result_;
  Matrix G_;
  Vector alpha_;
};

}  // namespace weighting
}  // namespace onestone
