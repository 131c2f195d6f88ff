#pragma once
/// @file regression.hpp
/// Regression losses: mean squared error, L1, Huber.

#include <cmath>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/losses/cross_entropy.hpp"

namespace onestone {
namespace losses {
namespace detail {
enum class RegKind : Index { Mse = 0, L1 = 1, Huber = 2 };

inline const char* reg_name(RegKind k) {
  return k == RegKind::Mse ? "mse_loss" : (k == RegKind::L1 ? "l1_loss" : "huber_loss");
}

template <typename T>
inline void regression_backward(autograd::Tape<T>& t, const autograd::Node<T>& n) {
  using autograd::detail::ConstFlatArray;
  const Index N = t.shape(n.in[0]).numel();
  const T g = t.grad_in(n.out)[0] * n.s[0];
  const T delta = n.s[1];
  const RegKind kind = static_cast<RegKind>(n.i[0]);
  ConstFlatArray<T> p(t.value(n.in[0]), N);
  ConstFlatArray<T> y(t.value(n.in[1]), N);
  const autograd::GradSink<T> gp = t.sink(n.in[0]);
  const autograd::GradSink<T> gy = t.sink(n.in[1]);
  for (int side = 0; side < 2; ++side) {
    const autograd::GradSink<T>& gs = side == 0 ? gp : gy;
    if (!gs) continue;
    const T sgn = side == 0 ? g : -g;
    auto d = autograd::detail::flat(gs.ptr, N);
    switch (kind) {
      case RegKind::Mse:
        autograd::accumulate(gs, d, (p - y) * (T(2) * sgn));
        break;
      case RegKind::L1:
        autograd::accumulate(gs, d, (p - y).sign() * sgn);
        break;
      case RegKind::Huber:
        autograd::accumulate(gs, d, (p - y).max(-delta).min(delta) * sgn);
        break;
    }
  }
}

template <typename T>
inline Var<T> regression_loss(const Var<T>& pred, const Var<T>& target, RegKind kind, T delta,
                              Reduction reduction) {
  using namespace autograd::detail;
  const char* name = reg_name(kind);
  autograd::Tape<T>& t = common_tape(pred, target, name);
  if (pred.numel() != target.numel())
    throw std::invalid_argument(
        shapes_msg(name, pred.shape(), target.shape(), "predictions and targets differ in size"));
  if (kind == RegKind::Huber && !(delta > T(0)))
    throw std::invalid_argument("huber_loss: delta must be positive");
  const Index N = pred.numel();
  ConstFlatArray<T> p(t.value(pred.id()), N);
  ConstFlatArray<T> y(t.value(target.id()), N);
  T total = 0;
  switch (kind) {
    case RegKind::Mse:
      total = (p - y).square().sum();
      break;
    case RegKind::L1:
      total = (p - y).abs().sum();
      break;
    case RegKind::Huber:
      for (Index k = 0; k < N; ++k) {
        const T a = std::abs(p[k] - y[k]);
        total += a < delta ? T(0.5) * a * a : delta * (a - T(0.5) * delta);
      }
      break;
  }
  const T scale = reduction == Reduction::Mean ? T(1) / static_cast<T>(N ? N : 1) : T(1);
  const int out = make_output(t, Shape{}, pred.requires_grad() || target.requires_grad());
  t.value(out)[0] = total * scale;
  record(t, &regression_backward<T>, name, out, pred.id(), target.id(), -1, nullptr, scale, delta,
         static_cast<Index>(kind));
  t.check_forward(out, name);
  return Var<T>(&t, out);
}
}  // namespace detail

/// Mean squared error between predictions and targets of equal element count.
/// Example: `auto loss = onestone::losses::mse_loss(pred, target);`
template <typename T>
inline Var<T> mse_loss(const Var<T>& pred, const Var<T>& target, Reduction r = Reduction::Mean) {
  return detail::regression_loss(pred, target, detail::RegKind::Mse, T(1), r);
}
template <typename T>
inline Var<T> mse_loss(const Var<T>& pred, const Tensor<T>& target, Reduction r = Reduction::Mean) {
  return mse_loss(pred, Var<T>::from(target, pred.tape()), r);
}
/// Mean absolute error.
template <typename T>
inline Var<T> l1_loss(const Var<T>& pred, const Var<T>& target, Reduction r = Reduction::Mean) {
  return detail::regression_loss(pred, target, detail::RegKind::L1, T(1), r);
}
template <typename T>
inline Var<T> l1_loss(const Var<T>& pred, const Tensor<T>& target, Reduction r = Reduction::Mean) {
  return l1_loss(pred, Var<T>::from(target, pred.tape()), r);
}
/// Huber loss: ½d² for |d| < delta, delta·(|d| − ½delta) otherwise (PyTorch's `HuberLoss`).
template <typename T>
inline Var<T> huber_loss(const Var<T>& pred, const Var<T>& target,
                         autograd::detail::type_identity_t<T> delta = T(1),
                         Reduction r = Reduction::Mean) {
  return detail::regression_loss(pred, target, detail::RegKind::Huber, delta, r);
}
template <typename T>
inline Var<T> huber_loss(const Var<T>& pred, const Tensor<T>& target,
                         autograd::detail::type_identity_t<T> delta = T(1),
                         Reduction r = Reduction::Mean) {
  return huber_loss(pred, Var<T>::from(target, pred.tape()), delta, r);
}

}  // namespace losses
}  // namespace onestone
