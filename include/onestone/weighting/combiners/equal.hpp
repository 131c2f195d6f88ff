#pragma once
/// @file equal.hpp
/// `Equal<T>`: the baseline combiner, the plain sum of the task gradients.

#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {

/// Equal weighting (linear scalarisation with unit weights): d = Σᵢ gᵢ = Jᵀ𝟙.
///
/// Scale: the summed gradient (the gradient of Σᵢ Lᵢ). weights() is 𝟙 (length T).
///
/// @code
/// onestone::weighting::Equal<double> eq;
/// onestone::weighting::Vector<double> d;
/// eq.combine(J, d);   // d == J.colwise().sum().transpose()
/// @endcode
template <typename T>
class Equal {
 public:
  using Vector = weighting::Vector<T>;

  /// The method's name, used in error messages.
  static const char* name() { return "Equal"; }

  /// d ← Σᵢ J.row(i). @throws std::invalid_argument on an empty or non-finite J.
  void combine(const Jacobian<T>& J, Vector& d) {
    detail::check_jacobian(name(), J);
    weights_.setOnes(J.rows());
    d.noalias() = J.transpose() * weights_;
  }

  /// The weights of the last call: d = Jᵀ·weights() (all ones).
  const Vector& weights() const { return weights_; }

 private:
  Vector weights_;
};

}  // namespace weighting
}  // namespace onestone
