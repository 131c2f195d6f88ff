#pragma once
/// @file mgda.hpp
/// `MGDA<T>`: the multiple-gradient descent algorithm with the MGDA-UB Frank–Wolfe solver
/// (Sener & Koltun 2018).

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/solvers/min_norm.hpp"

namespace onestone {
namespace weighting {

/// How MGDA normalises each gradient before solving for the weights (the `normalization_type`
/// of Sener & Koltun's code): gᵢ/nᵢ with
///  - none:      nᵢ = 1
///  - l2:        nᵢ = ‖gᵢ‖
///  - loss:      nᵢ = Lᵢ (needs losses > 0)
///  - loss_plus: nᵢ = Lᵢ·‖gᵢ‖ (needs losses > 0)
/// A zero gradient keeps nᵢ = 1 (l2) or nᵢ = Lᵢ (loss_plus).
///
/// @code
/// onestone::weighting::MGDA<double> mgda(onestone::weighting::MGDANormalization::l2);
/// @endcode
enum class MGDANormalization { none, l2, loss, loss_plus };

/// Options of `MGDA`.
///
/// @code
/// onestone::weighting::MGDAOptions<double> opt;
/// opt.normalization = onestone::weighting::MGDANormalization::loss_plus;
/// @endcode
template <typename T>
struct MGDAOptions {
  MGDANormalization normalization = MGDANormalization::none;  ///< see MGDANormalization
  /// false (default, Sener & Koltun's code): the simplex weights scale the ORIGINAL gradients,
  /// d = Σ wᵢgᵢ. true (LibMTL's variant): they scale the normalised ones, d = Σ wᵢgᵢ/nᵢ.
  bool combine_normalized = false;
  solvers::MinNormOptions<T> solver;  ///< Frank–Wolfe options
};

/// MGDA (Désidéri 2012) as MGDA-UB of Sener & Koltun 2018, "Multi-Task Learning as
/// Multi-Objective Optimization": the weights are the minimum-norm point of the convex hull of
/// the (normalised) gradients,
///     w = argmin_{w ∈ Δ} ‖Σᵢ wᵢ gᵢ/nᵢ‖²   (Frank–Wolfe on Ĝᵢⱼ = Gᵢⱼ/(nᵢnⱼ), `solvers::min_norm`),
/// and d = Σᵢ wᵢ gᵢ (or Σᵢ wᵢ gᵢ/nᵢ with `combine_normalized`).
///
/// Scale: a convex combination of gradients (Σw = 1), i.e. about 1/T of the summed gradient.
/// With `none`, d is the min-norm point of the hull, so gᵢ·d ≥ ‖d‖² ≥ 0 for every task and d = 0
/// exactly at a Pareto-stationary point. weights() gives d = Jᵀ·weights(); simplex_weights() is w.
/// The losses are needed only for the `loss` and `loss_plus` normalisations.
///
/// @code
/// onestone::weighting::MGDA<double> mgda;            // normalization none
/// onestone::weighting::Vector<double> d;
/// mgda.combine(J, d);                                 // J = [1 0; 0 1]: d == (0.5, 0.5)
/// @endcode
template <typename T>
class MGDA {
 public:
  using Vector = weighting::Vector<T>;
  using Matrix = weighting::Matrix<T>;

  /// @param opt normalisation, combination and solver options.
  explicit MGDA(MGDAOptions<T> opt = {}) : opt_(opt) {}
  /// @param normalization the gradient normalisation (other options default).
  explicit MGDA(MGDANormalization normalization) { opt_.normalization = normalization; }

  /// The method's name, used in error messages.
  static const char* name() { return "MGDA"; }

  /// d ← MGDA direction of J. `losses` (one per row, > 0) is required by the loss normalisations;
  /// when given it is always checked (size, finiteness).
  /// @throws std::invalid_argument on empty/non-finite J or bad losses.
  void combine(const Jacobian<T>& J, Vector& d, const Vector* losses = nullptr) {
    detail::check_jacobian(name(), J);
    const bool need_losses = opt_.normalization == MGDANormalization::loss ||
                             opt_.normalization == MGDANormalization::loss_plus;
    if (need_losses || losses != nullptr) detail::check_losses(name(), J, losses, need_losses);
    const Eigen::Index m = J.rows();
    gram(J, G_);
    norm_.setOnes(m);
    for (Eigen::Index i = 0; i < m; ++i) {
      const T len = std::sqrt(G_(i, i));
      switch (opt_.normalization) {
        case MGDANormalization::none:
          break;
        case MGDANormalization::l2:
          norm_[i] = len > T(0) ? len : T(1);
          break;
        case MGDANormalization::loss:
          norm_[i] = (*losses)[i];
          break;
        case MGDANormalization::loss_plus:
          norm_[i] = (*losses)[i] * (len > T(0) ? len : T(1));
          break;
      }
    }
    G_.array().colwise() /= norm_.array();  // Ĝᵢⱼ = Gᵢⱼ/(nᵢnⱼ)
    G_.array().rowwise() /= norm_.transpose().array();
    result_ = solver_.solve(G_, simplex_, opt_.solver);
    if (opt_.combine_normalized)
      weights_ = simplex_.cwiseQuotient(norm_);
    else
      weights_ = simplex_;
    d.noalias() = J.transpose() * weights_;
  }

  /// The coefficients of the last call on the original gradients: d = Jᵀ·weights().
  const Vector& weights() const { return weights_; }
  /// The simplex weights w of the last call (min-norm point of the normalised hull).
  const Vector& simplex_weights() const { return simplex_; }
  /// The normalisers nᵢ of the last call.
  const Vector& normalizers() const { return norm_; }
  /// Convergence information of the last Frank–Wolfe solve.
  const solvers::MinNormResult<T>& solver_result() const { return result_; }
  /// The options.
  const MGDAOptions<T>& options() const { return opt_; }

 private:
  MGDAOptions<T> opt_;
  solvers::MinNormSolver<T> solver_;
  solvers::MinNormResult<T> result_;
  Matrix G_;
  Vector norm_, simplex_, weights_;
};

}  // namespace weighting
}  // namespace onestone
