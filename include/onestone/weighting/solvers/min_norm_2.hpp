#pragma once
/// @file min_norm_2.hpp
/// `min_norm_2()`: the exact minimum-norm point of the segment between two vectors.

#include <algorithm>

namespace onestone {
namespace weighting {
namespace solvers {

/// Result of `min_norm_2()`: the point γ·x₁ + (1 − γ)·x₂ and its squared norm.
///
/// @code
/// auto r = onestone::weighting::solvers::min_norm_2(1.0, 0.0, 1.0);   // r.gamma == 0.5
/// @endcode
template <typename T>
struct MinNorm2 {
  T gamma;  ///< weight of the first vector, in [0, 1]
  T cost;   ///< ‖γ·x₁ + (1 − γ)·x₂‖² ≥ 0
};

/// Exact minimum-norm point of the segment [x₁, x₂], from the Gram entries only.
///
/// Minimises f(γ) = ‖γx₁ + (1−γ)x₂‖² = γ²v₁₁ + 2γ(1−γ)v₁₂ + (1−γ)²v₂₂ over γ ∈ [0, 1]:
/// γ* = (v₂₂ − v₁₂) / (v₁₁ + v₂₂ − 2v₁₂), clipped to [0, 1] (γ = 1 when v₁₂ ≥ v₁₁, γ = 0 when
/// v₁₂ ≥ v₂₂), with cost f(γ*) = v₂₂ + γ*(v₁₂ − v₂₂). This is the two-task case of MGDA
/// (Sener & Koltun 2018, "Multi-Task Learning as Multi-Objective Optimization", Algorithm 1),
/// computed exactly at the end points (their code uses 0.999/0.001 there).
///
/// @param v11 x₁·x₁  @param v12 x₁·x₂  @param v22 x₂·x₂
///
/// @code
/// // x1 = (1, 0), x2 = (0, 2): v11 = 1, v12 = 0, v22 = 4  ->  gamma = 0.8, cost = 0.8
/// auto r = onestone::weighting::solvers::min_norm_2(1.0, 0.0, 4.0);
/// @endcode
template <typename T>
MinNorm2<T> min_norm_2(T v11, T v12, T v22) noexcept {
  if (v12 >= v11) return {T(1), std::max(v11, T(0))};
  if (v12 >= v22) return {T(0), std::max(v22, T(0))};
  // Here v11 > v12 and v22 > v12, so the denominator ‖x1 − x2‖² is > 0.
  const T gamma = (v22 - v12) / (v11 + v22 - T(2) * v12);
  return {gamma, std::max(v22 + gamma * (v12 - v22), T(0))};
}

}  // namespace solvers
}  // namespace weighting
}  // namespace onestone
