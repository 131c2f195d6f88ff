#pragma once
/// @file upgrad.hpp
/// `UPGrad<T>`: unconflicting projection of gradients (Quinton & Rey 2024, Jacobian descent).

#include <utility>

#include "onestone/weighting/combiners/dual_cone.hpp"
#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {

/// UPGrad (Quinton & Rey 2024, "Jacobian Descent for Multi-Objective Optimization", and its
/// library torchjd): project every gradient onto the dual cone C = {x : Jx ≥ 0} of the rows and
/// average, d = Σᵢ uᵢ π_C(gᵢ) with uᵢ = 1/T. By the paper's Proposition 1, the projection of
/// Jᵀv is Jᵀw with w = argmin_{w ≥ v} wᵀGw (G = JJᵀ), so
///     w⁽ⁱ⁾ = argmin_{w ≥ uᵢeᵢ} wᵀGw   (one bound-constrained QP per task, solved as a
///                                    non-negative least-squares problem, `DualConeProjector`),
///     d = Jᵀ Σᵢ w⁽ⁱ⁾.
/// Every projection lies in C, hence gⱼ·d ≥ 0 for every task j (non-conflicting).
///
/// Scale: the MEAN of the projected gradients (the paper's and torchjd's default; it equals the
/// mean gradient when no gradients conflict). `DualConeOptions::pref` changes u (e.g. all ones for
/// a sum scale). w does not depend on the scale of J. weights() gives d = Jᵀ·weights(). d does
/// not depend on the task order. Cost: one QR of Jᵀ (O(PT²)) and T small NNLS solves.
///
/// @code
/// onestone::weighting::UPGrad<double> up;
/// onestone::weighting::Vector<double> d;
/// up.combine(J, d);   // J·d >= 0 row by row
/// @endcode
template <typename T>
class UPGrad {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// @param opt preference vector, regularisation and solver options.
  explicit UPGrad(DualConeOptions<T> opt = {}) : opt_(std::move(opt)) {
    detail::check_pref(name(), opt_);
  }

  /// The method's name, used in error messages.
  static const char* name() { return "UPGrad"; }

  /// d ← Jᵀ Σᵢ w⁽ⁱ⁾. @throws std::invalid_argument on bad J or pref of the wrong size.
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    const Eigen::Index m = J.rows();
    detail::dual_cone_pref(name(), opt_, m, J, u_);
    projector_.factorize(J, opt_.reg_eps);
    weights_.setZero(m);
    converged_ = true;
    for (Eigen::Index i = 0; i < m; ++i) {
      unit_.setZero(m);
      unit_[i] = u_[i];
      converged_ = projector_.project(unit_, w_, opt_.solver).converged && converged_;
      weights_ += w_;
    }
    d.noalias() = J.transpose() * weights_;
  }

  /// The coefficients of the last call: d = Jᵀ·weights().
  const Vector& weights() const { return weights_; }
  /// Whether every projection of the last call met its tolerance.
  bool converged() const { return converged_; }

 private:
  DualConeOptions<T> opt_;
  DualConeProjector<T> projector_;
  Vector u_, unit_, w_, weights_;
  bool converged_ = true;
};

}  // namespace weighting
}  // namespace onestone
