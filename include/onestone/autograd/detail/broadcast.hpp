#pragma once
/// @file broadcast.hpp
/// Iteration plans for element-wise operations with NumPy broadcasting and for strided copies:
/// the output's dimensions, collapsed where every operand is contiguous (or constant) across
/// them, and one element stride per operand and dimension (0 along a broadcast dimension).
/// Kernels then run over rows of the innermost collapsed dimension.

#include <array>
#include <initializer_list>

#include "onestone/tensor/shape.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// How up to three operands are laid over an output: `rank` collapsed dimensions `dim`, and
/// `stride[k][d]`, operand k's element stride along dimension d (0 when broadcast).
struct Plan {
  static constexpr int kMaxOperands = 3;
  int rank = 1;
  int operands = 0;
  Index dim[4] = {1, 1, 1, 1};
  Index stride[kMaxOperands][4] = {};
  /// Elements of the output.
  Index numel() const noexcept {
    Index n = 1;
    for (int d = 0; d < rank; ++d) n *= dim[d];
    return n;
  }
  /// Length of one row (the innermost collapsed dimension).
  Index row_length() const noexcept { return dim[rank - 1]; }
  /// Number of rows.
  Index rows() const noexcept {
    const Index len = row_length();
    return len ? numel() / len : 0;
  }
  /// Operand k's stride along the row (0 or 1 for broadcast plans).
  Index inner(int k) const noexcept { return stride[k][rank - 1]; }
};

/// Collapses the dimensions of a plan whose strides were filled for `r` raw dimensions: drops
/// size-1 dimensions and merges neighbours that every operand walks contiguously.
inline void collapse(Plan& p, int r) {
  int n = 0;
  Index dim[4];
  Index st[Plan::kMaxOperands][4];
  for (int d = 0; d < r; ++d) {
    if (p.dim[d] == 1) continue;
    if (n > 0) {
      bool merge = true;
      for (int k = 0; k < p.operands; ++k)
        merge = merge && st[k][n - 1] == p.stride[k][d] * p.dim[d];
      if (merge) {
        dim[n - 1] *= p.dim[d];
        for (int k = 0; k < p.operands; ++k) st[k][n - 1] = p.stride[k][d];
        continue;
      }
    }
    dim[n] = p.dim[d];
    for (int k = 0; k < p.operands; ++k) st[k][n] = p.stride[k][d];
    ++n;
  }
  if (n == 0) {  // every dimension is 1 (or there are none): one element
    n = 1;
    dim[0] = 1;
    for (int k = 0; k < p.operands; ++k) st[k][0] = 0;
  }
  p.rank = n;
  for (int d = 0; d < 4; ++d) p.dim[d] = d < n ? dim[d] : 1;
  for (int k = 0; k < p.operands; ++k)
    for (int d = 0; d < 4; ++d) p.stride[k][d] = d < n ? st[k][d] : 0;
}

/// The plan of `out` (a broadcast of the operand shapes) over the operands, each aligned from
/// the right. The caller has checked that every operand broadcasts to `out`.
inline Plan broadcast_plan(const Shape& out, std::initializer_list<const Shape*> operands) {
  Plan p;
  p.operands = static_cast<int>(operands.size());
  const int r = out.rank();
  for (int d = 0; d < r; ++d) p.dim[d] = out.at(d);
  int k = 0;
  for (const Shape* s : operands) {
    const auto st = s->strides();
    for (int d = 0; d < r; ++d) {
      const int j = d - (r - s->rank());
      p.stride[k][d] = (j >= 0 && s->at(j) != 1) ? st[static_cast<std::size_t>(j)] : 0;
    }
    ++k;
  }
  collapse(p, r);
  return p;
}

/// The plan of a strided walk: `shape` with operand 0 contiguous (the output) and operand 1 at
/// the given element strides (a permuted or sliced input).
inline Plan strided_plan(const Shape& shape, const Index* strides) {
  Plan p;
  p.operands = 2;
  const int r = shape.rank();
  const auto st = shape.strides();
  for (int d = 0; d < r; ++d) {
    p.dim[d] = shape.at(d);
    p.stride[0][d] = st[static_cast<std::size_t>(d)];
    p.stride[1][d] = strides[d];
  }
  collapse(p, r);
  return p;
}

/// Calls f(row, offsets) for rows [row_begin, row_end) of plan p, where offsets[k] is operand k's
/// element offset at the start of the row (the output, contiguous, starts at row·row_length()).
template <typename F>
inline void for_rows(const Plan& p, Index row_begin, Index row_end, F&& f) {
  const int outer = p.rank - 1;
  Index idx[3] = {0, 0, 0};
  Index off[Plan::kMaxOperands] = {0, 0, 0};
  // Position of row_begin in the outer dimensions.
  Index rem = row_begin;
  for (int d = outer - 1; d >= 0; --d) {
    idx[d] = rem % p.dim[d];
    rem /= p.dim[d];
  }
  for (int k = 0; k < p.operands; ++k)
    for (int d = 0; d < outer; ++d) off[k] += idx[d] * p.stride[k][d];
  for (Index row = row_begin; row < row_end; ++row) {
    f(row, static_cast<const Index*>(off));
    for (int d = outer - 1; d >= 0; --d) {
      for (int k = 0; k < p.operands; ++k) off[k] += p.stride[k][d];
      if (++idx[d] < p.dim[d]) break;
      for (int k = 0; k < p.operands; ++k) off[k] -= p.stride[k][d] * p.dim[d];
      idx[d] = 0;
    }
  }
}

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
