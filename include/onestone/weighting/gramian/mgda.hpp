#pragma once
/// @file mgda.hpp
/// `MGDA<T>`: the multiple-gradient descent algorithm with the MGDA-UB Frank–Wolfe solver
/// (Sener & Koltun 2018), and its gradient normalisations.

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/solvers/min_norm.hpp"

namespace onestone {
namespace weighting {

/// How MGDA normalises each gradient before solving for the weights (the `normalization_type`
/// of Sener & Koltun's code): gᵢ/nᵢ with
///  - none:      nᵢ = 1 (the paper's MGDA-UB)
///  - l2:        nᵢ = ‖gᵢ‖
///  - loss:      nᵢ = Lᵢ (needs losses > 0)
///  - loss_plus: nᵢ = Lᵢ·‖gᵢ‖ (needs losses > 0; the authors' sample configuration)
/// A zero gradient keeps nᵢ = 1 (l2) or nᵢ = Lᵢ (loss_plus).
enum class MGDANormalization { none, l2, loss, loss_plus };

/// Options of `MGDA`.
template <typename T>
struct MGDAOptions {
  MGDANormalization normalization = MGDANormalization::none;
  /// false (default, Sener & Koltun's code): the simplex weights scale the ORIGINAL gradients,
  /// d = Σ sᵢgᵢ. true (LibMTL's parameter mode): they scale the normalised ones, d = Σ sᵢgᵢ/nᵢ.
  bool combine_normalized = false;
  solvers::MinNormOptions<T> solver;  ///< Frank–Wolfe options
};

/// MGDA (Désidéri 2012) as MGDA-UB of Sener & Koltun 2018: the weights are the minimum-norm
/// point of the convex hull of the (normalised) gradients,
///     s = argmin_{s ∈ Δ} ‖Σᵢ sᵢ gᵢ/nᵢ‖²   (Frank–Wolfe on Ĝᵢⱼ = Gᵢⱼ/(nᵢnⱼ)),
/// and d = Σᵢ sᵢ gᵢ (or Σᵢ sᵢ gᵢ/nᵢ with `combine_normalized`).
///
/// Scale: a convex combination (Σs = 1), about 1/T of the summed gradient. With `none`,
/// gᵢ·d ≥ ‖d‖² ≥ 0 for every task and d = 0 exactly at a Pareto-stationary point; the loss
/// normalisations give up that guarantee.
///
/// @code
/// onestone::weighting::MGDA<double> mgda;     // J = [1 0; 0 1]: d == (0.5, 0.5)
/// mgda.combine_gradients(J, d);
/// @endcode
template <typename T>
class MGDA : public GramianWeighting<T> {
 public:
  explicit MGDA(MGDAOptions<T> opt = {}) : opt_(opt) {}
  explicit MGDA(MGDANormalization normalization) { opt_.normalization = normalization; }
  std::string name() const override;
  bool needs_losses() const override {
    return opt_.normalization == MGDANormalization::loss ||
           opt_.normalization == MGDANormalization::loss_plus;
  }
  /// The simplex weights s of the last step; normalizers() the nᵢ.
  const Vector<T>& simplex_weights() const { return simplex_; }
  const Vector<T>& normalizers() const { return norm_; }
  const solvers::MinNormResult<T>& solver_result() const { return result_; }
  const MGDAOptions<T>& options() const { return opt_; }

 protected:
  void weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info,
             Vector<T>& w) override;

 private:
  MGDAOptions<T> opt_;
  solvers::MinNormSolver<T> solver_;
  solvers::MinNormResult<T> result_;
  Matrix<T> Gn_;
  Vector<T> norm_, simplex_;
};

template <typename T>
std::string MGDA<T>::name() const {
  switch (opt_.normalization) {
    case MGDANormalization::l2:
      return "mgda_l2";
    case MGDANormalization::loss:
      return "mgda_loss";
    case MGDANormalization::loss_plus:
      return "mgda_loss+";
    default:
      return "mgda";
  }
}

template <typename T>
void MGDA<T>::weigh(const Matrix<T>& G, const Jacobian<T>*, const StepInfo<T>& info, Vector<T>& w) {
  const Eigen::Index m = G.rows();
  if (needs_losses()) {
    if (!info.losses || info.losses->size() != m || !((info.losses->array() > T(0)).all()))
      throw std::invalid_argument(name() + ": loss normalisation needs one loss > 0 per task");
  }
  norm_.setOnes(m);
  for (Eigen::Index i = 0; i < m; ++i) {
    const T len = std::sqrt(G(i, i));
    switch (opt_.normalization) {
      case MGDANormalization::none:
        break;
      case MGDANormalization::l2:
        norm_[i] = len > T(0) ? len : T(1);
        break;
      case MGDANormalization::loss:
        norm_[i] = (*info.losses)[i];
        break;
      case MGDANormalization::loss_plus:
        norm_[i] = (*info.losses)[i] * (len > T(0) ? len : T(1));
        break;
    }
  }
  Gn_ = G;
  Gn_.array().colwise() /= norm_.array();  // Ĝᵢⱼ = Gᵢⱼ/(nᵢnⱼ)
  Gn_.array().rowwise() /= norm_.transpose().array();
  result_ = solver_.solve(Gn_, simplex_, opt_.solver);
  if (opt_.combine_normalized)
    w = simplex_.cwiseQuotient(norm_);
  else
    w = simplex_;
}
ONESTONE_EXTERN_CLASS(WEIGHTING, MGDA)

}  // namespace weighting
}  // namespace onestone
