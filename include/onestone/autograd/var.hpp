#pragma once
/// @file var.hpp
/// `Var<T>`: a handle to a value recorded on the autograd tape.

#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/autograd/tape.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone {
namespace autograd {

/// A differentiable value: a small handle (tape, id, stamp) to a tensor recorded on a `Tape`.
///
/// Vars are created by operations (`relu(x)`, `a + b`, `linear(...)`), by parameters
/// (`Parameter::var()`), or from data with `Var<T>::from` (borrows memory, no gradient) and
/// `Var<T>::variable` (copies, gradient wanted). Copying a Var copies the handle only.
/// Using a Var after its graph was reset throws std::logic_error.
///
/// Example:
/// @code
/// onestone::Tensor<double> xt = onestone::Tensor<double>::from({1, 2, 3}, {1, 3});
/// auto x = onestone::Var<double>::variable(xt);
/// auto y = onestone::sum(x * x);
/// y.backward();
/// // x.grad() now holds 2*x
/// @endcode
template <typename T>
class Var {
 public:
  using Scalar = T;
  Var() = default;
  Var(Tape<T>* tape, int id) : tape_(tape), id_(id), stamp_(tape->slot(id).stamp) {}

  /// A constant (no gradient) viewing `t`'s memory without copying; `t` must outlive the graph.
  static Var from(const Tensor<T>& t, Tape<T>& tape = Tape<T>::current()) {
    const int id = tape.external_leaf(const_cast<T*>(t.data()), nullptr, t.shape(), false);
    return Var(&tape, id);
  }
  /// A constant copied from a temporary tensor (a view of it would dangle).
  static Var from(Tensor<T>&& t, Tape<T>& tape = Tape<T>::current()) {
    return variable(t, false, tape);
  }
  /// A constant viewing raw memory of the given shape.
  static Var from(const T* data, const Shape& shape, Tape<T>& tape = Tape<T>::current()) {
    const int id = tape.external_leaf(const_cast<T*>(data), nullptr, shape, false);
    return Var(&tape, id);
  }
  /// A leaf copied into the tape whose gradient is wanted (read it with `grad()`).
  static Var variable(const Tensor<T>& t, bool requires_grad = true,
                      Tape<T>& tape = Tape<T>::current()) {
    const int id = tape.arena_leaf(t.shape(), requires_grad);
    std::copy(t.data(), t.data() + t.numel(), tape.value(id));
    return Var(&tape, id);
  }

  bool defined() const noexcept { return tape_ != nullptr; }
  Tape<T>& tape() const {
    check();
    return *tape_;
  }
  int id() const {
    check();
    return id_;
  }
  const Shape& shape() const { return tape().shape(id_); }
  Index numel() const { return shape().numel(); }
  Index rows() const { return shape().rows(); }
  Index cols() const { return shape().cols(); }
  Index size(int i) const { return shape()[i]; }
  bool requires_grad() const { return tape().requires_grad(id_); }

  const T* data() const { return tape().value(id_); }
  /// Mutable access to the value (for in-place initialisation of fresh leaves only).
  T* mutable_data() const { return tape().value(id_); }
  /// Matrix view (rows() x cols()) of the value.
  ConstMatrixMap<T> value() const { return ConstMatrixMap<T>(data(), rows(), cols()); }
  /// The single element of a one-element variable.
  T item() const {
    if (numel() != 1)
      throw std::invalid_argument("Var::item: variable has shape " + shape().str() +
                                  ", not one element");
    return data()[0];
  }
  /// A copy of the value that outlives the graph.
  Tensor<T> to_tensor() const { return Tensor<T>::copy_of(data(), shape()); }

  /// True when a gradient reached this variable in the last backward pass.
  bool has_grad() const { return tape().grad_in(id_) != nullptr; }
  /// The gradient from the last backward pass (zeros when none arrived), as a copy.
  Tensor<T> grad() const {
    Tensor<T> g(shape());
    if (const T* p = tape().grad_in(id_)) std::copy(p, p + numel(), g.data());
    return g;
  }
  /// Read-only view of the gradient (valid until the next backward); throws when none arrived.
  ConstMatrixMap<T> grad_view() const {
    const T* p = tape().grad_in(id_);
    if (!p) throw std::logic_error("Var::grad_view: no gradient reached this variable");
    return ConstMatrixMap<T>(p, rows(), cols());
  }

  /// Back-propagates from this one-element variable.
  void backward() const { tape().backward(id_); }
  /// Back-propagates from this variable with an explicit upstream gradient of its shape.
  void backward(const Tensor<T>& seed) const {
    if (seed.numel() != numel())
      throw std::invalid_argument("Var::backward: seed of shape " + seed.shape().str() +
                                  " for a variable of shape " + shape().str());
    tape().backward(id_, seed.data());
  }
  void backward(const T* seed) const { tape().backward(id_, seed); }

 private:
  void check() const {
    if (!tape_) throw std::logic_error("Var: use of an undefined variable");
    if (!tape_->alive(id_, stamp_))
      throw std::logic_error("Var: variable #" + std::to_string(id_) +
                             " belongs to a graph that was reset or rewound");
  }

  Tape<T>* tape_ = nullptr;
  int id_ = -1;
  std::uint64_t stamp_ = 0;
};

}  // namespace autograd
using autograd::Var;
}  // namespace onestone
