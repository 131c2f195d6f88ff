#pragma once
/// @file parameter.hpp
/// `Parameter<T>`: a trainable tensor with its gradient, usable in graphs through `var()`.

#include <cstdint>

#include "onestone/autograd/tape.hpp"
#include "onestone/autograd/var.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone {
namespace nn {

/// A trainable tensor owned by a `Module`: its value, its gradient (same shape, accumulated by
/// backward, cleared by `zero_grad`), and whether it is trained.
///
/// `var()` registers the parameter on the current graph once per graph (cached), so using a
/// parameter many times in one forward pass costs nothing extra.
///
/// Example:
/// @code
/// onestone::nn::Parameter<float> w(onestone::Tensor<float>({10, 5}));
/// auto y = onestone::matmul(x, w.var());
/// @endcode
template <typename T>
class Parameter {
 public:
  explicit Parameter(Tensor<T> value, bool requires_grad = true)
      : value_(std::move(value)), grad_(value_.shape()), requires_grad_(requires_grad) {}
  Parameter(const Parameter&) = delete;
  Parameter& operator=(const Parameter&) = delete;

  /// The value. The non-const access counts as a change (see `version`): optimizers, loaders
  /// and user code that write weights go through it.
  Tensor<T>& value() noexcept {
    ++version_;
    return value_;
  }
  const Tensor<T>& value() const noexcept { return value_; }
  /// A counter that grows whenever the value may have changed (non-const `value()`,
  /// `set_value`, `reset_value`, `mark_changed`). Layers keep derived copies of their weights
  /// for inference (`Linear`'s transposed weight) and rebuild them when it moves.
  std::uint64_t version() const noexcept { return version_; }
  /// Declares a change made through a reference obtained earlier from `value()`.
  void mark_changed() noexcept { ++version_; }
  Tensor<T>& grad() noexcept { return grad_; }
  const Tensor<T>& grad() const noexcept { return grad_; }
  const Shape& shape() const noexcept { return value_.shape(); }
  Index numel() const noexcept { return value_.numel(); }
  bool requires_grad() const noexcept { return requires_grad_; }
  void set_requires_grad(bool on) noexcept { requires_grad_ = on; }
  void zero_grad() noexcept { grad_.zero_(); }

  /// This parameter as a leaf of `tape`'s current graph (registered at first use per graph).
  /// Without recording (no-grad, inference) the parameter is viewed as a constant and nothing
  /// is cached, so threads serving predictions from one model share no mutable state.
  Var<T> var(autograd::Tape<T>& tape = autograd::Tape<T>::current()) const;

  /// Replaces the value with a tensor of any shape (the gradient is resized and cleared).
  /// Optimizers created before a shape change refuse to step.
  void reset_value(Tensor<T> v) {
    value_ = std::move(v);
    grad_ = Tensor<T>(value_.shape());
    tape_ = nullptr;
    ++version_;
  }

  /// Replaces the value (same shape required, so optimizers' state stays valid).
  void set_value(const Tensor<T>& v);

 private:
  Tensor<T> value_;
  Tensor<T> grad_;
  bool requires_grad_;
  std::uint64_t version_ = 0;
  mutable autograd::Tape<T>* tape_ = nullptr;
  mutable int id_ = -1;
  mutable std::uint64_t stamp_ = 0;
};

template <typename T>
Var<T> Parameter<T>::var(autograd::Tape<T>& tape) const {
  if (!autograd::is_grad_enabled()) return Var<T>::from(value_, tape);
  tape.sync();
  if (tape_ != &tape || !tape.alive(id_, stamp_)) {
    auto* self = const_cast<Parameter*>(this);
    id_ =
        tape.external_leaf(self->value_.data(), self->grad_.data(), value_.shape(), requires_grad_);
    tape_ = &tape;
    stamp_ = tape.slot(id_).stamp;
  }
  return Var<T>(&tape, id_);
}

template <typename T>
void Parameter<T>::set_value(const Tensor<T>& v) {
  if (v.shape() != value_.shape())
    throw std::invalid_argument("Parameter::set_value: shape " + v.shape().str() +
                                " does not match " + value_.shape().str());
  std::copy(v.data(), v.data() + v.numel(), value_.data());
  ++version_;
}
ONESTONE_EXTERN_CLASS(NN, Parameter)

}  // namespace nn
}  // namespace onestone
