#pragma once
/// @file dual_cone.hpp
/// `DualConeProjector<T>` and `DualConeOptions<T>`: projection onto the dual cone of the rows of
/// a Jacobian, shared by UPGrad and DualProj (Quinton & Rey 2024).

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/solvers/nnls.hpp"

namespace onestone {
namespace weighting {

/// Options of `UPGrad` and `DualProj`.
///
/// @code
/// onestone::weighting::DualConeOptions<double> opt;
/// opt.pref = onestone::weighting::Vector<double>::Ones(3);   // sum scale instead of mean
/// @endcode
template <typename T>
struct DualConeOptions {
  /// Preference weights u (one per task, ≥ 0); empty means uᵢ = 1/T (the paper's mean).
  Vector<T> pref;
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
  Matrix<T> work_, A_;
  Vector<T> b_, lambda_;
  solvers::NNLS<T> nnls_;
};

namespace detail {
// u from the options (size check) or 1/T.
template <typename T>
void dual_cone_pref(const char* method, const DualConeOptions<T>& opt, Eigen::Index m,
                    const Jacobian<T>& J, Vector<T>& u) {
  if (opt.pref.size() == 0) {
    u.setConstant(m, T(1) / static_cast<T>(m));
    return;
  }
  if (opt.pref.size() != m)
    throw std::invalid_argument(
        std::string(method) + ": pref has " + std::to_string(opt.pref.size()) +
        " entries for a Jacobian of shape " + shape_str(J.rows(), J.cols()));
  u = opt.pref;
}
template <typename T>
void check_pref(const char* method, const DualConeOptions<T>& opt) {
  if (opt.pref.size() > 0 && (!opt.pref.allFinite() || (opt.pref.array() < T(0)).any()))
    throw std::invalid_argument(std::string(method) + ": pref must be finite and >= 0");
  if (!(opt.reg_eps >= T(0)))
    throw std::invalid_argument(std::string(method) + ": reg_eps must be >= 0");
}
}  // namespace detail

}  // namespace weighting
}  // namespace onestone
