#pragma once
/// @file regression.hpp
/// Regression losses: mean squared error, L1, Huber, with per-sample weights.

#include <cmath>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/losses/binary_cross_entropy.hpp"
#include "onestone/losses/reduction.hpp"

namespace onestone {
namespace losses {
namespace detail {

/// The element-wise regression losses: value of one residual d = p − y and its derivative.
struct MseFn {
  static constexpr const char* name = "mse_loss";
  template <class D, class S>
  static auto value(const D& d, S) {
    return d.square();
  }
  template <class D, class S>
  static auto grad(const D& d, S) {
    return d * S(2);
  }
};
/// Per-element functor of `l1_loss` (value and derivative in the difference d = prediction −
/// target).
struct L1Fn {
  static constexpr const char* name = "l1_loss";
  template <class D, class S>
  static auto value(const D& d, S) {
    return d.abs();
  }
  template <class D, class S>
  static auto grad(const D& d, S) {
    return d.sign();
  }
};
/// ½d² for |d| < δ, δ·(|d| − ½δ) otherwise (PyTorch's `HuberLoss`).
struct HuberFn {
  static constexpr const char* name = "huber_loss";
  template <class D, class S>
  static auto value(const D& d, S delta) {
    return (d.abs() < delta).select(S(0.5) * d.square(), delta * (d.abs() - S(0.5) * delta));
  }
  template <class D, class S>
  static auto grad(const D& d, S delta) {
    return d.max(-delta).min(delta);
  }
};

/// Saved state of a regression loss: per-element weights (null = all 1), scale, Huber's δ.
template <typename T, typename Fn>
struct RegressionOp {
  const T* ew;
  T scale, delta;
  const char* name() const { return Fn::name; }
  static Var<T> apply(const Var<T>& pred, const Var<T>& target, const LossOptions<T>& opt);
  void backward(const autograd::BackwardContext<T>& c) const;
};

template <typename T, typename Fn>
void RegressionOp<T, Fn>::backward(const autograd::BackwardContext<T>& c) const {
  using autograd::detail::cflat;
  const Index N = c.input_shape(0).numel();
  const T g = c.grad_output()[0] * scale;
  autograd::detail::ConstFlatArray<T> p = cflat(c.input(0), N), y = cflat(c.input(1), N);
  for (int side = 0; side < 2; ++side) {
    const autograd::GradSink<T> gs = c.input_grad(side);
    if (!gs) continue;
    const T sgn = side == 0 ? g : -g;
    auto d = autograd::detail::flat(gs.ptr, N);
    if (ew)
      autograd::accumulate(gs, d, Fn::grad(p - y, delta) * cflat(ew, N) * sgn);
    else
      autograd::accumulate(gs, d, Fn::grad(p - y, delta) * sgn);
  }
}

template <typename T, typename Fn>
Var<T> RegressionOp<T, Fn>::apply(const Var<T>& pred, const Var<T>& target,
                                  const LossOptions<T>& opt) {
  using namespace autograd::detail;
  const char* name = Fn::name;
  autograd::Tape<T>& t = common_tape(pred, target, name);
  if (pred.numel() != target.numel())
    throw std::invalid_argument(
        shapes_msg(name, pred.shape(), target.shape(), "predictions and targets differ in size"));
  const T delta = static_cast<T>(opt.delta_);
  if (!(delta > T(0))) throw std::invalid_argument(std::string(name) + ": delta must be positive");
  const Index N = pred.numel();
  const Index samples = pred.shape().rank() ? pred.shape()[0] : 1;
  check_sample_weight(name, opt.sample_weight_, samples);
  T denom;
  const T* ew = element_weights(t, opt.sample_weight_, samples, samples ? N / samples : 0, denom);
  ConstFlatArray<T> p = cflat(pred.data(), N), y = cflat(target.data(), N);
  const T total =
      ew ? (Fn::value(p - y, delta) * cflat(ew, N)).sum() : Fn::value(p - y, delta).sum();
  const T scale = opt.reduction_ == Reduction::Mean ? (denom > T(0) ? T(1) / denom : T(0)) : T(1);
  const int out = make_output(t, Shape{}, pred.requires_grad() || target.requires_grad());
  t.value(out)[0] = total * scale;
  return emit(t, out, RegressionOp{ew, scale, delta}, {pred.id(), target.id()});
}
ONESTONE_EXTERN_CLASS2(LOSSES, RegressionOp, MseFn)
ONESTONE_EXTERN_CLASS2(LOSSES, RegressionOp, L1Fn)
ONESTONE_EXTERN_CLASS2(LOSSES, RegressionOp, HuberFn)

}  // namespace detail

/// Mean squared error between predictions and targets of equal element count.
/// Example: `auto loss = onestone::losses::mse_loss(pred, target);`
template <typename T>
inline Var<T> mse_loss(const Var<T>& pred, const Var<T>& target, const LossOptions<T>& opt) {
  return detail::RegressionOp<T, detail::MseFn>::apply(pred, target, opt);
}
template <typename T>
inline Var<T> mse_loss(const Var<T>& pred, const Var<T>& target, Reduction r = Reduction::Mean) {
  return mse_loss(pred, target, LossOptions<T>().reduction(r));
}
template <typename T>
inline Var<T> mse_loss(const Var<T>& pred, const Tensor<T>& target, Reduction r = Reduction::Mean) {
  return mse_loss(pred, Var<T>::from(target, pred.tape()), r);
}
template <typename T>
inline Var<T> mse_loss(const Var<T>& pred, const Tensor<T>& target, const LossOptions<T>& opt) {
  return mse_loss(pred, Var<T>::from(target, pred.tape()), opt);
}
/// Mean absolute error.
template <typename T>
inline Var<T> l1_loss(const Var<T>& pred, const Var<T>& target, const LossOptions<T>& opt) {
  return detail::RegressionOp<T, detail::L1Fn>::apply(pred, target, opt);
}
template <typename T>
inline Var<T> l1_loss(const Var<T>& pred, const Var<T>& target, Reduction r = Reduction::Mean) {
  return l1_loss(pred, target, LossOptions<T>().reduction(r));
}
template <typename T>
inline Var<T> l1_loss(const Var<T>& pred, const Tensor<T>& target, Reduction r = Reduction::Mean) {
  return l1_loss(pred, Var<T>::from(target, pred.tape()), r);
}
template <typename T>
inline Var<T> l1_loss(const Var<T>& pred, const Tensor<T>& target, const LossOptions<T>& opt) {
  return l1_loss(pred, Var<T>::from(target, pred.tape()), opt);
}
/// Huber loss: ½d² for |d| < delta, delta·(|d| − ½delta) otherwise (PyTorch's `HuberLoss`).
template <typename T>
inline Var<T> huber_loss(const Var<T>& pred, const Var<T>& target, const LossOptions<T>& opt) {
  return detail::RegressionOp<T, detail::HuberFn>::apply(pred, target, opt);
}
template <typename T>
inline Var<T> huber_loss(const Var<T>& pred, const Var<T>& target,
                         autograd::detail::type_identity_t<T> delta = T(1),
                         Reduction r = Reduction::Mean) {
  return huber_loss(pred, target, LossOptions<T>().reduction(r).delta(delta));
}
template <typename T>
inline Var<T> huber_loss(const Var<T>& pred, const Tensor<T>& target,
                         autograd::detail::type_identity_t<T> delta = T(1),
                         Reduction r = Reduction::Mean) {
  return huber_loss(pred, Var<T>::from(target, pred.tape()), delta, r);
}
template <typename T>
inline Var<T> huber_loss(const Var<T>& pred, const Tensor<T>& target, const LossOptions<T>& opt) {
  return huber_loss(pred, Var<T>::from(target, pred.tape()), opt);
}

}  // namespace losses
}  // namespace onestone
