#pragma once
/// @file dualproj.hpp
/// `DualProj<T>`: projection of the mean gradient onto the dual cone (Quinton & Rey 2024).

#include <utility>

#include "onestone/weighting/combiners/dual_cone.hpp"
#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {

/// DualProj (Quinton & Rey 2024, "Jacobian Descent for Multi-Objective Optimization", torchjd):
/// project the weighted mean g = Jᵀu (uᵢ = 1/T) onto the dual cone C = {x : Jx ≥ 0} of the rows:
///     w = argmin_{w ≥ u} wᵀGw   (a bound-constrained QP solved as non-negative least squares,
///                              `DualConeProjector`),   d = Jᵀw,
/// the closest vector to the mean gradient that conflicts with no task (gⱼ·d ≥ 0 for all j).
///
/// Scale: the projected MEAN gradient (equal to the mean when nothing conflicts);
/// `DualConeOptions::pref` changes u. weights() gives d = Jᵀ·weights(). Order independent.
///
/// @code
/// onestone::weighting::DualProj<double> dp;
/// onestone::weighting::Vector<double> d;
/// dp.combine(J, d);   // J = [1 0; -1 1]: mean (0, 0.5) already in C, d == (0, 0.5)
/// @endcode
template <typename T>
class DualProj {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// @param opt preference vector, regularisation and solver options.
  explicit DualProj(DualConeOptions<T> opt = {}) : opt_(std::move(opt)) {
    detail::check_pref(name(), opt_);
  }

  /// The method's name, used in error messages.
  static const char* name() { return "DualProj"; }

  /// d ← Jᵀw. @throws std::invalid_argument on bad J or pref of the wrong size.
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    detail::dual_cone_pref(name(), opt_, J.rows(), J, u_);
    projector_.factorize(J, opt_.reg_eps);
    converged_ = projector_.project(u_, weights_, opt_.solver).converged;
    d.noalias() = J.transpose() * weights_;
  }

  /// The coefficients of the last call: d = Jᵀ·weights().
  const Vector& weights() const { return weights_; }
  /// Whether the projection of the last call met its tolerance.
  bool converged() const { return converged_; }

 private:
  DualConeOptions<T> opt_;
  DualConeProjector<T> projector_;
  Vector u_, weights_;
  bool converged_ = true;
};

}  // namespace weighting
}  // namespace onestone
