#pragma once
/// @file dual_cone.hpp
/// `DualConeProjector<T>` and `DualConeOptions<T>`: projection onto the dual cone of the rows of
/// a Jacobian, shared by UPGrad and DualProj (Quinton & Rey 2024).

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/linalg.hpp"
#include "onestone/weighting/solvers/nnls.hpp"

namespace onestone {
namespace weighting {

/// Options of `UPGrad` and `DualProj`.
///
/// @code
/// onestone::weighting::DualConeOptions<double> opt;
/// opt.pref = {1.0, 1.0, 1.0};   // sum scale instead of mean
/// @endcode
template <typename T>
struct DualConeOptions {
  /// Preference weights u (one per task id, ≥ 0); empty means uᵢ = 1/m over the m present
  /// tasks (the paper's mean).
  std::vector<double> pref;
  /// ε added to the trace-normalised Gram matrix, G/tr(G) + εI (torchjd's reg_eps = 1e-4 makes
  /// its QP solver's matrix definite; the solver here does not need it, and ε > 0 lets gᵢ·d dip
  /// below 0 by about ε·tr(G)·wᵢ). Default 0.
  T reg_eps = T(0);
  solvers::NNLSOptions<T> solver;  ///< active-set solver options
};

/// Projection of weighted combinations of the rows of J onto the dual cone
/// C = {x : Jx ≥ 0} (the directions that conflict with no task).
///
/// Quinton & Rey 2024 ("Jacobian Descent for Multi-Objective Optimization", Prop. 1): the
/// projection of Jᵀu onto C is Jᵀw with
///     w = argmin_{v ≥ u} vᵀGv,   G = JJᵀ.
/// With v = u + λ (λ ≥ 0) and the QR factorisation Jᵀ = QR (so G = RᵀR, R has min(P,T) rows)
/// this is the non-negative least-squares problem min_{λ≥0} ‖Rλ + Ru‖² (`solvers::NNLS`).
/// Working with R rather than G keeps the accuracy at cond(J), not cond(J)², which matters for
/// nearly opposed gradients (whose projection weights are huge). With ε = reg_eps > 0 the
/// matrix is [R/‖R‖_F; √ε·I] (i.e. G/tr(G) + εI). `factorize` costs O(PT²); each `project` then
/// works in the T-dimensional space.
///
/// @code
/// onestone::weighting::DualConeProjector<double> proj;
/// proj.factorize(J);
/// using onestone::weighting::Vector;
/// Vector<double> u = Vector<double>::Constant(J.rows(), 0.5), w;
/// proj.project(u, w);   // J * (J.transpose() * w) >= 0 row by row, w >= u
/// @endcode
template <typename T>
class DualConeProjector {
 public:
  /// Factorises Jᵀ = QR and builds the least-squares matrix (J assumed checked).
  ///
  /// R is computed block by block (a tall-skinny QR): [R; next kBlock rows of Jᵀ] is factorised
  /// again for each block, the last one padded with zero rows. This gives R up to the signs of
  /// its rows (which the least-squares problem does not see), with Householder's accuracy, and
  /// keeps every temporary small: no heap allocation once the workspace has its size, whatever P.
  void factorize(const Jacobian<T>& J, T reg_eps = T(0)) {
    const Eigen::Index m = J.rows(), P = J.cols(), r = std::min(m, P);
    const Eigen::Index block = std::min<Eigen::Index>(kBlock, std::max<Eigen::Index>(P, 1));
    work_.resize(m + block, m);
    work_.topRows(m).setZero();
    for (Eigen::Index k0 = 0; k0 < P; k0 += block) {
      const Eigen::Index b = std::min(block, P - k0);
      work_.middleRows(m, b) = J.middleCols(k0, b).transpose();
      if (b < block) work_.bottomRows(block - b).setZero();
      qr_.d.compute(work_);
      work_.topRows(m) = qr_.d.matrixQR().topRows(m).template triangularView<Eigen::Upper>();
    }
    A_.setZero(reg_eps > T(0) ? r + m : r, m);
    A_.topRows(r) = work_.topRows(r);
    if (reg_eps > T(0)) {
      const T fro = A_.topRows(r).norm();
      if (fro > T(0)) A_.topRows(r) /= fro;
      A_.bottomRows(m).diagonal().setConstant(std::sqrt(reg_eps));
    }
  }

  /// The same matrix from the Gram matrix alone (G = RᵀR through its eigen-decomposition,
  /// R = Λ^{1/2}Vᵀ; negative rounding eigenvalues clipped to 0): for G reduced across ranks.
  void factorize_gramian(const Matrix<T>& G, T reg_eps = T(0)) {
    const Eigen::Index m = G.rows();
    eig_.compute(G);
    A_.setZero(reg_eps > T(0) ? m + m : m, m);
    for (Eigen::Index k = 0; k < m; ++k)
      A_.row(k) =
          std::sqrt(std::max(eig_.eigenvalues()[k], T(0))) * eig_.eigenvectors().col(k).transpose();
    if (reg_eps > T(0)) {
      const T fro = A_.topRows(m).norm();
      if (fro > T(0)) A_.topRows(m) /= fro;
      A_.bottomRows(m).diagonal().setConstant(std::sqrt(reg_eps));
    }
  }

  /// Rows of Jᵀ factorised per block in `factorize`.
  static constexpr Eigen::Index kBlock = 2048;

  /// w = argmin_{v ≥ u} vᵀGv (u ≥ 0, one entry per task); Jᵀw is the projection of Jᵀu.
  solvers::NNLSResult<T> project(const Vector<T>& u, Vector<T>& w,
                                 const solvers::NNLSOptions<T>& opt = {}) {
    b_.noalias() = A_ * u;
    b_ = -b_;
    const solvers::NNLSResult<T> res = nnls_.solve(A_, b_, lambda_, opt);
    w = u + lambda_;
    return res;
  }

 private:
  detail::Scratch<Eigen::HouseholderQR<Matrix<T>>> qr_;
  detail::SymmetricEigen<T> eig_;
  Matrix<T> work_, A_;
  Vector<T> b_, lambda_;
  solvers::NNLS<T> nnls_;
};

/// The base of UPGrad and DualProj: the preference vector of the step, the projector fed by J
/// (its QR, accuracy cond(J)) or by G alone, and the options.
template <typename T>
class DualConeWeighting : public GramianWeighting<T> {
 public:
  bool keeps_task_state() const override { return !opt_.pref.empty(); }
  explicit DualConeWeighting(DualConeOptions<T> opt);
  void reset(int n) override;
  const DualConeOptions<T>& options() const { return opt_; }
  /// True when every projection of the last step converged.
  bool converged() const { return converged_; }

 protected:
  void prepare_projection(const Matrix<T>& G, const Jacobian<T>* J, const StepInfo<T>& info);
  DualConeOptions<T> opt_;
  DualConeProjector<T> projector_;
  Vector<T> u_;
  bool converged_ = true;
};

template <typename T>
DualConeWeighting<T>::DualConeWeighting(DualConeOptions<T> opt) : opt_(std::move(opt)) {
  for (double v : opt_.pref)
    if (!std::isfinite(v) || v < 0)
      throw std::invalid_argument("dual cone: pref must be finite and >= 0");
  if (!(opt_.reg_eps >= T(0))) throw std::invalid_argument("dual cone: reg_eps must be >= 0");
}

template <typename T>
void DualConeWeighting<T>::reset(int n) {
  GramianWeighting<T>::reset(n);
  if (!opt_.pref.empty() && static_cast<int>(opt_.pref.size()) != n)
    throw std::invalid_argument(this->name() + ": pref has " + std::to_string(opt_.pref.size()) +
                                " entries for " + std::to_string(n) + " tasks");
}

template <typename T>
void DualConeWeighting<T>::prepare_projection(const Matrix<T>& G, const Jacobian<T>* J,
                                              const StepInfo<T>& info) {
  const Eigen::Index m = G.rows();
  u_.resize(m);
  for (Eigen::Index r = 0; r < m; ++r)
    u_[r] = opt_.pref.empty() ? T(1) / static_cast<T>(m)
                              : static_cast<T>(opt_.pref[static_cast<std::size_t>(info.task(r))]);
  if (J)
    projector_.factorize(*J, opt_.reg_eps);
  else
    projector_.factorize_gramian(G, opt_.reg_eps);
  converged_ = true;
}
ONESTONE_EXTERN_CLASS(WEIGHTING, DualConeWeighting)

}  // namespace weighting
}  // namespace onestone
