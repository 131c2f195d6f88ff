#pragma once
/// @file stch.hpp
/// `STCH<T>`: smooth Tchebycheff scalarisation (Lin et al., ICML 2024).

#include <algorithm>
#include <cmath>
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
/// Example: `model.set_balancer(std::make_shared<STCH<float>>(0.1));`
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
  void reset(int n) override {
    LossWeighting<T>::reset(n);
    ideal_ = Vector<T>::Constant(n, std::numeric_limits<T>::infinity());
    if (!pref_.empty() && static_cast<int>(pref_.size()) != n)
      throw std::invalid_argument("STCH: " + std::to_string(pref_.size()) + " preferences for " +
                                  std::to_string(n) + " tasks");
    if (!ref_.empty() && static_cast<int>(ref_.size()) != n)
      throw std::invalid_argument("STCH: " + std::to_string(ref_.size()) +
                                  " reference values for " + std::to_string(n) + " tasks");
  }
  using LossWeighting<T>::combine_losses;
  Var<T> combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) override {
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
  const Vector<T>& ideal_point() const { return ideal_; }
  void get_extra_state(nn::ExtraState& s) const override {
    LossWeighting<T>::get_extra_state(s);
    s.put("ideal", ideal_);
  }
  void set_extra_state(const nn::ExtraState& s) override {
    Vector<T> ideal;
    s.get("ideal", ideal, this->num_tasks_);
    LossWeighting<T>::set_extra_state(s);
    ideal_ = std::move(ideal);
  }

 private:
  T pref(int t) const {
    return pref_.empty() ? T(1) / static_cast<T>(this->num_tasks_)
                         : static_cast<T>(pref_[static_cast<std::size_t>(t)]);
  }
  double mu_;
  std::vector<double> pref_;
  double margin_;
  std::vector<double> ref_;
  Vector<T> ideal_, a_;
};
ONESTONE_EXTERN_CLASS(WEIGHTING, STCH)

}  // namespace weighting
}  // namespace onestone
