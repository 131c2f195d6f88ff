#pragma once
/// @file modo.hpp
/// `MoDo<T>`: multi-objective gradient with double sampling (Chen, Fernando, Ying & Chen,
/// NeurIPS 2023).

#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/solvers/project_simplex.hpp"

namespace onestone {
namespace weighting {

/// MoDo: stochastic MGDA whose weights follow one projected gradient step per training step on
/// two independent gradient estimates J₁, J₂:  λ ← Π_Δ(λ − γ(J₁J₂ᵀλ + ρλ)),  d = Jᵀλ. The
/// training step supplies A = J₁J₂ᵀ from the two halves of the batch (`needs_cross_gramian`);
/// without one (a plain call), A = G. λ starts at 1/T and is kept per task (restricted to and
/// renormalised on the present tasks). γ = 0.1, ρ = 0.1 (the authors' and TorchJD's; LibMTL:
/// γ = 1e-3 — γ must be small against ‖G‖, else λ jumps to a vertex).
template <typename T>
class MoDo : public GramianWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit MoDo(double gamma = 0.1, double rho = 0.1) : gamma_(gamma), rho_(rho) {
    if (!(gamma > 0) || !(rho >= 0)) throw std::invalid_argument("MoDo: needs gamma > 0, rho >= 0");
  }
  std::string name() const override { return "modo"; }
  bool needs_cross_gramian() const override { return true; }
  void reset(int n) override {
    GramianWeighting<T>::reset(n);
    lambda_ = Vector<T>::Constant(n, T(1) / static_cast<T>(n));
  }
  const Vector<T>& lambda() const { return lambda_; }
  void get_extra_state(nn::ExtraState& s) const override {
    GramianWeighting<T>::get_extra_state(s);
    s.put("lambda", lambda_);
  }
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void weigh(const Matrix<T>& A, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override;

 private:
  double gamma_, rho_;
  Vector<T> lambda_, sub_, step_, scratch_;
};

template <typename T>
void MoDo<T>::set_extra_state(const nn::ExtraState& s) {
  Vector<T> l;
  s.get("lambda", l, this->num_tasks_);
  GramianWeighting<T>::set_extra_state(s);
  lambda_ = std::move(l);
}

template <typename T>
void MoDo<T>::weigh(const Matrix<T>& A, const Jacobian<T>*, const StepInfo<T>& info, Vector<T>& w) {
  this->gather(lambda_, info, sub_);
  const T s = sub_.sum();
  if (s > T(0))
    sub_ /= s;
  else
    sub_.setConstant(sub_.size(), T(1) / static_cast<T>(sub_.size()));
  step_.noalias() = A * sub_;
  step_ = sub_ - static_cast<T>(gamma_) * (step_ + static_cast<T>(rho_) * sub_);
  solvers::project_simplex(step_, w, scratch_);
  // Stored on the present tasks' share of the simplex, so absent tasks keep their weight.
  step_ = w * (s > T(0) ? s : T(1));
  this->scatter(step_, info, lambda_);
}
ONESTONE_EXTERN_CLASS(WEIGHTING, MoDo)

}  // namespace weighting
}  // namespace onestone
