#pragma once
/// @file moco.hpp
/// `MoCo<T>`: multi-objective gradient correction (Fernando et al., ICLR 2023).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/solvers/project_simplex.hpp"

namespace onestone {
namespace weighting {

/// Options of `MoCo`.
struct MoCoOptions {
  double beta = 0.5;               ///< tracking step β of Y
  double beta_sigma = 0.5;         ///< decay exponent: βₖ = β/k^σ
  double gamma = 0.1;              ///< step γ of the simplex weights λ
  double gamma_sigma = 0.5;        ///< decay exponent: γₖ = γ/k^σ
  double rho = 0;                  ///< ℓ2 regularisation ρ of the λ update
  bool normalize_by_loss = false;  ///< track Lᵢ·gᵢ/‖gᵢ‖ (the paper's option)
  bool zero_init = false;          ///< Y starts at 0 (LibMTL) instead of at a task's first gradient
  bool softmax = false;  ///< λ ← softmax(…) (LibMTL) instead of the projection Π_Δ(…)
};

/// MoCo: a stochastic MGDA with a tracking correction of the gradients' bias: Y (one row per
/// task) tracks J, Y ← Y + βₖ(J − Y) (Y = J at a task's first step), the simplex weights follow
/// λ ← Π_Δ(λ − γₖ(YYᵀ + ρI)λ), and d = Yᵀλ. Y, λ and the step count are kept per task (λ
/// restricted to and renormalised on the present tasks); Y is per coordinate, so a change of
/// Jacobian width restarts it. LibMTL's MoCo differs in three conventions, each an option: it
/// always tracks Lᵢ·gᵢ/‖gᵢ‖ (`normalize_by_loss=1`), starts Y at 0 so that the first step
/// gives Y = β₁J (`init=zero`), and maps λ back with a softmax instead of the projection
/// (`simplex=softmax`).
template <typename T>
class MoCo : public GradientMethod<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit MoCo(MoCoOptions opt = {});
  std::string name() const override { return "moco"; }
  bool needs_losses() const override { return opt_.normalize_by_loss; }
  bool per_coordinate_state() const override { return true; }
  void reset(int n) override;
  const Jacobian<T>& tracked() const { return Y_; }
  const Vector<T>& lambda() const { return lambda_; }
  void get_extra_state(nn::ExtraState& s) const override;
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void direction(const Jacobian<T>& J, const StepInfo<T>& info, Vector<T>& d,
                 Vector<T>& w) override;

 private:
  MoCoOptions opt_;
  Jacobian<T> Y_, Ysub_;
  Matrix<T> YY_;
  Vector<T> lambda_, count_, lam_, step_, scratch_, yl_;
};

template <typename T>
MoCo<T>::MoCo(MoCoOptions opt) : opt_(opt) {
  if (!(opt.beta > 0 && opt.beta <= 1) || !(opt.gamma > 0) || !(opt.beta_sigma >= 0) ||
      !(opt.gamma_sigma >= 0) || !(opt.rho >= 0))
    throw std::invalid_argument(
        "MoCo: need 0 < beta <= 1, gamma > 0, beta_sigma, gamma_sigma, rho >= 0");
}

template <typename T>
void MoCo<T>::reset(int n) {
  GradientMethod<T>::reset(n);
  Y_.resize(0, 0);
  lambda_ = Vector<T>::Constant(n, T(1) / static_cast<T>(n));
  count_ = Vector<T>::Zero(n);
}

template <typename T>
void MoCo<T>::get_extra_state(nn::ExtraState& s) const {
  GradientMethod<T>::get_extra_state(s);
  s.put("tracked", Y_);
  s.put("lambda", lambda_);
  s.put("count", count_);
}

template <typename T>
void MoCo<T>::set_extra_state(const nn::ExtraState& s) {
  Jacobian<T> Y;
  Vector<T> lambda, count;
  s.get("tracked", Y);
  s.get("lambda", lambda, this->num_tasks_);
  s.get("count", count, this->num_tasks_);
  if (Y.size() != 0 && Y.rows() != this->num_tasks_)
    throw std::runtime_error("MoCo: extra state 'tracked' of '" + s.owner() + "' has " +
                             std::to_string(Y.rows()) + " rows for " +
                             std::to_string(this->num_tasks_) + " tasks");
  GradientMethod<T>::set_extra_state(s);
  Y_ = std::move(Y);
  lambda_ = std::move(lambda);
  count_ = std::move(count);
}

template <typename T>
void MoCo<T>::direction(const Jacobian<T>& J, const StepInfo<T>& info, Vector<T>& d, Vector<T>& w) {
  const Eigen::Index m = J.rows(), P = J.cols();
  if (Y_.rows() != this->num_tasks_ || Y_.cols() != P) {
    Y_.setZero(this->num_tasks_, P);
    count_.setZero(this->num_tasks_);
  }
  Ysub_.resize(m, P);
  for (Eigen::Index r = 0; r < m; ++r) {
    const int t = info.task(r);
    count_[t] += T(1);
    const double k = static_cast<double>(count_[t]);
    T scale = T(1);
    if (opt_.normalize_by_loss) {
      const T n = J.row(r).norm();
      if (n > T(0)) scale = (*info.losses)[r] / n;
    }
    if (count_[t] == T(1) && !opt_.zero_init)
      Y_.row(t) = scale * J.row(r);
    else
      Y_.row(t) +=
          static_cast<T>(opt_.beta / std::pow(k, opt_.beta_sigma)) * (scale * J.row(r) - Y_.row(t));
    Ysub_.row(r) = Y_.row(t);
  }
  this->gather(lambda_, info, lam_);
  const T share = lam_.sum();
  if (share > T(0))
    lam_ /= share;
  else
    lam_.setConstant(m, T(1) / static_cast<T>(m));
  T kmax = 0;
  for (Eigen::Index r = 0; r < m; ++r) kmax = std::max(kmax, count_[info.task(r)]);
  const T gamma_k =
      static_cast<T>(opt_.gamma / std::pow(static_cast<double>(kmax), opt_.gamma_sigma));
  gram(Ysub_, YY_);
  YY_.diagonal().array() += static_cast<T>(opt_.rho);
  yl_.noalias() = YY_ * lam_;
  step_ = lam_ - gamma_k * yl_;
  if (opt_.softmax) {
    lam_ = (step_.array() - step_.maxCoeff()).exp().matrix();
    lam_ /= lam_.sum();
  } else {
    solvers::project_simplex(step_, lam_, scratch_);
  }
  w = lam_;
  d.noalias() = Ysub_.transpose() * lam_;
  step_ = lam_ * (share > T(0) ? share : T(1));
  this->scatter(step_, info, lambda_);
}
ONESTONE_EXTERN_CLASS(WEIGHTING, MoCo)

}  // namespace weighting
}  // namespace onestone
