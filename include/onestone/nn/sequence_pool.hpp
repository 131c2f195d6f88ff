#pragma once
/// @file sequence_pool.hpp
/// Pooling over time that skips padding: `masked_mean`, `masked_max` and the `SequencePool<T>`
/// module (mean, max or the first position) for sequence-level heads.

#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "onestone/autograd/ops/arithmetic.hpp"
#include "onestone/autograd/ops/reduce.hpp"
#include "onestone/autograd/ops/select.hpp"
#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

namespace detail {
inline void check_pool_input(const char* who, const Shape& xs, const Mask* padding) {
  if (xs.rank() != 3)
    throw std::invalid_argument(std::string(who) +
                                ": expected input [batch, length, features], got " + xs.str());
  if (padding && (padding->shape().rank() != 2 || padding->shape()[0] != xs[0] ||
                  padding->shape()[1] != xs[1]))
    throw std::invalid_argument(std::string(who) + ": padding mask " + padding->shape().str() +
                                " does not match input " + xs.str());
}
}  // namespace detail

/// Mean over time of x [B, L, D] counting only the positions where `padding` [B, L] is zero:
/// [B, D]. A sequence that is all padding gives zeros. The weights live in the tape's arena (no
/// heap allocation).
///
/// Example: `auto sentence = masked_mean(tokens, padding);`
template <typename T>
inline Var<T> masked_mean(const Var<T>& x, const Mask& padding) {
  detail::check_pool_input("masked_mean", x.shape(), &padding);
  const Index B = x.shape()[0], L = x.shape()[1];
  autograd::Tape<T>& t = x.tape();
  T* w = t.arena().template allocate<T>(static_cast<std::size_t>(B * L > 0 ? B * L : 1));
  for (Index b = 0; b < B; ++b) {
    Index n = 0;
    for (Index l = 0; l < L; ++l) n += padding.data()[b * L + l] ? 0 : 1;
    const T inv = n > 0 ? T(1) / static_cast<T>(n) : T(0);
    for (Index l = 0; l < L; ++l) w[b * L + l] = padding.data()[b * L + l] ? T(0) : inv;
  }
  return sum(x * Var<T>::from(w, Shape{B, L, 1}, t), 1);
}

/// Maximum over time of x [B, L, D] over the positions where `padding` [B, L] is zero: [B, D]
/// (the gradient goes to the maximal position). Padding positions are pushed down by
/// −max(T)/4 (a bias in the tape's arena, no heap allocation), so a sequence that is all padding
/// gives very negative values rather than NaN.
///
/// Example: `auto sentence = masked_max(tokens, padding);`
template <typename T>
inline Var<T> masked_max(const Var<T>& x, const Mask& padding) {
  detail::check_pool_input("masked_max", x.shape(), &padding);
  const Index B = x.shape()[0], L = x.shape()[1];
  autograd::Tape<T>& t = x.tape();
  T* bias = t.arena().template allocate<T>(static_cast<std::size_t>(B * L > 0 ? B * L : 1));
  const T low = -std::numeric_limits<T>::max() / T(4);
  for (Index i = 0; i < B * L; ++i) bias[i] = padding.data()[i] ? low : T(0);
  return max(x + Var<T>::from(bias, Shape{B, L, 1}, t), 1);
}

/// How `SequencePool` reduces [B, L, D] to [B, D].
enum class SequencePoolMode {
  Mean,  ///< masked mean over time
  Max,   ///< masked max over time
  First  ///< the first position (a [CLS] token)
};

/// Reduces token representations [B, L, D] to one vector per sequence [B, D], skipping the
/// padding positions given by a shared mask — typically a `TextEncoder`'s `padding_mask()`,
/// which that encoder refreshes on every forward. Without a mask every position counts.
///
/// Example:
/// @code
/// auto head = std::make_shared<onestone::nn::Sequential<float>>(
///     std::initializer_list<std::shared_ptr<onestone::nn::Module<float>>>{
///         std::make_shared<onestone::nn::SequencePool<float>>(SequencePoolMode::Mean,
///         encoder->padding_mask()),
///         std::make_shared<onestone::nn::Linear<float>>(onestone::nn::LinearOptions(128, 4))});
/// @endcode
template <typename T>
class SequencePool : public Module<T> {
 public:
  explicit SequencePool(SequencePoolMode mode, std::shared_ptr<const Mask> padding = nullptr)
      : mode_(mode), padding_(std::move(padding)) {}
  Var<T> forward(const Var<T>& x) override;
  std::string name() const override {
    return mode_ == SequencePoolMode::Mean  ? "SequencePool(mean)"
           : mode_ == SequencePoolMode::Max ? "SequencePool(max)"
                                            : "SequencePool(first)";
  }

 private:
  SequencePoolMode mode_;
  std::shared_ptr<const Mask> padding_;
};

template <typename T>
Var<T> SequencePool<T>::forward(const Var<T>& x) {
  const Mask* pad = padding_ && padding_->numel() > 0 ? padding_.get() : nullptr;
  detail::check_pool_input("SequencePool", x.shape(), pad);
  switch (mode_) {
    case SequencePoolMode::First:
      return reshape(narrow(x, 1, 0, 1), {x.shape()[0], x.shape()[2]});
    case SequencePoolMode::Max:
      return pad ? masked_max(x, *pad) : max(x, 1);
    default:
      return pad ? masked_mean(x, *pad) : mean(x, 1);
  }
}
ONESTONE_EXTERN_CLASS(NN, SequencePool)

}  // namespace nn
}  // namespace onestone
