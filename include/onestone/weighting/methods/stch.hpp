#pragma once
/// @file stch.hpp
/// `STCH<T>`: smooth Tchebycheff scalarization (Lin et al., ICML 2024).

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Smooth Tchebycheff scalarization:
///   L = μ · log Σᵢ exp(pᵢ (Lᵢ − zᵢ) / μ),
/// a smooth maximum of the preference-weighted distances to the ideal point z. Preferences p
/// default to 1/T each; z is the smallest loss seen per task minus a margin (or given); μ
/// (default 0.1) sets the smoothness (μ → 0 gives the Tchebycheff max). weights() reports the
/// resulting gradient weights pᵢ·softmax(pⱼ(Lⱼ − zⱼ)/μ)ᵢ.
///
/// Example: `model.set_balancer(std::make_shared<STCH<float>>(0.1));`
template <typename T>
class STCH : public Balancer<T> {
 public:
  explicit STCH(double mu = 0.1, std::vector<double> preferences = {}, double margin = 1e-3)
      : mu_(mu), pref_(std::move(preferences)), margin_(margin) {
    if (!(mu > 0)) throw std::invalid_argument("STCH: mu must be positive");
  }
  std::string name() const override { return "stch"; }
  void reset(int n) override {
    Balancer<T>::reset(n);
    ideal_ = Vector<T>::Constant(n, std::numeric_limits<T>::infinity());
    if (!pref_.empty() && static_cast<int>(pref_.size()) != n)
      throw std::invalid_argument("STCH: " + std::to_string(pref_.size()) + " preferences for " +
                                  std::to_string(n) + " tasks");
  }
  Var<T> combine_losses(const std::vector<Var<T>>& losses) override {
    const std::size_t n = losses.size();
    // Scaled distances aᵢ = pᵢ(Lᵢ − zᵢ)/μ, the max subtracted for stability (a constant shift).
    std::vector<T>& a = scaled_;
    a.resize(n);
    T amax = -std::numeric_limits<T>::infinity();
    for (std::size_t i = 0; i < n; ++i) {
      const T li = losses[i].item();
      ideal_[static_cast<Eigen::Index>(i)] =
          std::min(ideal_[static_cast<Eigen::Index>(i)], li - static_cast<T>(margin_));
      a[i] = pref(i) * (li - ideal_[static_cast<Eigen::Index>(i)]) / static_cast<T>(mu_);
      amax = std::max(amax, a[i]);
    }
    Var<T> sum_exp;
    for (std::size_t i = 0; i < n; ++i) {
      Var<T> ai =
          affine(losses[i], pref(i) / static_cast<T>(mu_),
                 -pref(i) * ideal_[static_cast<Eigen::Index>(i)] / static_cast<T>(mu_) - amax);
      Var<T> e = exp(ai);
      sum_exp = sum_exp.defined() ? sum_exp + e : e;
    }
    T denom = 0;
    for (std::size_t i = 0; i < n; ++i) denom += std::exp(a[i] - amax);
    for (std::size_t i = 0; i < n; ++i)
      this->weights_[static_cast<Eigen::Index>(i)] = pref(i) * std::exp(a[i] - amax) / denom;
    return affine(log(sum_exp), static_cast<T>(mu_), static_cast<T>(mu_) * amax);
  }
  const Vector<T>& ideal_point() const { return ideal_; }

  /// Saves the weights and the ideal point (the lowest losses seen, minus the margin).
  void get_extra_state(nn::ExtraState& s) const override {
    Balancer<T>::get_extra_state(s);
    s.put("ideal", ideal_);
  }
  /// Restores what `get_extra_state` saved, all or nothing.
  void set_extra_state(const nn::ExtraState& s) override {
    Vector<T> w = this->read_weights(s), ideal;
    s.get("ideal", ideal, this->num_tasks_);
    this->weights_ = std::move(w);
    ideal_ = std::move(ideal);
  }

 private:
  T pref(std::size_t i) const {
    return pref_.empty() ? T(1) / static_cast<T>(this->num_tasks_) : static_cast<T>(pref_[i]);
  }
  double mu_;
  std::vector<double> pref_;
  double margin_;
  Vector<T> ideal_;
  std::vector<T> scaled_;  // scratch: the scaled distances aᵢ
};

}  // namespace weighting
}  // namespace onestone
