#pragma once
/// @file cross_entropy.hpp
/// Cross entropy on integer labels, fused with log-softmax over the class axis: per sample
/// (logits [N, C]), per pixel ([N, C, H, W]) or per token ([N, C, L]); class weights, an ignore
/// value and per-sample weights.

#include <cmath>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/autograd/ops/softmax.hpp"
#include "onestone/config.hpp"
#include "onestone/losses/reduction.hpp"

namespace onestone {
namespace losses {

/// Options of `cross_entropy`: class weights [C], the label to ignore, the reduction, per-sample
/// weights [N] and label smoothing.
///
/// Example: `CrossEntropyOptions<float>().weight(w).ignore_index(-1)`
template <typename T>
struct CrossEntropyOptions {
  /// Per-class weights [C] (not owned; must outlive the backward pass).
  CrossEntropyOptions& weight(const Tensor<T>& w) {
    weight_ = &w;
    return *this;
  }
  /// Label value skipped (default −100, as in PyTorch): unlabelled pixels or tokens.
  CrossEntropyOptions& ignore_index(Index i) {
    ignore_index_ = i;
    return *this;
  }
  CrossEntropyOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  /// Per-sample weights [N] (not owned): a sample's every position counts w[n] times; weight 0
  /// removes it (missing labels).
  CrossEntropyOptions& sample_weight(const Tensor<T>& w) {
    sample_weight_ = &w;
    return *this;
  }
  /// Label smoothing ε in [0, 1): the target is (1 − ε)·one-hot + ε/C (as PyTorch).
  CrossEntropyOptions& label_smoothing(double eps) {
    label_smoothing_ = eps;
    return *this;
  }
  const Tensor<T>* weight_ = nullptr;
  Index ignore_index_ = -100;
  Reduction reduction_ = Reduction::Mean;
  const Tensor<T>* sample_weight_ = nullptr;
  double label_smoothing_ = 0.0;
};

namespace detail {

/// Saved state of cross_entropy: log-probabilities, per-position weight (0 for skipped
/// positions) and label, the layout N × C × inner, the scale and the smoothing.
template <typename T>
struct CrossEntropyOp {
  static Var<T> apply(const Var<T>& logits, const Tensor<Index>& labels,
                      const CrossEntropyOptions<T>& opt);
  const T* logp;  ///< [N, C, inner]
  const T* pw;    ///< [N·inner] weight of each position (class × sample weight, 0 if skipped)
  const Index* label;  ///< [N·inner]
  Index N, C, inner;
  T scale;  ///< 1/denominator for the mean, 1 for the sum
  T smoothing;
  const char* name() const { return "cross_entropy"; }
  void backward(const autograd::BackwardContext<T>& c) const;
};

template <typename T>
void CrossEntropyOp<T>::backward(const autograd::BackwardContext<T>& c) const {
  autograd::GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  const T g = c.grad_output()[0] * scale;
  const T uni = smoothing / static_cast<T>(C), keep = T(1) - smoothing;
  // d/dz of −Σ_c q_c log p_c = p − q, with q = (1−ε)·one-hot + ε/C; scaled by the weight.
  if (inner == 1) {
    ConstMatrixMap<T> LP(logp, N, C);
    MatrixMap<T> D(gs.ptr, N, C);
    for (Index n = 0; n < N; ++n) {
      const T wg = pw[n] * g;
      accumulate(gs, D.row(n).array(), (LP.row(n).array().exp() - uni) * wg);
      if (pw[n] != T(0)) D(n, label[n]) -= keep * wg;
    }
    return;
  }
  T* wg = c.template scratch<T>(static_cast<std::size_t>(inner));
  for (Index n = 0; n < N; ++n) {
    using Arr = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    Eigen::Map<const Arr> LP(logp + n * C * inner, C, inner);
    Eigen::Map<Arr> D(gs.ptr + n * C * inner, C, inner);
    Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>> w(wg, inner);
    w = Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>(pw + n * inner, inner) * g;
    accumulate(gs, D, (LP.exp() - uni).rowwise() * w);
    for (Index i = 0; i < inner; ++i) {
      const Index k = n * inner + i;
      if (pw[k] != T(0)) D(label[k], i) -= keep * wg[i];
    }
  }
}

template <typename T>
Var<T> CrossEntropyOp<T>::apply(const Var<T>& logits, const Tensor<Index>& labels,
                                const CrossEntropyOptions<T>& opt) {
  using namespace autograd::detail;
  using namespace autograd::detail;
  autograd::Tape<T>& t = logits.tape();
  const Shape& s = logits.shape();
  if (s.rank() < 2)
    throw std::invalid_argument("cross_entropy: logits must be [N, C] or [N, C, d...], got " +
                                s.str());
  const Index N = s[0], C = s[1], inner = s.span(2, s.rank());
  bool ok = labels.numel() == N * inner &&
            (labels.rank() == s.rank() - 1 || (labels.rank() <= 1 && inner == 1) ||
             (s.rank() == 2 && labels.rank() == 2 && labels.size(1) == 1));
  for (int d = 0; ok && labels.rank() == s.rank() - 1 && d < labels.rank(); ++d)
    ok = labels.shape().at(d) == (d == 0 ? N : s.at(d + 1));
  if (!ok)
    throw std::invalid_argument(shapes_msg("cross_entropy", s, labels.shape(),
                                           "labels must be [N] for logits [N, C], or [N, d...] for "
                                           "logits [N, C, d...]"));
  if (opt.weight_ && opt.weight_->numel() != C)
    throw std::invalid_argument("cross_entropy: class weights of shape " +
                                opt.weight_->shape().str() + " for " + std::to_string(C) +
                                " classes");
  if (!(opt.label_smoothing_ >= 0.0 && opt.label_smoothing_ < 1.0))
    throw std::invalid_argument("cross_entropy: label smoothing " +
                                std::to_string(opt.label_smoothing_) + " not in [0, 1)");
  if (opt.weight_ && opt.label_smoothing_ > 0.0)
    throw std::invalid_argument(
        "cross_entropy: class weights together with label smoothing are not supported");
  check_sample_weight("cross_entropy", opt.sample_weight_, N);
  const Index P = N * inner;
  T* logp = t.arena().template allocate<T>(static_cast<std::size_t>(N * C * inner));
  T* pw = t.arena().template allocate<T>(static_cast<std::size_t>(P ? P : 1));
  Index* lab = t.arena().template allocate<Index>(static_cast<std::size_t>(P ? P : 1));
  if (inner == 1) {
    MatrixMap<T> LP(logp, N, C);
    log_softmax_rows<T>(ConstMatrixMap<T>(logits.data(), N, C), LP);
  } else {
    log_softmax_strided(logits.data(), N, C, inner, logp,
                        t.arena().template allocate<T>(static_cast<std::size_t>(2 * inner)));
  }
  const T* cw = opt.weight_ ? opt.weight_->data() : nullptr;
  const T* sw = opt.sample_weight_ ? opt.sample_weight_->data() : nullptr;
  const T eps = static_cast<T>(opt.label_smoothing_);
  T total = 0, denom = 0;
  for (Index n = 0; n < N; ++n)
    for (Index i = 0; i < inner; ++i) {
      const Index k = n * inner + i;
      const Index y = labels[k];
      lab[k] = y;
      pw[k] = T(0);
      if (y == opt.ignore_index_) continue;
      if (y < 0 || y >= C)
        throw std::invalid_argument("cross_entropy: label " + std::to_string(y) + " at position " +
                                    std::to_string(k) + " is outside [0, " + std::to_string(C) +
                                    ")");
      const T w = (cw ? cw[y] : T(1)) * (sw ? sw[n] : T(1));
      pw[k] = w;
      if (w == T(0)) continue;
      const T* lp = logp + n * C * inner + i;
      T l = -(T(1) - eps) * lp[y * inner];
      if (eps != T(0)) {
        T sum = 0;
        for (Index cc = 0; cc < C; ++cc) sum += lp[cc * inner];
        l -= eps / static_cast<T>(C) * sum;
      }
      total += w * l;
      denom += w;
    }
  T scale = T(1);
  if (opt.reduction_ == Reduction::Mean) scale = denom > T(0) ? T(1) / denom : T(0);
  const int out = make_output(t, Shape{}, logits.requires_grad());
  t.value(out)[0] = total * scale;
  return emit(t, out, CrossEntropyOp<T>{logp, pw, lab, N, C, inner, scale, eps}, {logits.id()});
}
ONESTONE_EXTERN_CLASS(LOSSES, CrossEntropyOp)

}  // namespace detail

/// Cross entropy between logits and integer labels, the class axis being axis 1: logits [N, C]
/// with labels [N], or logits [N, C, d...] with labels [N, d...] (segmentation, token tagging).
/// Each counted position contributes −w·log softmax(z)[y] with w = class weight × sample weight;
/// the mean divides by the sum of those weights (PyTorch's convention). Positions labelled
/// `ignore_index` are skipped; when nothing is counted the loss is 0.
///
/// Example:
/// @code
/// auto loss = onestone::losses::cross_entropy(logits, labels);
/// auto seg = onestone::losses::cross_entropy(pixel_logits, masks,
///                                           CrossEntropyOptions<float>().ignore_index(255));
/// @endcode
template <typename T>
inline Var<T> cross_entropy(const Var<T>& logits, const Tensor<Index>& labels,
                            const CrossEntropyOptions<T>& opt = CrossEntropyOptions<T>()) {
  return detail::CrossEntropyOp<T>::apply(logits, labels, opt);
}

}  // namespace losses
}  // namespace onestone
