#pragma once
/// @file jacobian.hpp
/// `Jacobian<T>`, `Vector<T>`, `Matrix<T>`: the Eigen types of the task-balancing layer, the Gram
/// matrix `gram()` and the input checks shared by every combiner and solver.

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace onestone {
namespace weighting {

/// A multi-task Jacobian: one ROW per task (T_tasks × P), row i being the gradient gᵢ of task i's
/// loss with respect to the P shared parameters (or shared representation coordinates).
///
/// Every combiner turns a `Jacobian<T>` into a direction d of length P used as θ ← θ − lr·d, so
/// that d plays the role of the summed gradient (equal weighting gives d = Σᵢ gᵢ).
///
/// Stored row-major: each task's gradient is contiguous, so filling a row, the Gram matrix
/// (dot products of rows) and d = Jᵀw (a sum of scaled rows) run over contiguous memory.
///
/// @code
/// onestone::weighting::Jacobian<double> J(2, 3);
/// J << 1, 0, 0,
///      0, 1, 0;   // two tasks, three parameters
/// @endcode
template <typename T>
using Jacobian = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A dense column vector (directions d of length P, task weights of length T_tasks, losses).
///
/// @code
/// onestone::weighting::Vector<double> w = onestone::weighting::Vector<double>::Ones(3);
/// @endcode
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// A dense square matrix of task-space quantities (Gram matrices G = J Jᵀ, T_tasks × T_tasks).
///
/// @code
/// onestone::weighting::Matrix<double> G = onestone::weighting::Matrix<double>::Identity(2, 2);
/// @endcode
template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;

/// Computes the Gram matrix G = J Jᵀ (Gᵢⱼ = gᵢ·gⱼ) into `G`, exactly symmetric.
///
/// Only the lower triangle is formed (dot products of rows over cache-sized column blocks) and
/// then mirrored; `G` is resized only when its size changes, so a reused `G` does not allocate.
///
/// @code
/// onestone::weighting::Matrix<double> G;
/// onestone::weighting::gram(J, G);   // G(0,1) == J.row(0).dot(J.row(1))
/// @endcode
template <typename T>
void gram(const Jacobian<T>& J, Matrix<T>& G) {
  const Eigen::Index m = J.rows(), P = J.cols();
  G.setZero(m, m);
  // Column blocks small enough that all m row segments stay in L1 while every pair is dotted.
  const Eigen::Index block = std::max<Eigen::Index>(256, 8192 / std::max<Eigen::Index>(m, 1));
  for (Eigen::Index k0 = 0; k0 < P; k0 += block) {
    const Eigen::Index b = std::min(block, P - k0);
    for (Eigen::Index i = 0; i < m; ++i)
      for (Eigen::Index j = 0; j <= i; ++j)
        G(i, j) += J.row(i).segment(k0, b).dot(J.row(j).segment(k0, b));
  }
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index i = 0; i < j; ++i) G(i, j) = G(j, i);
}

namespace detail {

/// "RxC" for error messages.
inline std::string shape_str(Eigen::Index rows, Eigen::Index cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

/// True when every entry of x is finite. One vectorized pass (x·0 is ±0 for a finite entry and
/// NaN for an infinite or NaN one, so the sum is finite exactly when all entries are), where
/// Eigen's allFinite() compares entry by entry: 10-20x faster on a wide Jacobian.
template <typename Derived>
bool all_finite(const Eigen::DenseBase<Derived>& x) {
  using Scalar = typename Derived::Scalar;
  return std::isfinite((x.derived().array() * Scalar(0)).sum());
}

/// Throws std::invalid_argument naming `method` unless J is non-empty, has at least
/// `min_tasks` rows and only finite entries.
template <typename T>
void check_jacobian(const char* method, const Jacobian<T>& J, Eigen::Index min_tasks = 1) {
  if (J.rows() == 0 || J.cols() == 0)
    throw std::invalid_argument(std::string(method) +
                                ": expected a non-empty Jacobian (tasks x params), got " +
                                shape_str(J.rows(), J.cols()));
  if (J.rows() < min_tasks)
    throw std::invalid_argument(std::string(method) + ": needs at least " +
                                std::to_string(min_tasks) + " tasks, got a Jacobian of shape " +
                                shape_str(J.rows(), J.cols()));
  if (!all_finite(J))
    throw std::invalid_argument(std::string(method) + ": the Jacobian of shape " +
                                shape_str(J.rows(), J.cols()) + " contains NaN or Inf");
}

/// Throws std::invalid_argument unless `losses` is non-null, has one finite entry per row of J,
/// and (when `positive`) every entry is > 0.
template <typename T>
void check_losses(const char* method, const Jacobian<T>& J, const Vector<T>* losses,
                  bool positive) {
  if (losses == nullptr)
    throw std::invalid_argument(std::string(method) +
                                ": this configuration needs the task losses, got none");
  if (losses->size() != J.rows())
    throw std::invalid_argument(std::string(method) + ": got " + std::to_string(losses->size()) +
                                " losses for a Jacobian of shape " + shape_str(J.rows(), J.cols()) +
                                " (one loss per row expected)");
  if (!losses->allFinite())
    throw std::invalid_argument(std::string(method) + ": the losses contain NaN or Inf");
  if (positive && (losses->array() <= T(0)).any())
    throw std::invalid_argument(std::string(method) + ": loss normalisation needs every loss > 0");
}

/// Throws std::invalid_argument unless G is a non-empty, square, finite matrix.
template <typename T>
void check_square(const char* where, const Matrix<T>& G) {
  if (G.rows() == 0 || G.rows() != G.cols())
    throw std::invalid_argument(std::string(where) + ": expected a non-empty square matrix, got " +
                                shape_str(G.rows(), G.cols()));
  if (!G.allFinite())
    throw std::invalid_argument(std::string(where) + ": the " + shape_str(G.rows(), G.cols()) +
                                " matrix contains NaN or Inf");
}

/// Throws std::invalid_argument unless v has `n` finite entries.
template <typename T>
void check_vector(const char* where, const char* what, const Vector<T>& v, Eigen::Index n) {
  if (v.size() != n)
    throw std::invalid_argument(std::string(where) + ": " + what + " has " +
                                std::to_string(v.size()) + " entries, expected " +
                                std::to_string(n));
  if (!all_finite(v))
    throw std::invalid_argument(std::string(where) + ": " + what + " contains NaN or Inf");
}

/// Holder of a reusable Eigen decomposition (workspace, not state): copies and moves give a
/// fresh, default-constructed decomposition, so copying a combiner never reads the uninitialised
/// members of a decomposition that was never computed.
template <typename Decomposition>
struct Scratch {
  Decomposition d;
  Scratch() = default;
  Scratch(const Scratch&) {}
  Scratch& operator=(const Scratch&) { return *this; }
};

/// A default relative tolerance for iterative solvers: 1e-2·√eps (≈1.5e-10 for double,
/// ≈3.5e-6 for float).
template <typename T>
T default_tol() {
  return T(1e-2) * std::sqrt(std::numeric_limits<T>::epsilon());
}

}  // namespace detail
}  // namespace weighting
}  // namespace onestone
