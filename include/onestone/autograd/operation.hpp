#pragma once
/// @file operation.hpp
/// Defining an operation of your own: its forward, its saved state and its backward in one
/// definition, recorded on the tape like every built-in operation (anomaly check included).
///
/// An operation is a plain struct (trivially copyable: the tape copies it into its arena and
/// never runs a destructor) with
///   - `const char* name() const` — the name used in error messages and anomaly reports;
///   - `void backward(const BackwardContext<T>& c) const` — adds dL/d(input) for each input
///     from `c.grad_output()`, using what the struct saved in forward;
/// and whatever fields backward needs (scalars, sizes, pointers to arena scratch).
///
/// Example — y = x³ element-wise:
/// @code
/// template <typename T>
/// struct Cube {
///   const char* name() const { return "cube"; }
///   void backward(const onestone::autograd::BackwardContext<T>& c) const {
///     auto dx = c.input_grad(0);
///     if (!dx) return;
///     const T* x = c.input(0);
///     const T* g = c.grad_output();
///     for (onestone::Index k = 0; k < c.output_shape().numel(); ++k)
///       dx.add(k, g[k] * T(3) * x[k] * x[k]);
///   }
/// };
/// template <typename T>
/// onestone::Var<T> cube(const onestone::Var<T>& x) {
///   onestone::Var<T> y = onestone::autograd::new_output(x.shape(), {x});
///   T* out = y.mutable_data();
///   for (onestone::Index k = 0; k < x.numel(); ++k) out[k] = x.data()[k] * x.data()[k] *
///   x.data()[k]; return onestone::autograd::record(y, Cube<T>{}, {x});
/// }
/// @endcode

#include <initializer_list>
#include <stdexcept>
#include <vector>

#include "onestone/autograd/tape.hpp"
#include "onestone/autograd/var.hpp"

namespace onestone {
namespace autograd {

/// A new variable of `shape` (uninitialised values) that will be the output of an operation on
/// `inputs`: it requires a gradient when any input does (and recording is on).
template <typename T>
Var<T> new_output(const Shape& shape, std::initializer_list<Var<T>> inputs) {
  if (inputs.size() == 0) throw std::invalid_argument("new_output: an operation needs inputs");
  Tape<T>& t = inputs.begin()->tape();
  bool rg = false;
  for (const Var<T>& v : inputs) {
    if (&v.tape() != &t) throw std::invalid_argument("new_output: inputs live on different tapes");
    rg = rg || v.requires_grad();
  }
  return Var<T>(&t, t.new_var(shape, rg));
}

/// Records `op` as the operation that computed `out` from `inputs` and returns `out`. Input k of
/// the backward context is inputs[k].
template <typename T, typename Op>
Var<T> record(const Var<T>& out, const Op& op, std::initializer_list<Var<T>> inputs) {
  int ids[16];
  if (inputs.size() > 16) throw std::invalid_argument("record: more than 16 inputs; use a vector");
  int n = 0;
  for (const Var<T>& v : inputs) ids[n++] = v.id();
  out.tape().record_op(out.id(), op, ids, n);
  return out;
}
/// Same for any number of inputs.
template <typename T, typename Op>
Var<T> record(const Var<T>& out, const Op& op, const std::vector<Var<T>>& inputs) {
  std::vector<int> ids;
  ids.reserve(inputs.size());
  for (const Var<T>& v : inputs) ids.push_back(v.id());
  out.tape().record_op(out.id(), op, ids.data(), static_cast<int>(ids.size()));
  return out;
}

}  // namespace autograd
}  // namespace onestone
