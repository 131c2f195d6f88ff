#pragma once
/// @file nash_mtl.hpp
/// `NashMTL<T>` (Navon et al., ICML 2022) and `FairGrad<T>` (Ban & Ji, ICML 2024): the
/// bargaining weights solving (Gw)ᵢ = wᵢ^{−1/α}.

#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/solvers/nash.hpp"

namespace onestone {
namespace weighting {

/// The α-fair weighting shared by Nash-MTL (α = 1) and FairGrad: w > 0 with
/// (Gw)ᵢ = wᵢ^{−1/α}, so that gᵢ·d = wᵢ^{−1/α} > 0 for every task (d = Jᵀw never conflicts);
/// solved by damped Newton on a strictly convex potential, warm-started from the previous step's
/// weights of the same tasks. No solution when a gradient is zero or gradients are opposed: that
/// step falls back to the previous weights. Nash-MTL's ‖d‖² = Σwᵢ(Gw)ᵢ = T exactly; its
/// reference code clips the update to norm 1 (`max_norm=1`) and recomputes the weights every
/// step (`update_every`, which the reference exposes as `update_weights_every`).
template <typename T>
class FairWeighting : public GramianWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  FairWeighting(double alpha, int update_every, solvers::NashOptions<T> opt);
  void reset(int n) override {
    GramianWeighting<T>::reset(n);
    warm_ = Vector<T>::Zero(n);
  }
  double alpha() const { return alpha_; }
  const solvers::NashResult<T>& solver_result() const { return result_; }
  void get_extra_state(nn::ExtraState& s) const override {
    GramianWeighting<T>::get_extra_state(s);
    s.put("alpha", warm_);
  }
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override;

 private:
  double alpha_;
  int every_;
  solvers::NashOptions<T> opt_;
  solvers::NashSolver<T> solver_;
  solvers::NashResult<T> result_;
  Vector<T> warm_, sub_;
};

template <typename T>
FairWeighting<T>::FairWeighting(double alpha, int update_every, solvers::NashOptions<T> opt)
    : alpha_(alpha), every_(update_every), opt_(opt) {
  if (!(alpha > 0) || !std::isfinite(alpha))
    throw std::invalid_argument("FairGrad: alpha must be finite and > 0");
  if (update_every < 1) throw std::invalid_argument("Nash-MTL: update_every must be >= 1");
  opt_.exponent = 1.0 / alpha;
}

template <typename T>
void FairWeighting<T>::set_extra_state(const nn::ExtraState& s) {
  Vector<T> a;
  s.get("alpha", a, this->num_tasks_);
  GramianWeighting<T>::set_extra_state(s);
  warm_ = std::move(a);
}

template <typename T>
void FairWeighting<T>::weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
                             Vector<T>& w) {
  this->gather(warm_, info, sub_);
  const bool have = sub_.size() > 0 && sub_.minCoeff() > T(0);
  if (have && this->steps_ % every_ != 0) {  // reuse the last weights between updates
    w = sub_;
    return;
  }
  for (Eigen::Index i = 0; i < G.rows(); ++i)
    if (!(G(i, i) > T(0)))
      throw std::runtime_error(this->name() + ": task " + std::to_string(info.task(i)) +
                               " has a zero gradient; no w > 0 solves (Gw)ᵢ = wᵢ^(-1/alpha)");
  result_ = solver_.solve(G, sub_, opt_, have);
  if (!result_.converged) result_ = solver_.solve(G, sub_, opt_, false);
  if (!result_.converged)
    throw std::runtime_error(this->name() + ": no solution of (Gw)_i = w_i^(-1/alpha) (residual " +
                             std::to_string(result_.residual) +
                             "); the gradients may be linearly dependent or opposed");
  w = sub_;
  this->scatter(sub_, info, warm_);
}
ONESTONE_EXTERN_CLASS(WEIGHTING, FairWeighting)

/// Nash-MTL: multi-task learning as a bargaining game, Gw = 1/w (α = 1). Defaults as the
/// paper (no norm cap, weights every step); `max_norm=1` reproduces the reference code's
/// clipping (then d has norm 1, TorchJD's value).
///
/// @code
/// onestone::weighting::NashMTL<double> nash;
/// nash.combine_gradients(J, d);   // J·d == 1/weights()
/// @endcode
template <typename T>
class NashMTL : public FairWeighting<T> {
 public:
  explicit NashMTL(int update_every = 1, solvers::NashOptions<T> opt = {})
      : FairWeighting<T>(1.0, update_every, opt) {}
  std::string name() const override { return "nash_mtl"; }
};
ONESTONE_EXTERN_CLASS(WEIGHTING, NashMTL)

/// FairGrad: α-fair resource allocation over tasks, (Gw)ᵢ = wᵢ^{−1/α}; α = 1 is Nash-MTL, larger
/// α is fairer towards the worst task. α = 1 (the authors' default; their experiments use 2).
/// The authors' code multiplies d by T and then clips it to norm 1:
/// `aggregate=times_tasks,max_norm=1`. LibMTL and TorchJD solve the same equations, d = Jᵀw.
template <typename T>
class FairGrad : public FairWeighting<T> {
 public:
  explicit FairGrad(double alpha = 1.0, solvers::NashOptions<T> opt = {})
      : FairWeighting<T>(alpha, 1, opt) {}
  std::string name() const override { return "fairgrad"; }
};
ONESTONE_EXTERN_CLASS(WEIGHTING, FairGrad)

}  // namespace weighting
}  // namespace onestone
