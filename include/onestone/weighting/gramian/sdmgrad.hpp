#pragma once
/// @file sdmgrad.hpp
/// `SDMGrad<T>`: stochastic direction-oriented multi-objective gradient (Xiao, Ban & Ji,
/// NeurIPS 2023).

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/solvers/project_simplex.hpp"

namespace onestone {
namespace weighting {

/// SDMGrad: MGDA regularised towards the average gradient, with double sampling. From the
/// cross-Gram matrix A = J₁J₂ᵀ of two independent estimates (the two halves of the batch; A = G
/// without them), scaled by s² = mean(√(diag A + 1e-4))², the simplex weights w (kept across
/// steps, per task) take `niter` steps of SGD with momentum 0.5 (restarted each step) on the
/// objective ½‖Jᵀ(w + λw̃)‖², gradient A(w + λw̃), each followed by projection onto the
/// simplex; then d = Jᵀ(w + λw̃)/(1 + λ) with w̃ = 1/m. The fixed point is MGDA on the shrunk
/// simplex {c ∈ Δ : cᵢ ≥ λ/((1+λ)m)}: λ = 0 is MGDA, λ → ∞ the mean. λ = 0.3, niter = 20, lr = 10
/// (the authors' experiments; LibMTL: lr 5). The scale s² is the authors' code's
/// (`scale=reference`); LibMTL and TorchJD use s² = mean(√max(Aᵢᵢ, 0))² + 1e-8
/// (`scale=clamped`). The authors multiply d by T and clip its norm to 1
/// (`aggregate=times_tasks,max_norm=1`).
template <typename T>
class SDMGrad : public GramianWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit SDMGrad(double lambda = 0.3, int niter = 20, double lr = 10.0, double momentum = 0.5,
                   bool clamped_scale = false)
      : lambda_(lambda), niter_(niter), lr_(lr), momentum_(momentum), clamped_(clamped_scale) {
    if (!(lambda >= 0) || niter < 1 || !(lr > 0) || !(momentum >= 0 && momentum < 1))
      throw std::invalid_argument(
          "SDMGrad: needs lambda >= 0, niter >= 1, lr > 0, momentum in [0, 1)");
  }
  std::string name() const override { return "sdmgrad"; }
  bool needs_cross_gramian() const override { return true; }
  void reset(int n) override {
    GramianWeighting<T>::reset(n);
    state_ = Vector<T>::Constant(n, T(1) / static_cast<T>(n));
  }
  /// The simplex weights w by task.
  const Vector<T>& simplex_state() const { return state_; }
  void get_extra_state(nn::ExtraState& s) const override {
    GramianWeighting<T>::get_extra_state(s);
    s.put("w", state_);
  }
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void weigh(const Matrix<T>& A, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override;

 private:
  double lambda_;
  int niter_;
  double lr_, momentum_;
  bool clamped_;
  Vector<T> state_, x_, c_, grad_, vel_, y_, uniform_, scratch_;
  Matrix<T> An_;
};

template <typename T>
void SDMGrad<T>::set_extra_state(const nn::ExtraState& s) {
  Vector<T> v;
  s.get("w", v, this->num_tasks_);
  GramianWeighting<T>::set_extra_state(s);
  state_ = std::move(v);
}

template <typename T>
void SDMGrad<T>::weigh(const Matrix<T>& A, const Jacobian<T>*, const StepInfo<T>& info,
                       Vector<T>& w) {
  const Eigen::Index m = A.rows();
  const T lam = static_cast<T>(lambda_);
  this->gather(state_, info, x_);
  const T share = x_.sum();
  if (share > T(0))
    x_ /= share;
  else
    x_.setConstant(m, T(1) / static_cast<T>(m));
  T s = 0;
  for (Eigen::Index i = 0; i < m; ++i)
    s += std::sqrt(std::max(A(i, i), T(0)) + (clamped_ ? T(0) : T(1e-4)));
  s /= static_cast<T>(m);
  An_ = A / (s * s + (clamped_ ? T(1e-8) : T(0)));
  uniform_.setConstant(m, T(1) / static_cast<T>(m));
  vel_.setZero(m);
  for (int k = 0; k < niter_; ++k) {
    c_ = x_ + lam * uniform_;
    grad_.noalias() = An_ * c_;
    vel_ = static_cast<T>(momentum_) * vel_ + grad_;
    y_ = x_ - static_cast<T>(lr_) * vel_;
    solvers::project_simplex(y_, x_, scratch_);
  }
  w = (x_ + lam * uniform_) / (T(1) + lam);
  y_ = x_ * (share > T(0) ? share : T(1));
  this->scatter(y_, info, state_);
}
ONESTONE_EXTERN_CLASS(WEIGHTING, SDMGrad)

}  // namespace weighting
}  // namespace onestone
