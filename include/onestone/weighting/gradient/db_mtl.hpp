#pragma once
/// @file db_mtl.hpp
/// `DBMTL<T>`: dual-balancing multi-task learning (Lin et al. 2023).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// DB-MTL: loss-scale balance by taking gradients of log Lᵢ (gᵢ/Lᵢ), gradient-magnitude balance
/// by rescaling every task's moving-average gradient bᵢ to the largest norm:
///     bᵢ ← ĝᵢ + βₖ(bᵢ − ĝᵢ), βₖ = β/k^σ,   d = Σᵢ (maxⱼ‖bⱼ‖/‖bᵢ‖) bᵢ.
/// β = 0.9, σ = 0.5, bᵢ starting at the first gradient; LibMTL (the authors' library) uses
/// σ = 0 with bᵢ starting at 0 (`beta_sigma=0,init=zero`). The buffers and the step count k are
/// kept per task; they are per coordinate, so a change of Jacobian width restarts them.
template <typename T>
class DBMTL : public GradientMethod<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit DBMTL(double beta = 0.9, double beta_sigma = 0.5, bool zero_init = false)
      : beta_(beta), beta_sigma_(beta_sigma), zero_init_(zero_init) {
    if (!(beta >= 0 && beta < 1) || !(beta_sigma >= 0))
      throw std::invalid_argument("DB-MTL: needs beta in [0, 1) and beta_sigma >= 0");
  }
  std::string name() const override { return "db_mtl"; }
  bool needs_losses() const override { return true; }
  bool per_coordinate_state() const override { return true; }
  void reset(int n) override {
    GradientMethod<T>::reset(n);
    buf_.resize(0, 0);
    count_ = Vector<T>::Zero(n);
  }
  void get_extra_state(nn::ExtraState& s) const override {
    GradientMethod<T>::get_extra_state(s);
    s.put("buffer", buf_);
    s.put("count", count_);
  }
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void direction(const Jacobian<T>& J, const StepInfo<T>& info, Vector<T>& d,
                 Vector<T>& w) override;

 private:
  double beta_, beta_sigma_;
  bool zero_init_;
  Jacobian<T> buf_;
  Vector<T> count_, norms_;
};

template <typename T>
void DBMTL<T>::set_extra_state(const nn::ExtraState& s) {
  Jacobian<T> buf;
  Vector<T> count;
  s.get("buffer", buf);
  s.get("count", count, this->num_tasks_);
  if (buf.size() != 0 && buf.rows() != this->num_tasks_)
    throw std::runtime_error("DB-MTL: extra state 'buffer' of '" + s.owner() + "' has " +
                             std::to_string(buf.rows()) + " rows for " +
                             std::to_string(this->num_tasks_) + " tasks");
  GradientMethod<T>::set_extra_state(s);
  buf_ = std::move(buf);
  count_ = std::move(count);
}

template <typename T>
void DBMTL<T>::direction(const Jacobian<T>& J, const StepInfo<T>& info, Vector<T>& d,
                         Vector<T>& w) {
  const Eigen::Index m = J.rows(), P = J.cols();
  if (buf_.rows() != this->num_tasks_ || buf_.cols() != P) {
    buf_.setZero(this->num_tasks_, P);
    count_.setZero(this->num_tasks_);
  }
  const Vector<T>& L = *info.losses;
  norms_.resize(m);
  for (Eigen::Index r = 0; r < m; ++r) {
    const int t = info.task(r);
    const T inv = T(1) / std::max(L[r], T(1e-12));
    count_[t] += T(1);
    if (count_[t] == T(1) && !zero_init_) {
      buf_.row(t) = J.row(r) * inv;
    } else {
      const T k = static_cast<T>(beta_ / std::pow(static_cast<double>(count_[t]), beta_sigma_));
      buf_.row(t) = J.row(r) * inv + k * (buf_.row(t) - J.row(r) * inv);
    }
    norms_[r] = buf_.row(t).norm();
  }
  const T umax = norms_.maxCoeff();
  w.resize(m);
  for (Eigen::Index r = 0; r < m; ++r) w[r] = umax / (norms_[r] + T(1e-8));
  d.setZero(P);
  for (Eigen::Index r = 0; r < m; ++r) d.noalias() += w[r] * buf_.row(info.task(r)).transpose();
}
ONESTONE_EXTERN_CLASS(WEIGHTING, DBMTL)

}  // namespace weighting
}  // namespace onestone
