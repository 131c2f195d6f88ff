#pragma once
/// @file cross_entropy.hpp
/// Cross entropy on integer labels, fused with log-softmax, with class weights and an ignore
/// index.

#include <cmath>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/autograd/ops/softmax.hpp"

namespace onestone {
namespace losses {

/// How per-element losses are combined.
enum class Reduction { Mean, Sum };

/// Options of `cross_entropy`: class weights [C], the label to ignore, the reduction.
///
/// Example: `CrossEntropyOptions<float>().weight(w).ignore_index(-1)`
template <typename T>
struct CrossEntropyOptions {
  CrossEntropyOptions& weight(const Tensor<T>& w) {
    weight_ = &w;
    return *this;
  }
  CrossEntropyOptions& ignore_index(Index i) {
    ignore_index_ = i;
    return *this;
  }
  CrossEntropyOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  const Tensor<T>* weight_ = nullptr;  ///< not owned; must outlive the backward pass
  Index ignore_index_ = -100;
  Reduction reduction_ = Reduction::Mean;
};

namespace detail {
using autograd::GradSink;
using autograd::Node;
using autograd::Tape;

template <typename T>
inline void cross_entropy_backward(Tape<T>& t, const Node<T>& n) {
  const GradSink<T> gs = t.sink(n.in[0]);
  if (!gs) return;
  const Shape& s = t.shape(n.in[0]);
  const Index R = s.rows(), C = s.cols();
  const T* logp = static_cast<const T*>(n.aux);
  const Index* labels = static_cast<const Index*>(n.aux2);
  const T* w = n.i[0] >= 0 ? t.value(static_cast<int>(n.i[0])) : nullptr;
  const T g = t.grad_in(n.out)[0] * n.s[0];  // upstream · 1/denominator
  const Index ignore = n.i[1];
  MatrixMap<T> D(gs.ptr, R, C);
  ConstMatrixMap<T> LP(logp, R, C);
  for (Index r = 0; r < R; ++r) {
    const Index y = labels[r];
    if (y == ignore) {
      if (gs.fresh) D.row(r).setZero();
      continue;
    }
    const T scale = g * (w ? w[y] : T(1));
    if (gs.fresh)
      D.row(r).array() = LP.row(r).array().exp() * scale;
    else
      D.row(r).array() += LP.row(r).array().exp() * scale;
    D(r, y) -= scale;
  }
}
}  // namespace detail

/// Cross entropy between logits [N, C] and integer labels [N] in [0, C): the mean (or sum) of
/// −w[y]·log softmax(logits)[y]; with weights, the mean divides by the sum of the weights of the
/// counted samples (PyTorch's convention). Samples labelled `ignore_index` are skipped; when all
/// are skipped the loss is 0.
///
/// Example:
/// @code
/// auto loss = onestone::losses::cross_entropy(logits, labels);
/// @endcode
template <typename T>
inline Var<T> cross_entropy(const Var<T>& logits, const Tensor<Index>& labels,
                            const CrossEntropyOptions<T>& opt = CrossEntropyOptions<T>()) {
  using namespace autograd::detail;
  autograd::Tape<T>& t = logits.tape();
  const Shape& s = logits.shape();
  if (s.rank() != 2)
    throw std::invalid_argument("cross_entropy: logits must be [N, C], got " + s.str());
  const Index R = s[0], C = s[1];
  if (labels.numel() != R)
    throw std::invalid_argument("cross_entropy: " + std::to_string(labels.numel()) +
                                " labels for logits of shape " + s.str());
  if (opt.weight_ && opt.weight_->numel() != C)
    throw std::invalid_argument("cross_entropy: class weights of shape " +
                                opt.weight_->shape().str() + " for " + std::to_string(C) +
                                " classes");
  T* logp = t.arena().template allocate<T>(static_cast<std::size_t>(R * C));
  Index* lab = t.arena().template allocate<Index>(static_cast<std::size_t>(R ? R : 1));
  MatrixMap<T> LP(logp, R, C);
  log_softmax_rows<T>(cmat(t, logits.id()), LP);
  const T* w = opt.weight_ ? opt.weight_->data() : nullptr;
  T total = 0, denom = 0;
  for (Index r = 0; r < R; ++r) {
    const Index y = labels[r];
    lab[r] = y;
    if (y == opt.ignore_index_) continue;
    if (y < 0 || y >= C)
      throw std::invalid_argument("cross_entropy: label " + std::to_string(y) + " at position " +
                                  std::to_string(r) + " is outside [0, " + std::to_string(C) + ")");
    const T wy = w ? w[y] : T(1);
    total -= wy * LP(r, y);
    denom += wy;
  }
  T scale = T(1);
  if (opt.reduction_ == Reduction::Mean) scale = denom > T(0) ? T(1) / denom : T(0);
  const int out = make_output(t, Shape{}, logits.requires_grad());
  t.value(out)[0] = total * scale;
  int wid = -1;
  if (w) wid = t.external_leaf(const_cast<T*>(w), nullptr, Shape{C}, false);
  record(t, &detail::cross_entropy_backward<T>, "cross_entropy", out, logits.id(), -1, -1, logp,
         scale, T(0), static_cast<Index>(wid), opt.ignore_index_, lab);
  t.check_forward(out, "cross_entropy");
  return Var<T>(&t, out);
}

}  // namespace losses
}  // namespace onestone
