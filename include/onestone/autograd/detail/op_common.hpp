#pragma once
/// @file op_common.hpp
/// Internal helpers shared by the operation headers: output creation, node recording, views.

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

/// Creates the output variable of an operation.
template <typename T>
inline int make_output(Tape<T>& t, const Shape& s, bool requires_grad) {
  return t.new_var(s, requires_grad);
}

/// Records a node for `out` when it requires a gradient; returns a pointer to the stored node
/// so that the caller may fill saved data (or nullptr when nothing is recorded).
template <typename T>
inline void record(Tape<T>& t, typename Node<T>::BackwardFn fn, const char* op, int out, int a,
                   int b = -1, int c = -1, void* aux = nullptr, T s0 = T(0), T s1 = T(0),
                   Index i0 = 0, Index i1 = 0, void* aux2 = nullptr) {
  if (!t.requires_grad(out)) return;
  Node<T> n;
  n.backward = fn;
  n.op = op;
  n.out = out;
  n.in[0] = a;
  n.in[1] = b;
  n.in[2] = c;
  n.aux = aux;
  n.aux2 = aux2;
  n.s[0] = s0;
  n.s[1] = s1;
  n.i[0] = i0;
  n.i[1] = i1;
  t.record(n);
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

/// "op: expected ..., got [..] and [..]" style message helper.
inline std::string shapes_msg(const char* op, const Shape& a, const Shape& b, const char* what) {
  return std::string(op) + ": " + what + " (shapes " + a.str() + " and " + b.str() + ")";
}

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
