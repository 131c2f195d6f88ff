#pragma once
/// @file excess_mtl.hpp
/// `ExcessMTL<T>`: robust multi-task learning with excess risks (He, Zhou, Shi & Chang,
/// ICML 2024).

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// ExcessMTL: task weights by each task's estimated excess risk (its loss above the attainable
/// minimum, from the gradient and a diagonal curvature estimate), updated multiplicatively.
/// Per step and present task i: Sᵢ += gᵢ∘gᵢ, hᵢ = √(Sᵢ + 1e-7) (AdaGrad-like curvature),
/// eᵢ = Σₖ gᵢₖ²/hᵢₖ. For a task's first `warmup` steps its weight is unchanged and eᵢ is
/// averaged into its baseline eᵢ⁰; afterwards ωᵢ ← ωᵢ·exp(η eᵢ/eᵢ⁰), then ω is renormalised.
/// `warmup=0` (TorchJD's default) takes the first step's eᵢ as the baseline and updates with the
/// raw eᵢ on that step. d = Jᵀω.
///
/// Scale (`aggregate`): `mean` (default, the paper's: ω on the simplex, starting at 1/T, as
/// TorchJD) or `sum` (ω sums to T, starting at 1: the authors' code and LibMTL); the two differ
/// by the factor T only. η = 1e-2 (the authors' code and LibMTL; TorchJD: 1), warmup = 1 (the
/// authors' code and LibMTL; the paper's appendix collects three epochs). Robust to label noise:
/// a task whose risk cannot be reduced stops gaining weight. S is per coordinate, so a change of
/// Jacobian width restarts the method.
template <typename T>
class ExcessMTL : public GradientMethod<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit ExcessMTL(double eta = 1e-2, bool simplex = true, int warmup = 1)
      : eta_(eta), simplex_(simplex), warmup_(warmup) {
    if (!(eta > 0) || !std::isfinite(eta))
      throw std::invalid_argument("ExcessMTL: eta must be > 0");
    if (warmup < 0) throw std::invalid_argument("ExcessMTL: warmup must be >= 0");
  }
  std::string name() const override { return "excess_mtl"; }
  bool per_coordinate_state() const override { return true; }
  void reset(int n) override;
  /// The weights by task, summing to T (`aggregate=sum`'s scale).
  const Vector<T>& omega() const { return omega_; }
  void get_extra_state(nn::ExtraState& s) const override;
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void direction(const Jacobian<T>& J, const StepInfo<T>& info, Vector<T>& d,
                 Vector<T>& w) override;

 private:
  double eta_;
  bool simplex_;
  int warmup_;
  Jacobian<T> S_;
  Vector<T> omega_, base_, esum_, seen_;
};

template <typename T>
void ExcessMTL<T>::reset(int n) {
  GradientMethod<T>::reset(n);
  S_.resize(0, 0);
  omega_ = Vector<T>::Ones(n);
  base_ = Vector<T>::Zero(n);
  esum_ = Vector<T>::Zero(n);
  seen_ = Vector<T>::Zero(n);
}

template <typename T>
void ExcessMTL<T>::get_extra_state(nn::ExtraState& s) const {
  GradientMethod<T>::get_extra_state(s);
  s.put("grad_sq_sum", S_);
  s.put("omega", omega_);
  s.put("baseline", base_);
  s.put("warmup_sum", esum_);
  s.put("seen", seen_);
}

template <typename T>
void ExcessMTL<T>::set_extra_state(const nn::ExtraState& s) {
  Jacobian<T> S;
  Vector<T> om, base, esum, seen;
  s.get("grad_sq_sum", S);
  s.get("omega", om, this->num_tasks_);
  s.get("baseline", base, this->num_tasks_);
  s.get("warmup_sum", esum, this->num_tasks_);
  s.get("seen", seen, this->num_tasks_);
  if (S.size() != 0 && S.rows() != this->num_tasks_)
    throw std::runtime_error("ExcessMTL: extra state 'grad_sq_sum' of '" + s.owner() + "' has " +
                             std::to_string(S.rows()) + " rows for " +
                             std::to_string(this->num_tasks_) + " tasks");
  GradientMethod<T>::set_extra_state(s);
  S_ = std::move(S);
  omega_ = std::move(om);
  base_ = std::move(base);
  esum_ = std::move(esum);
  seen_ = std::move(seen);
}

template <typename T>
void ExcessMTL<T>::direction(const Jacobian<T>& J, const StepInfo<T>& info, Vector<T>& d,
                             Vector<T>& w) {
  const Eigen::Index m = J.rows(), P = J.cols();
  if (S_.rows() != this->num_tasks_ || S_.cols() != P) {
    S_.setZero(this->num_tasks_, P);
    base_.setZero(this->num_tasks_);
    esum_.setZero(this->num_tasks_);
    seen_.setZero(this->num_tasks_);
    omega_.setOnes(this->num_tasks_);
  }
  bool changed = false;
  const T k = static_cast<T>(warmup_);
  for (Eigen::Index r = 0; r < m; ++r) {
    const int t = info.task(r);
    S_.row(t).array() += J.row(r).array().square();
    const T e = (J.row(r).array().square() / (S_.row(t).array() + T(1e-7)).sqrt()).sum();
    seen_[t] += T(1);
    if (seen_[t] <= k) {  // warm-up: collect the baseline, weight unchanged
      esum_[t] += e;
      continue;
    }
    T ratio = e;  // warmup = 0: the first step updates with the raw e (TorchJD)
    if (base_[t] == T(0)) {
      const T b = warmup_ > 0 ? esum_[t] / k : e;
      base_[t] = b > T(0) ? b : T(1e-12);
      if (warmup_ > 0) ratio = e / base_[t];
    } else {
      ratio = e / base_[t];
    }
    omega_[t] *= std::exp(static_cast<T>(eta_) * ratio);
    changed = true;
  }
  if (changed) omega_ *= static_cast<T>(this->num_tasks_) / omega_.sum();
  this->gather(omega_, info, w);
  if (simplex_) w /= static_cast<T>(this->num_tasks_);
  d.noalias() = J.transpose() * w;
}
ONESTONE_EXTERN_CLASS(WEIGHTING, ExcessMTL)

}  // namespace weighting
}  // namespace onestone
