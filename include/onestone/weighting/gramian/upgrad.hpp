#pragma once
/// @file upgrad.hpp
/// `UPGrad<T>`: unconflicting projection of gradients (Quinton & Rey 2024, Jacobian descent).

#include <string>

#include "onestone/weighting/gramian/dual_cone.hpp"

namespace onestone {
namespace weighting {

/// UPGrad: each uᵢgᵢ is projected onto the dual cone {x : Jx ≥ 0} and the projections summed:
/// w = Σᵢ argmin_{v ≥ uᵢeᵢ} vᵀGv, d = Jᵀw (u = 1/m by default: the mean scale). Non-conflicting
/// (gᵢ·d ≥ 0), equal to the mean when nothing conflicts. TorchJD's and LibMTL's defaults
/// regularise the Gram matrix: `reg_eps=1e-4` reproduces them (then gᵢ·d may dip below 0 by
/// about 1e-4·tr(G)); the default here is the exact projection (reg_eps 0).
template <typename T>
class UPGrad : public DualConeWeighting<T> {
 public:
  explicit UPGrad(DualConeOptions<T> opt = {}) : DualConeWeighting<T>(std::move(opt)) {}
  std::string name() const override { return "upgrad"; }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>* J, const StepInfo<T>& info,
             Vector<T>& w) override;

 private:
  Vector<T> unit_, wi_;
};

template <typename T>
void UPGrad<T>::weigh(const Matrix<T>& G, const Jacobian<T>* J, const StepInfo<T>& info,
                      Vector<T>& w) {
  this->prepare_projection(G, J, info);
  const Eigen::Index m = G.rows();
  w.setZero(m);
  for (Eigen::Index i = 0; i < m; ++i) {
    unit_.setZero(m);
    unit_[i] = this->u_[i];
    this->converged_ =
        this->projector_.project(unit_, wi_, this->opt_.solver).converged && this->converged_;
    w += wi_;
  }
}
ONESTONE_EXTERN_CLASS(WEIGHTING, UPGrad)

}  // namespace weighting
}  // namespace onestone
