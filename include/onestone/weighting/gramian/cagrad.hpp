#pragma once
/// @file cagrad.hpp
/// `CAGrad<T>`: conflict-averse gradient descent (Liu et al., NeurIPS 2021).

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/solvers/cagrad_dual.hpp"

namespace onestone {
namespace weighting {

/// How CAGrad rescales its update (the `rescale` of the authors' code): none (0, TorchJD):
/// d = g₀ + λg_w; squared (1, the authors' default and LibMTL's): divided by 1 + c²;
/// linear (2): divided by 1 + c.
enum class CAGradRescale { none, squared, linear };

/// CAGrad: maximise the worst task improvement in a ball around the average gradient g₀,
///     max_d minᵢ gᵢ·d  s.t. ‖d − g₀‖ ≤ c‖g₀‖,
/// through its dual on the simplex, min_{w∈Δ} g_wᵀg₀ + c‖g₀‖‖g_w‖ (g_w = Jᵀw), solved on the Gram
/// matrix; then d = g₀ + (c‖g₀‖/‖g_w‖) g_w, rescaled. c = 0.5 (the authors' function default;
/// their experiments use 0.4); c = 0 gives the mean gradient.
template <typename T>
class CAGrad : public GramianWeighting<T> {
 public:
  explicit CAGrad(double c = 0.5, CAGradRescale rescale = CAGradRescale::squared,
                  solvers::CAGradDualOptions<T> opt = {})
      : c_(c), rescale_(rescale), opt_(opt) {
    if (!(c >= 0) || !std::isfinite(c))
      throw std::invalid_argument("CAGrad: c must be finite and >= 0");
  }
  std::string name() const override { return "cagrad"; }
  double c() const { return c_; }
  CAGradRescale rescale() const { return rescale_; }
  const Vector<T>& simplex_weights() const { return simplex_; }
  T lambda() const { return lambda_; }
  const solvers::CAGradDualResult<T>& solver_result() const { return result_; }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>&, Vector<T>& w) override;

 private:
  double c_;
  CAGradRescale rescale_;
  solvers::CAGradDualOptions<T> opt_;
  solvers::CAGradDualSolver<T> solver_;
  solvers::CAGradDualResult<T> result_;
  Vector<T> b_, simplex_, centre_, gw_;
  T lambda_ = T(0);
};

template <typename T>
void CAGrad<T>::weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>&, Vector<T>& w) {
  const Eigen::Index m = G.rows();
  const T inv_m = T(1) / static_cast<T>(m);
  const T c = static_cast<T>(c_);
  centre_.setConstant(m, inv_m);
  b_.noalias() = G * centre_;  // bᵢ = gᵢ·g₀
  const T g0_norm = std::sqrt(std::max(b_.sum() * inv_m, T(0)));
  const T radius = c * g0_norm;
  w.setConstant(m, inv_m);
  simplex_.setConstant(m, inv_m);
  lambda_ = T(0);
  if (radius > T(0)) {
    result_ = solver_.solve(G, b_, radius, simplex_, opt_);
    gw_.noalias() = G * simplex_;
    const T gw = std::sqrt(std::max(simplex_.dot(gw_), T(0)));
    if (gw > T(0)) lambda_ = radius / gw;
    w += lambda_ * simplex_;
  }
  if (rescale_ == CAGradRescale::squared)
    w /= (T(1) + c * c);
  else if (rescale_ == CAGradRescale::linear)
    w /= (T(1) + c);
}
ONESTONE_EXTERN_CLASS(WEIGHTING, CAGrad)

}  // namespace weighting
}  // namespace onestone
