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
/// eᵢ = Σₖ gᵢₖ²/hᵢₖ; the first time a task is seen eᵢ becomes its baseline eᵢ⁰ and its weight
/// is unchanged, afterwards ωᵢ ← ωᵢ·exp(η eᵢ/eᵢ⁰); then ω ← T·ω/Σω; d = Jᵀω. ω starts at 1.
/// η = 1e-2 (the authors' code and LibMTL; TorchJD: 1, on the simplex). Robust to label noise:
/// a task whose risk cannot be reduced stops gaining weight. S is per coordinate, so a change of
/// Jacobian width restarts the method.
template <typename T>
class ExcessMTL : public GradientMethod<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit ExcessMTL(double eta = 1e-2) : eta_(eta) {
    if (!(eta > 0) || !std::isfinite(eta)) throw std::invalid_argument("ExcessMTL: eta must be > 0");
  }
  std::string name() const override { return "excess_mtl"; }
  bool per_coordinate_state() const override { return true; }
  void reset(int n) override {
    GradientMethod<T>::reset(n);
    S_.resize(0, 0);
    omega_ = Vector<T>::Ones(n);
    base_ = Vector<T>::Zero(n);
  }
  const Vector<T>& omega() const { return omega_; }
  void get_extra_state(nn::ExtraState& s) const override {
    GradientMethod<T>::get_extra_state(s);
    s.put("grad_sq_sum", S_);
    s.put("omega", omega_);
    s.put("baseline", base_);
  }
  void set_extra_state(const nn::ExtraState& s) override {
    Jacobian<T> S;
    Vector<T> om, base;
    s.get("grad_sq_sum", S);
    s.get("omega", om, this->num_tasks_);
    s.get("baseline", base, this->num_tasks_);
    if (S.size() != 0 && S.rows() != this->num_tasks_)
      throw std::runtime_error("ExcessMTL: extra state 'grad_sq_sum' of '" + s.owner() +
                               "' has " + std::to_string(S.rows()) + " rows for " +
                               std::to_string(this->num_tasks_) + " tasks");
    GradientMethod<T>::set_extra_state(s);
    S_ = std::move(S);
    omega_ = std::move(om);
    base_ = std::move(base);
  }

 protected:
  void direction(const Jacobian<T>& J, const StepInfo<T>& info, Vector<T>& d,
                 Vector<T>& w) override {
    const Eigen::Index m = J.rows(), P = J.cols();
    if (S_.rows() != this->num_tasks_ || S_.cols() != P) {
      S_.setZero(this->num_tasks_, P);
      base_.setZero(this->num_tasks_);
      omega_.setOnes(this->num_tasks_);
    }
    bool changed = false;
    for (Eigen::Index r = 0; r < m; ++r) {
      const int t = info.task(r);
      S_.row(t).array() += J.row(r).array().square();
      const T e = (J.row(r).array().square() / (S_.row(t).array() + T(1e-7)).sqrt()).sum();
      if (base_[t] == T(0)) {
        base_[t] = e > T(0) ? e : T(1e-12);
      } else {
        omega_[t] *= std::exp(static_cast<T>(eta_) * e / base_[t]);
        changed = true;
      }
    }
    if (changed) omega_ *= static_cast<T>(this->num_tasks_) / omega_.sum();
    this->gather(omega_, info, w);
    d.noalias() = J.transpose() * w;
  }

 private:
  double eta_;
  Jacobian<T> S_;
  Vector<T> omega_, base_;
};
ONESTONE_EXTERN_CLASS(WEIGHTING, ExcessMTL)

}  // namespace weighting
}  // namespace onestone
