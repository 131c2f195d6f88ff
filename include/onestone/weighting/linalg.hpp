#pragma once
/// @file linalg.hpp
/// Allocation-free dense linear algebra for the small task-space problems of the balancing
/// methods: `detail::SymmetricEigen`, `detail::cod_solve`, `detail::col_piv_qr_solve` and
/// `detail::PerSizeScratch`.
///
/// Eigen 3.4's decompositions allocate on every `solve()` (a copy of the right-hand side, a
/// temporary per Householder reflector, the mask of an in-place permutation), and
/// `SelfAdjointEigenSolver::compute` allocates a workspace to form Q. The helpers here perform
/// the same floating-point operations in the same order on workspace owned by the caller, so
/// their results are bitwise those of Eigen while a steady-state training step never touches the
/// heap.

#include <Eigen/Dense>
#include <memory>
#include <utility>
#include <vector>

#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace weighting {
namespace detail {

/// x ← (I − τvvᵀ)x with v = [1; essential] (x has essential.size() + 1 entries): Eigen's
/// `applyHouseholderOnTheLeft` for one column, without its temporaries.
template <typename Dst, typename Essential, typename T>
void apply_reflector(Dst&& x, const Essential& essential, const T& tau) {
  const Eigen::Index n = x.size();
  if (n == 1) {
    x *= T(1) - tau;
  } else if (tau != T(0)) {
    T tmp = essential.dot(x.tail(n - 1));
    tmp += x.coeff(0);
    x.coeffRef(0) -= tau * tmp;
    x.tail(n - 1) -= (tau * essential) * tmp;
  }
}

/// dst ← cod.solve(rhs) (the minimum-norm least-squares solution), computed as Eigen does but in
/// the caller's workspace `c` (cod.rows() entries) and `y` (cod.cols() entries): no allocation
/// once `dst`, `c` and `y` have their sizes.
template <typename T>
void cod_solve(const Eigen::CompleteOrthogonalDecomposition<Matrix<T>>& cod, const Vector<T>& rhs,
               Vector<T>& dst, Vector<T>& c, Vector<T>& y) {
  const Eigen::Index rank = cod.rank(), rows = cod.rows(), cols = cod.cols();
  dst.resize(cols);
  if (rank == 0) {
    dst.setZero();
    return;
  }
  const Matrix<T>& qtz = cod.matrixQTZ();
  c = rhs;  // c ← Qᵀ·rhs
  for (Eigen::Index k = 0; k < rank; ++k)
    apply_reflector(c.tail(rows - k), qtz.col(k).tail(rows - k - 1), cod.hCoeffs().coeff(k));
  y.resize(cols);  // y ← Zᵀ·[T⁻¹c; 0]
  y.head(rank) =
      qtz.topLeftCorner(rank, rank).template triangularView<Eigen::Upper>().solve(c.head(rank));
  if (rank < cols) {
    y.tail(cols - rank).setZero();
    for (Eigen::Index k = 0; k < rank; ++k) {
      if (k != rank - 1) std::swap(y.coeffRef(k), y.coeffRef(rank - 1));
      apply_reflector(y.segment(rank - 1, cols - rank + 1),
                      qtz.row(k).tail(cols - rank).transpose(), cod.zCoeffs().coeff(k));
      if (k != rank - 1) std::swap(y.coeffRef(k), y.coeffRef(rank - 1));
    }
  }
  for (Eigen::Index i = 0; i < cols; ++i)  // dst ← P·y
    dst.coeffRef(cod.colsPermutation().indices().coeff(i)) = y.coeff(i);
}

/// dst ← qr.solve(rhs) (least squares on the non-zero pivots), computed as Eigen does but in the
/// caller's workspace `c` (qr.rows() entries): no allocation once `dst` and `c` have their sizes.
template <typename T>
void col_piv_qr_solve(const Eigen::ColPivHouseholderQR<Matrix<T>>& qr, const Vector<T>& rhs,
                      Vector<T>& dst, Vector<T>& c) {
  const Eigen::Index pivots = qr.nonzeroPivots(), rows = qr.rows(), cols = qr.cols();
  dst.resize(cols);
  if (pivots == 0) {
    dst.setZero();
    return;
  }
  const Matrix<T>& r = qr.matrixQR();
  c = rhs;  // c ← Qᵀ·rhs
  for (Eigen::Index k = 0; k < pivots; ++k)
    apply_reflector(c.tail(rows - k), r.col(k).tail(rows - k - 1), qr.hCoeffs().coeff(k));
  r.topLeftCorner(pivots, pivots)
      .template triangularView<Eigen::Upper>()
      .solveInPlace(c.head(pivots));
  const auto& perm = qr.colsPermutation().indices();
  for (Eigen::Index i = 0; i < pivots; ++i) dst.coeffRef(perm.coeff(i)) = c.coeff(i);
  for (Eigen::Index i = pivots; i < cols; ++i) dst.coeffRef(perm.coeff(i)) = T(0);
}

/// The eigen-decomposition A = V·diag(λ)·Vᵀ of a symmetric matrix (its lower triangle is read),
/// computed exactly as `Eigen::SelfAdjointEigenSolver::compute` does (the same scaling,
/// Householder tridiagonalisation and implicit symmetric QR steps, through Eigen's own internal
/// routines) with the workspace Eigen allocates on every call kept here instead. Eigenvalues in
/// increasing order, eigenvectors as the columns of `eigenvectors()`.
///
/// @code
/// onestone::weighting::detail::SymmetricEigen<double> eig;
/// eig.compute(G);   // eig.eigenvalues()[0] is the smallest eigenvalue of G
/// @endcode
template <typename T>
class SymmetricEigen {
 public:
  /// Decomposes the square matrix `a` (no allocation once its size has been seen).
  void compute(const Matrix<T>& a) {
    const Eigen::Index n = a.cols();
    values_.resize(n);
    if (n == 1) {
      vectors_ = a;
      values_.coeffRef(0) = vectors_.coeff(0, 0);
      vectors_.setOnes(n, n);
      info_ = Eigen::Success;
      return;
    }
    // Scaled to [-1, 1] against over- and underflow, as Eigen does.
    vectors_ = a.template triangularView<Eigen::Lower>();
    T scale = vectors_.cwiseAbs().maxCoeff();
    if (scale == T(0)) scale = T(1);
    vectors_.template triangularView<Eigen::Lower>() /= scale;
    subdiag_.resize(n - 1);
    hcoeffs_.resize(n - 1);
    Eigen::internal::tridiagonalization_inplace(vectors_, hcoeffs_);
    values_ = vectors_.diagonal();
    subdiag_ = vectors_.template diagonal<-1>();
    Eigen::HouseholderSequence<Matrix<T>, Vector<T>>(vectors_, hcoeffs_)
        .setLength(n - 1)
        .setShift(1)
        .evalTo(vectors_, workspace_);  // Q in place
    info_ = Eigen::internal::computeFromTridiagonal_impl(
        values_, subdiag_, Eigen::SelfAdjointEigenSolver<Matrix<T>>::m_maxIterations, true,
        vectors_);
    values_ *= scale;
  }
  /// The eigenvalues, in increasing order.
  const Vector<T>& eigenvalues() const { return values_; }
  /// The orthonormal eigenvectors (column k goes with eigenvalues()[k]).
  const Matrix<T>& eigenvectors() const { return vectors_; }
  /// Eigen::Success, or Eigen::NoConvergence when the QR iteration did not converge.
  Eigen::ComputationInfo info() const { return info_; }

 private:
  Matrix<T> vectors_;
  Vector<T> values_, subdiag_, hcoeffs_, workspace_;
  Eigen::ComputationInfo info_ = Eigen::Success;
};

/// Workspace per problem size, for active-set solvers whose sub-problems change size from one
/// iteration to the next: an Eigen matrix or decomposition reallocates whenever its size changes,
/// so each size s gets its own `Work(s, rows)` (which should allocate everything it needs).
/// `prepare(n, rows)` builds the workspaces of every size 0..n at once (a different n or rows
/// rebuilds them), so that later calls allocate nothing whichever sizes they meet. Copies start
/// empty (workspace, not state).
///
/// @code
/// detail::PerSizeScratch<Work> work;
/// work.prepare(n);          // Work(0, 0), ..., Work(n, 0)
/// Work& w = work[k];        // k ≤ n
/// @endcode
template <typename Work>
class PerSizeScratch {
 public:
  PerSizeScratch() = default;
  PerSizeScratch(const PerSizeScratch&) {}
  PerSizeScratch& operator=(const PerSizeScratch&) { return *this; }
  PerSizeScratch(PerSizeScratch&&) noexcept = default;
  PerSizeScratch& operator=(PerSizeScratch&&) noexcept = default;

  /// Makes the workspaces of sizes 0..max_size (for matrices with `rows` rows, if relevant).
  void prepare(Eigen::Index max_size, Eigen::Index rows = 0) {
    if (max_size == max_size_ && rows == rows_) return;
    work_.clear();
    work_.reserve(static_cast<std::size_t>(max_size + 1));
    for (Eigen::Index s = 0; s <= max_size; ++s) work_.push_back(std::make_unique<Work>(s, rows));
    max_size_ = max_size;
    rows_ = rows;
  }
  /// The workspace of size s (0 ≤ s ≤ the prepared max_size).
  Work& operator[](Eigen::Index s) { return *work_[static_cast<std::size_t>(s)]; }

 private:
  std::vector<std::unique_ptr<Work>> work_;
  Eigen::Index max_size_ = -1, rows_ = -1;
};

}  // namespace detail
}  // namespace weighting
}  // namespace onestone
