#pragma once
/// @file stch.hpp
/// `STCH<T>`: smooth Tchebycheff scalarisation (Lin et al., ICML 2024).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Smooth Tchebycheff scalarisation: L = μ·log Σᵢ exp(pᵢ(Lᵢ − zᵢ)/μ) over the present tasks,
/// with preferences pᵢ (default 1/T) and the ideal point zᵢ = (lowest loss of task i seen so far)
/// − margin. A smooth stand-in for maxᵢ pᵢ(Lᵢ − zᵢ) that reaches every Pareto-optimal point.
/// μ = 0.1 (paper: 0.1 on NYUv2; LibMTL's STCH_mu 1.0), margin 1e-3. A fixed ideal point
/// instead (`reference=`, one value per task; TorchJD's STCH scalarizer takes z = 0 unless given
/// one) replaces the running minimum. weights() reports pᵢ·softmax(a)ᵢ, the gradient weights.
///
/// `log_nadir(warmup)` selects LibMTL's variant (adapted there from the authors' MTL code), a
/// different function of the losses: for the first `warmup` epochs (LibMTL: 4) the loss is
/// Σᵢ log(Lᵢ + 1e-20); epoch `warmup` also averages each task's loss into a nadir point nᵢ; from
/// the next epoch on L = T·μ·log Σᵢ exp(pᵢ·log(Lᵢ/nᵢ + 1e-20)/μ), with pᵢ = 1 unless preferences
/// are given (LibMTL has none). The epochs are counted by `end_epoch()` (the Trainer calls it).
/// LibMTL reports that loss without adding back the log-sum-exp's shift; the gradients are the
/// same. A task with no labelled sample in the nadir epoch gets nᵢ = 1.
///
/// Example: `model.set_balancer(std::make_shared<STCH<float>>(0.1));`
/// LibMTL's: `weighting::make_balancer<float>("stch", "objective=log_nadir,mu=1,warmup=4")`.
template <typename T>
class STCH : public LossWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit STCH(double mu = 0.1, std::vector<double> preferences = {}, double margin = 1e-3,
                std::vector<double> reference = {})
      : mu_(mu), pref_(std::move(preferences)), margin_(margin), ref_(std::move(reference)) {
    if (!(mu > 0)) throw std::invalid_argument("STCH: mu must be positive");
  }
  std::string name() const override { return "stch"; }
  /// Switches to LibMTL's log-nadir objective with `warmup_epochs` epochs of Σ log Lᵢ first.
  STCH& log_nadir(int warmup_epochs = 4);
  bool uses_log_nadir() const { return log_nadir_; }
  void reset(int n) override;
  using LossWeighting<T>::combine_losses;
  void end_epoch() override;
  Var<T> combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) override;
  const Vector<T>& ideal_point() const { return ideal_; }
  /// The nadir point of the log-nadir objective (ones until the nadir epoch has ended).
  const Vector<T>& nadir_point() const { return nadir_; }
  void get_extra_state(nn::ExtraState& s) const override;
  void set_extra_state(const nn::ExtraState& s) override;

 private:
  T pref(int t) const {
    if (pref_.empty()) return log_nadir_ ? T(1) : T(1) / static_cast<T>(this->num_tasks_);
    return static_cast<T>(pref_[static_cast<std::size_t>(t)]);
  }
  // LibMTL's variant: Σ log(Lᵢ + ε) during the warm-up (and the nadir epoch, whose losses are
  // averaged), then T·μ·log Σ exp(pᵢ log(Lᵢ/nᵢ + ε)/μ).
  Var<T> combine_log_nadir(const std::vector<Var<T>>& losses, const std::vector<int>& tasks);
  bool log_nadir_ = false;
  int warmup_ = 4;
  std::int64_t epochs_ = 0;
  Vector<T> nadir_, nadir_sum_, nadir_count_;
  double mu_;
  std::vector<double> pref_;
  double margin_;
  std::vector<double> ref_;
  Vector<T> ideal_, a_;
};

template <typename T>
STCH<T>& STCH<T>::log_nadir(int warmup_epochs) {
  if (warmup_epochs < 0) throw std::invalid_argument("STCH: warmup epochs must be >= 0");
  log_nadir_ = true;
  warmup_ = warmup_epochs;
  return *this;
}

template <typename T>
void STCH<T>::reset(int n) {
  LossWeighting<T>::reset(n);
  ideal_ = Vector<T>::Constant(n, std::numeric_limits<T>::infinity());
  nadir_ = Vector<T>::Ones(n);
  nadir_sum_ = Vector<T>::Zero(n);
  nadir_count_ = Vector<T>::Zero(n);
  epochs_ = 0;
  if (!pref_.empty() && static_cast<int>(pref_.size()) != n)
    throw std::invalid_argument("STCH: " + std::to_string(pref_.size()) + " preferences for " +
                                std::to_string(n) + " tasks");
  if (!ref_.empty() && static_cast<int>(ref_.size()) != n)
    throw std::invalid_argument("STCH: " + std::to_string(ref_.size()) + " reference values for " +
                                std::to_string(n) + " tasks");
}

template <typename T>
void STCH<T>::end_epoch() {
  if (log_nadir_ && epochs_ == warmup_) {
    for (Eigen::Index t = 0; t < nadir_.size(); ++t)
      nadir_[t] = nadir_count_[t] > 0 ? nadir_sum_[t] / nadir_count_[t] : T(1);
  }
  ++epochs_;
}

template <typename T>
Var<T> STCH<T>::combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) {
  if (log_nadir_) return combine_log_nadir(losses, tasks);
  this->prepare(losses, tasks);
  const std::size_t n = losses.size();
  a_.resize(static_cast<Eigen::Index>(n));
  T amax = -std::numeric_limits<T>::infinity();
  const T mu = static_cast<T>(mu_);
  for (std::size_t k = 0; k < n; ++k) {
    const int t = tasks[k];
    const T li = this->values_[static_cast<Eigen::Index>(k)];
    ideal_[t] = ref_.empty() ? std::min(ideal_[t], li - static_cast<T>(margin_))
                             : static_cast<T>(ref_[static_cast<std::size_t>(t)]);
    a_[static_cast<Eigen::Index>(k)] = pref(t) * (li - ideal_[t]) / mu;
    amax = std::max(amax, a_[static_cast<Eigen::Index>(k)]);
  }
  Var<T> sum_exp;
  for (std::size_t k = 0; k < n; ++k) {
    const int t = tasks[k];
    Var<T> e = exp(affine(losses[k], pref(t) / mu, -pref(t) * ideal_[t] / mu - amax));
    sum_exp = sum_exp.defined() ? sum_exp + e : e;
  }
  T denom = 0;
  for (std::size_t k = 0; k < n; ++k) denom += std::exp(a_[static_cast<Eigen::Index>(k)] - amax);
  this->w_.resize(static_cast<Eigen::Index>(n));
  for (std::size_t k = 0; k < n; ++k)
    this->w_[static_cast<Eigen::Index>(k)] =
        pref(tasks[k]) * std::exp(a_[static_cast<Eigen::Index>(k)] - amax) / denom;
  this->scatter_weights(this->w_, this->info_);
  ++this->steps_;
  return affine(log(sum_exp), mu, mu * amax);
}

template <typename T>
void STCH<T>::get_extra_state(nn::ExtraState& s) const {
  LossWeighting<T>::get_extra_state(s);
  s.put("ideal", ideal_);
  if (log_nadir_) {
    s.put("nadir", nadir_);
    s.put("nadir_sum", nadir_sum_);
    s.put("nadir_count", nadir_count_);
    s.put("epochs", epochs_);
  }
}

template <typename T>
void STCH<T>::set_extra_state(const nn::ExtraState& s) {
  Vector<T> ideal, nadir, nsum, ncount;
  s.get("ideal", ideal, this->num_tasks_);
  std::int64_t epochs = 0;
  if (log_nadir_) {
    s.get("nadir", nadir, this->num_tasks_);
    s.get("nadir_sum", nsum, this->num_tasks_);
    s.get("nadir_count", ncount, this->num_tasks_);
    epochs = s.get_int("epochs", 0, std::numeric_limits<std::int64_t>::max());
  }
  LossWeighting<T>::set_extra_state(s);
  ideal_ = std::move(ideal);
  if (log_nadir_) {
    nadir_ = std::move(nadir);
    nadir_sum_ = std::move(nsum);
    nadir_count_ = std::move(ncount);
    epochs_ = epochs;
  }
}

template <typename T>
Var<T> STCH<T>::combine_log_nadir(const std::vector<Var<T>>& losses,
                                  const std::vector<int>& tasks) {
  this->prepare(losses, tasks);
  const std::size_t n = losses.size();
  const T eps = static_cast<T>(1e-20);
  this->w_.resize(static_cast<Eigen::Index>(n));
  Var<T> out;
  if (epochs_ <= warmup_) {
    for (std::size_t k = 0; k < n; ++k) {
      const int t = tasks[k];
      const T li = this->values_[static_cast<Eigen::Index>(k)];
      if (epochs_ == warmup_) {
        nadir_sum_[t] += li;
        nadir_count_[t] += 1;
      }
      Var<T> term = log(affine(losses[k], T(1), eps));
      out = out.defined() ? out + term : term;
      this->w_[static_cast<Eigen::Index>(k)] = T(1) / (li + eps);
    }
  } else {
    const T mu = static_cast<T>(mu_);
    const T scale = static_cast<T>(this->num_tasks_) * mu;
    a_.resize(static_cast<Eigen::Index>(n));
    T amax = -std::numeric_limits<T>::infinity();
    for (std::size_t k = 0; k < n; ++k) {
      const int t = tasks[k];
      const T li = this->values_[static_cast<Eigen::Index>(k)];
      a_[static_cast<Eigen::Index>(k)] = pref(t) * std::log(li / nadir_[t] + eps) / mu;
      amax = std::max(amax, a_[static_cast<Eigen::Index>(k)]);
    }
    Var<T> sum_exp;
    T denom = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const int t = tasks[k];
      Var<T> lg = log(affine(losses[k], T(1) / nadir_[t], eps));
      Var<T> e = exp(affine(lg, pref(t) / mu, -amax));
      sum_exp = sum_exp.defined() ? sum_exp + e : e;
      denom += std::exp(a_[static_cast<Eigen::Index>(k)] - amax);
    }
    for (std::size_t k = 0; k < n; ++k) {
      const int t = tasks[k];
      const T li = this->values_[static_cast<Eigen::Index>(k)];
      const T soft = std::exp(a_[static_cast<Eigen::Index>(k)] - amax) / denom;
      this->w_[static_cast<Eigen::Index>(k)] =
          static_cast<T>(this->num_tasks_) * soft * pref(t) / (li + eps * nadir_[t]);
    }
    out = affine(log(sum_exp), scale, scale * amax);
  }
  this->scatter_weights(this->w_, this->info_);
  ++this->steps_;
  return out;
}
ONESTONE_EXTERN_CLASS(WEIGHTING, STCH)

}  // namespace weighting
}  // namespace onestone
