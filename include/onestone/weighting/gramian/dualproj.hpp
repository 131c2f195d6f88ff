#pragma once
/// @file dualproj.hpp
/// `DualProj<T>`: the projection of the weighted mean gradient onto the dual cone (Quinton &
/// Rey 2024).

#include <string>

#include "onestone/weighting/gramian/dual_cone.hpp"

namespace onestone {
namespace weighting {

/// DualProj: d = Jᵀw with w = argmin_{v ≥ u} vᵀGv, the projection of Jᵀu (u = 1/m: the mean
/// gradient) onto the dual cone {x : Jx ≥ 0}. Non-conflicting. `reg_eps=1e-4` reproduces
/// TorchJD's regularised values (slightly conflicting on some Jacobians).
template <typename T>
class DualProj : public DualConeWeighting<T> {
 public:
  explicit DualProj(DualConeOptions<T> opt = {}) : DualConeWeighting<T>(std::move(opt)) {}
  std::string name() const override { return "dualproj"; }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>* J, const StepInfo<T>& info,
             Vector<T>& w) override {
    this->prepare_projection(G, J, info);
    this->converged_ = this->projector_.project(this->u_, w, this->opt_.solver).converged;
  }
};
ONESTONE_EXTERN_CLASS(WEIGHTING, DualProj)

}  // namespace weighting
}  // namespace onestone
