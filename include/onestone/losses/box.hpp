#pragma once
/// @file box.hpp
/// Box regression loss: 1 − IoU between predicted and target boxes (x1, y1, x2, y2), with its
/// exact (sub)gradient, per-sample weights and mean over the labelled samples.

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/losses/reduction.hpp"

namespace onestone {
namespace losses {
namespace detail {

/// IoU of box p against box t and its gradient with respect to p's four coordinates
/// (boxes with x2 < x1 or y2 < y1 have area 0; eps keeps an empty union finite).
template <typename T>
T box_iou_and_grad(const T* p, const T* t, T eps, T* grad) {
  const T pw = std::max(T(0), p[2] - p[0]), ph = std::max(T(0), p[3] - p[1]);
  const T tw = std::max(T(0), t[2] - t[0]), th = std::max(T(0), t[3] - t[1]);
  const T iw = std::max(T(0), std::min(p[2], t[2]) - std::max(p[0], t[0]));
  const T ih = std::max(T(0), std::min(p[3], t[3]) - std::max(p[1], t[1]));
  const T inter = iw * ih, u = pw * ph + tw * th - inter + eps;
  if (grad) {
    // dI and dA_p per coordinate (x1, y1, x2, y2); dIoU = dI (1/u + I/u²) − dA_p · I/u².
    const T in_w = iw > T(0) ? T(1) : T(0), in_h = ih > T(0) ? T(1) : T(0);
    const T dI[4] = {p[0] > t[0] ? -ih * in_w : T(0), p[1] > t[1] ? -iw * in_h : T(0),
                     p[2] < t[2] ? ih * in_w : T(0), p[3] < t[3] ? iw * in_h : T(0)};
    const T on_w = pw > T(0) ? T(1) : T(0), on_h = ph > T(0) ? T(1) : T(0);
    const T dA[4] = {-ph * on_w, -pw * on_h, ph * on_w, pw * on_h};
    const T a = T(1) / u + inter / (u * u), b = inter / (u * u);
    for (int k = 0; k < 4; ++k) grad[k] = dI[k] * a - dA[k] * b;
  }
  return inter / u;
}

/// Saved state of box_iou_loss: per-sample weights (or null), the mean's scale and eps.
template <typename T>
struct BoxIouLossOp {
  const T* w;
  T scale, eps;
  const char* name() const { return "box_iou_loss"; }
  void backward(const autograd::BackwardContext<T>& c) const {
    const autograd::GradSink<T> gp = c.input_grad(0);
    if (!gp) return;
    const Index N = c.input_shape(0)[0];
    const T g = c.grad_output()[0] * scale;
    const T* P = c.input(0);
    const T* Y = c.input(1);
    for (Index n = 0; n < N; ++n) {
      T d[4];
      box_iou_and_grad(P + 4 * n, Y + 4 * n, eps, d);
      const T wn = w ? w[n] : T(1);
      for (int k = 0; k < 4; ++k) gp.add(4 * n + k, -g * wn * d[k]);
    }
  }
};
ONESTONE_EXTERN_CLASS(LOSSES, BoxIouLossOp)

}  // namespace detail

/// The IoU loss of box regression (Yu et al. 2016, "UnitBox"): per sample 1 − IoU(p, t) of
/// predicted boxes `pred` [N, 4] against target boxes [N, 4], both (x1, y1, x2, y2), averaged
/// over the samples (weighted by `LossOptions::sample_weight`, so unlabelled samples of weight 0
/// drop out) or summed. Its gradient pulls the predicted edges toward the target's; it is 0 for
/// a box that does not overlap its target, so pair it with an L1 term (as `scene_mtl` does):
/// `l1_loss(p, t) + box_iou_loss(p, t)`. Gradients flow to `pred` only.
///
/// Example: `auto loss = onestone::losses::box_iou_loss(pred, target.values);`
template <typename T>
Var<T> box_iou_loss(const Var<T>& pred, const Tensor<T>& target,
                    const LossOptions<T>& opt = LossOptions<T>()) {
  using namespace autograd::detail;
  const Shape& s = pred.shape();
  if (s.rank() != 2 || s[1] != 4 || target.shape() != s)
    throw std::invalid_argument(
        shapes_msg("box_iou_loss", s, target.shape(), "expected boxes [N, 4] and [N, 4]"));
  const Index N = s[0];
  detail::check_sample_weight("box_iou_loss", opt.sample_weight_, N);
  autograd::Tape<T>& t = pred.tape();
  const Var<T> tv = Var<T>::from(target, t);
  const T* w = opt.sample_weight_ ? opt.sample_weight_->data() : nullptr;
  const T eps = static_cast<T>(1e-7);
  T total = 0, denom = 0;
  for (Index n = 0; n < N; ++n) {
    const T wn = w ? w[n] : T(1);
    if (wn == T(0)) continue;
    total += wn * (T(1) - detail::box_iou_and_grad<T>(pred.data() + 4 * n, target.data() + 4 * n,
                                                      eps, nullptr));
    denom += wn;
  }
  const T scale = opt.reduction_ == Reduction::Mean ? (denom > T(0) ? T(1) / denom : T(0)) : T(1);
  const int out = make_output(t, Shape{}, pred.requires_grad());
  t.value(out)[0] = total * scale;
  return emit(t, out, detail::BoxIouLossOp<T>{w, scale, eps}, {pred.id(), tv.id()});
}

}  // namespace losses
}  // namespace onestone
