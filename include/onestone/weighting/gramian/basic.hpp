#pragma once
/// @file basic.hpp
/// The plain aggregators as Gramian weightings: `Sum<T>` (d = Σᵢ gᵢ), `Mean<T>` (d = mean gᵢ)
/// and `Constant<T>` (d = Σᵢ cᵢgᵢ with fixed cᵢ).

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// d = Σᵢ gᵢ (TorchJD's Sum; the gradient of Σᵢ Lᵢ). Registry name "sum".
///
/// @code
/// onestone::weighting::Sum<double> s;
/// s.combine_gradients(J, d);   // d == J.colwise().sum()
/// @endcode
template <typename T>
class Sum : public GramianWeighting<T> {
 public:
  std::string name() const override { return "sum"; }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>&, Vector<T>& w) override {
    w.setOnes(G.rows());
  }
};
ONESTONE_EXTERN_CLASS(WEIGHTING, Sum)

/// d = (1/m) Σᵢ gᵢ over the m present tasks (TorchJD's Mean). Registry name "mean".
template <typename T>
class Mean : public GramianWeighting<T> {
 public:
  std::string name() const override { return "mean"; }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>&, Vector<T>& w) override {
    w.setConstant(G.rows(), T(1) / static_cast<T>(G.rows()));
  }
};
ONESTONE_EXTERN_CLASS(WEIGHTING, Mean)

/// d = Σᵢ cᵢgᵢ with fixed cᵢ ≥ 0 per task (TorchJD's Constant). Registry name "constant" with
/// the option `weights` ("1;2").
template <typename T>
class Constant : public GramianWeighting<T> {
 public:
  bool keeps_task_state() const override { return !c_.empty(); }
  explicit Constant(std::vector<double> c = {}) : c_(std::move(c)) {
    for (double v : c_)
      if (!std::isfinite(v)) throw std::invalid_argument("Constant: weights must be finite");
  }
  std::string name() const override { return "constant"; }
  void reset(int n) override;

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override {
    w.resize(G.rows());
    for (Eigen::Index r = 0; r < G.rows(); ++r)
      w[r] = c_.empty() ? T(1) : static_cast<T>(c_[static_cast<std::size_t>(info.task(r))]);
  }

 private:
  std::vector<double> c_;
};

template <typename T>
void Constant<T>::reset(int n) {
  GramianWeighting<T>::reset(n);
  if (!c_.empty() && static_cast<int>(c_.size()) != n)
    throw std::invalid_argument("Constant: " + std::to_string(c_.size()) + " weights for " +
                                std::to_string(n) + " tasks");
}
ONESTONE_EXTERN_CLASS(WEIGHTING, Constant)

}  // namespace weighting
}  // namespace onestone
