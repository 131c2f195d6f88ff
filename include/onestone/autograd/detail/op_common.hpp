#pragma once
/// @file op_common.hpp
/// Internal helpers shared by the operation headers: output creation, recording, axis checks,
/// flat Eigen views and message helpers.

#include <initializer_list>
#include <stdexcept>
#include <string>

#include "onestone/autograd/tape.hpp"
#include "onestone/autograd/var.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// Blocks template deduction (scalars convert to the Var's element type).
template <typename T>
struct type_identity {
  using type = T;
};
template <typename T>
using type_identity_t = typename type_identity<T>::type;

/// The tape shared by two variables; throws when they live on different tapes.
template <typename T>
inline Tape<T>& common_tape(const Var<T>& a, const Var<T>& b, const char* op) {
  Tape<T>& ta = a.tape();
  if (&ta != &b.tape())
    throw std::invalid_argument(std::string(op) + ": operands live on different tapes");
  return ta;
}

/// Creates the output variable of an operation (uninitialised values).
template <typename T>
inline int make_output(Tape<T>& t, const Shape& s, bool requires_grad) {
  return t.new_var(s, requires_grad);
}

/// Records `op` for output `out` from inputs `ins` (ids) and returns the output as a Var: the
/// one way every built-in operation finishes (anomaly check included).
template <typename T, typename Op>
inline Var<T> emit(Tape<T>& t, int out, const Op& op, std::initializer_list<int> ins) {
  t.record_op(out, op, ins.begin(), static_cast<int>(ins.size()));
  return Var<T>(&t, out);
}
/// Same with `n` input ids at `ins`.
template <typename T, typename Op>
inline Var<T> emit(Tape<T>& t, int out, const Op& op, const int* ins, int n) {
  t.record_op(out, op, ins, n);
  return Var<T>(&t, out);
}

/// The axis `axis` of a rank-`rank` tensor made non-negative (negative counts from the end);
/// throws std::invalid_argument naming the operation, the axis and the shape when out of range.
inline int normalize_axis(const char* op, int axis, const Shape& s, int extra = 0) {
  const int r = s.rank() + extra;
  const int a = axis < 0 ? axis + r : axis;
  if (a < 0 || a >= r || r == 0)
    throw std::invalid_argument(std::string(op) + ": axis " + std::to_string(axis) +
                                " out of range for shape " + s.str() + " (rank " +
                                std::to_string(s.rank()) + ")");
  return a;
}

/// Splits a shape around `axis` into outer × len × inner.
inline void axis_split(const Shape& s, int axis, Index& outer, Index& len, Index& inner) {
  outer = s.span(0, axis);
  len = s.at(axis);
  inner = s.span(axis + 1, s.rank());
}

template <typename T>
inline ConstMatrixMap<T> cmat(Tape<T>& t, int id) {
  const Shape& s = t.shape(id);
  return ConstMatrixMap<T>(t.value(id), s.rows(), s.cols());
}
template <typename T>
inline MatrixMap<T> mmat(Tape<T>& t, int id) {
  const Shape& s = t.shape(id);
  return MatrixMap<T>(t.value(id), s.rows(), s.cols());
}
template <typename T>
using FlatArray = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstFlatArray = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

template <typename T>
inline ConstFlatArray<T> cflat(const T* p, Index n) {
  return ConstFlatArray<T>(p, n);
}
template <typename T>
inline FlatArray<T> flat(T* p, Index n) {
  return FlatArray<T>(p, n);
}

/// "op: what (shapes [..] and [..])" message helper.
inline std::string shapes_msg(const char* op, const Shape& a, const Shape& b, const char* what) {
  return std::string(op) + ": " + what + " (shapes " + a.str() + " and " + b.str() + ")";
}

/// Copies (fresh) or adds n values of src into a gradient sink.
template <typename T>
inline void add_to(const GradSink<T>& g, const T* src, Index n) {
  accumulate(g, flat(g.ptr, n), cflat(src, n));
}

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
