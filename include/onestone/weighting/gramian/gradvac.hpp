#pragma once
/// @file gradvac.hpp
/// `GradVac<T>`: gradient vaccine (Wang et al., ICLR 2021).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/tensor/generator.hpp"
#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/gramian/surgery.hpp"

namespace onestone {
namespace weighting {

/// Gradient vaccine: like PCGrad, each task's gradient is corrected against the others in a
/// random order, but towards an adaptive target cosine φ̂ᵢⱼ (an exponential moving average of
/// the cosines seen, rate β) rather than only when they conflict: whenever the current cosine
/// φ = cos(g̃ᵢ, gⱼ) is below φ̂ᵢⱼ,
///     g̃ᵢ ← g̃ᵢ + ‖g̃ᵢ‖ (φ̂ᵢⱼ√(1−φ²) − φ√(1−φ̂ᵢⱼ²)) / (‖gⱼ‖√(1−φ̂ᵢⱼ²)) · gⱼ,
/// and φ̂ᵢⱼ ← (1−β)φ̂ᵢⱼ + βφ on every visit. d = Σᵢ g̃ᵢ. The targets start at 0, so the first step
/// is PCGrad. β = 0.01 (the paper; TorchJD and LibMTL default to 0.5). The targets are kept per
/// pair of task ids, so a task absent from a step keeps its targets.
template <typename T>
class GradVac : public GramianWeighting<T> {
 public:
  bool keeps_task_state() const override { return true; }
  explicit GradVac(double beta = 0.01, std::uint64_t seed = 0x5eedULL) : gen_(seed), beta_(beta) {
    if (!(beta > 0 && beta <= 1)) throw std::invalid_argument("GradVac: beta must be in (0, 1]");
  }
  std::string name() const override { return "gradvac"; }
  void reset(int n) override {
    GramianWeighting<T>::reset(n);
    targets_.setZero(n, n);
  }
  void seed(std::uint64_t s) { gen_.seed_(s); }
  /// φ̂ᵢⱼ by task ids.
  const Matrix<T>& targets() const { return targets_; }
  const Matrix<T>& coefficients() const { return surgery_.coefficients(); }
  double beta() const { return beta_; }
  void get_extra_state(nn::ExtraState& s) const override {
    GramianWeighting<T>::get_extra_state(s);
    s.put("rng", gen_);
    s.put("targets", targets_);
  }
  void set_extra_state(const nn::ExtraState& s) override;

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override;

 private:
  Generator gen_;
  double beta_;
  Matrix<T> targets_;
  detail::Surgery<T> surgery_;
  Eigen::Matrix<T, 1, Eigen::Dynamic> row_G_;  // scratch: row i of C·G
};

template <typename T>
void GradVac<T>::set_extra_state(const nn::ExtraState& s) {
  const Generator::State st = s.get_generator("rng");
  Matrix<T> targets;
  s.get("targets", targets, this->num_tasks_, this->num_tasks_);
  GramianWeighting<T>::set_extra_state(s);
  gen_.set_state(st);
  targets_ = std::move(targets);
}

template <typename T>
void GradVac<T>::weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
                       Vector<T>& w) {
  const T beta = static_cast<T>(beta_), keep = static_cast<T>(1.0 - beta_);
  surgery_.run(G, gen_, w, [&](Eigen::Index i, Eigen::Index j, Matrix<T>& C, const Matrix<T>& Gm) {
    row_G_.noalias() = C.row(i) * Gm;
    const T ni2 = (row_G_ * C.row(i).transpose()).value();  // ‖g̃ᵢ‖²
    const T nj2 = Gm(j, j);
    if (!(ni2 > T(0)) || !(nj2 > T(0))) return;  // cosine undefined
    const T ni = std::sqrt(ni2), nj = std::sqrt(nj2);
    const T phi = std::clamp(C.row(i).dot(Gm.col(j)) / (ni * nj), T(-1), T(1));
    T& target = targets_(info.task(i), info.task(j));
    const T s_target = std::sqrt(std::max(T(1) - target * target, T(0)));
    if (phi < target && s_target > T(0)) {
      const T s_phi = std::sqrt(std::max(T(1) - phi * phi, T(0)));
      C(i, j) += ni * (target * s_phi - phi * s_target) / (nj * s_target);
    }
    target = keep * target + beta * phi;
  });
}
ONESTONE_EXTERN_CLASS(WEIGHTING, GradVac)

}  // namespace weighting
}  // namespace onestone
