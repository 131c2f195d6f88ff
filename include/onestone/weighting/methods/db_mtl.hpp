#pragma once
/// @file db_mtl.hpp
/// `DBMTL<T>`: dual-balancing multi-task learning (Lin et al., 2023).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// DB-MTL balances losses and gradients. Loss scale: it works on log-losses, whose gradients are
/// gᵢ/Lᵢ. Gradient scale: it keeps an exponential moving average of those,
///   bᵢ ← ĝᵢ + (β / k^{βσ})·(bᵢ − ĝᵢ)   at step k (β = 0.9, βσ = 0.5, as in the authors' code),
/// and rescales every average to the largest norm: d = Σᵢ (maxⱼ‖bⱼ‖ / ‖bᵢ‖)·bᵢ.
///
/// Example: `model.set_balancer(std::make_shared<DBMTL<float>>());`
template <typename T>
class DBMTL : public Balancer<T> {
 public:
  explicit DBMTL(double beta = 0.9, double beta_sigma = 0.5)
      : beta_(beta), beta_sigma_(beta_sigma) {}
  std::string name() const override { return "db_mtl"; }
  bool needs_gradients() const override { return true; }
  void reset(int n) override {
    Balancer<T>::reset(n);
    buf_.resize(0, 0);
    step_ = 0;
  }
  void combine_gradients(const Jacobian<T>& J, const Vector<T>& losses, Vector<T>& d) override {
    const Eigen::Index n = J.rows();
    ++step_;
    log_grads_ = losses.cwiseMax(T(1e-12)).cwiseInverse().asDiagonal() * J;
    if (buf_.rows() != n || buf_.cols() != J.cols()) {
      buf_ = log_grads_;
    } else {
      const T k = static_cast<T>(beta_ / std::pow(static_cast<double>(step_), beta_sigma_));
      buf_ = log_grads_ + k * (buf_ - log_grads_);
    }
    norms_ = buf_.rowwise().norm();
    const T umax = norms_.maxCoeff();
    for (Eigen::Index i = 0; i < n; ++i) this->weights_[i] = umax / (norms_[i] + T(1e-8));
    d.noalias() = buf_.transpose() * this->weights_;
  }

  /// Saves the weights, the moving average of the log-loss gradients and the step count.
  void get_extra_state(nn::ExtraState& s) const override {
    Balancer<T>::get_extra_state(s);
    s.put("buffer", buf_);
    s.put("step", static_cast<std::int64_t>(step_));
  }
  /// Restores what `get_extra_state` saved, all or nothing.
  void set_extra_state(const nn::ExtraState& s) override {
    Vector<T> w = this->read_weights(s);
    Jacobian<T> buf;
    s.get("buffer", buf);
    if (buf.size() != 0 && buf.rows() != this->num_tasks_)
      throw std::runtime_error("DB-MTL: extra state 'buffer' of '" + s.owner() + "' has " +
                               std::to_string(buf.rows()) + " rows for " +
                               std::to_string(this->num_tasks_) + " tasks");
    const std::int64_t step = s.get_int("step", 0, std::numeric_limits<long>::max());
    this->weights_ = std::move(w);
    buf_ = std::move(buf);
    step_ = static_cast<long>(step);
  }

 private:
  double beta_, beta_sigma_;
  Jacobian<T> buf_, log_grads_;
  Vector<T> norms_;  // scratch: ‖bᵢ‖
  long step_ = 0;
};

}  // namespace weighting
}  // namespace onestone
