#pragma once
/// @file attention.hpp
/// `MultiheadAttention<T>`: multi-head scaled dot-product self-attention with a key padding
/// mask and an optional causal mask (Vaswani et al. 2017), parameters named as PyTorch's.

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "onestone/autograd/ops/dropout.hpp"
#include "onestone/autograd/ops/linalg.hpp"
#include "onestone/autograd/ops/select.hpp"
#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/autograd/ops/softmax.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/init.hpp"
#include "onestone/nn/linear.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone {
namespace nn {

/// Options of `MultiheadAttention`: width (embed_dim, divisible by num_heads), heads, dropout
/// on the attention weights, biases, and the seed of the initialisation and dropout draws.
///
/// Example: `MultiheadAttentionOptions(128, 4).dropout(0.1).seed(1)`
struct MultiheadAttentionOptions {
  MultiheadAttentionOptions(Index embed_dim, Index num_heads)
      : embed_dim_(embed_dim), heads_(num_heads) {}
  MultiheadAttentionOptions& dropout(double p) {
    dropout_ = p;
    return *this;
  }
  MultiheadAttentionOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  MultiheadAttentionOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  Index embed_dim() const { return embed_dim_; }
  Index num_heads() const { return heads_; }

  Index embed_dim_, heads_;
  double dropout_ = 0.0;
  bool bias_ = true;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// Self-attention over x [B, L, E] with H heads of width E/H:
/// Q, K, V = x·W_inᵀ + b_in split in three; per head A = softmax(Q·Kᵀ/√(E/H) + mask) (dropout in
/// training), O = A·V; the heads are concatenated and projected by `out_proj`. Parameters, as
/// PyTorch's `nn::MultiheadAttention` names them: "in_proj_weight" [3E, E] (Xavier uniform),
/// "in_proj_bias" [3E] (zeros), "out_proj.weight" [E, E], "out_proj.bias" [E] (zeros).
///
/// Masks: `key_padding_mask` [B, L] (nonzero = a padding position no query may attend to) and
/// `causal` (position i attends to positions ≤ i). Masked scores are set to −10⁹ rather than
/// −∞, so a query whose keys are all masked attends uniformly instead of producing NaN.
///
/// Example:
/// @code
/// onestone::nn::MultiheadAttention<float> att(onestone::nn::MultiheadAttentionOptions(128, 4));
/// auto y = att.forward(x, &padding, /*causal=*/false);   // x [32, 64, 128] -> [32, 64, 128]
/// @endcode
template <typename T>
class MultiheadAttention : public Module<T> {
 public:
  explicit MultiheadAttention(const MultiheadAttentionOptions& opt);

  /// Self-attention without masks.
  Var<T> forward(const Var<T>& x) override { return forward(x, nullptr, false); }

  /// Self-attention of x [B, L, E]; `key_padding_mask` [B, L] or null; `causal` masks future
  /// positions. `weights`, when given, receives the attention weights [B, H, L, L] (after the
  /// softmax, before dropout).
  Var<T> forward(const Var<T>& x, const Mask* key_padding_mask, bool causal,
                 Var<T>* weights = nullptr);

  std::string name() const override {
    return "MultiheadAttention(" + std::to_string(options_.embed_dim_) +
           ", heads=" + std::to_string(options_.heads_) + ")";
  }
  const MultiheadAttentionOptions& options() const { return options_; }
  Parameter<T>& in_proj_weight() { return *in_w_; }
  Parameter<T>* in_proj_bias() { return in_b_; }
  Linear<T>& out_proj() { return *out_proj_; }
  Generator& generator() { return gen_; }

 private:
  // mask_ [B or 1, 1, L or 1, L]: padding keys and/or future positions.
  void build_mask(const Mask* pad, bool causal, Index B, Index L);

  MultiheadAttentionOptions options_;
  Parameter<T>* in_w_ = nullptr;
  Parameter<T>* in_b_ = nullptr;
  std::shared_ptr<Linear<T>> out_proj_;
  Generator gen_;
  Mask mask_;  // reused across steps
};

template <typename T>
MultiheadAttention<T>::MultiheadAttention(const MultiheadAttentionOptions& opt)
    : options_(opt), gen_(0) {
  const Index E = opt.embed_dim_, H = opt.heads_;
  if (E <= 0 || H <= 0 || E % H != 0)
    throw std::invalid_argument("MultiheadAttention: embed_dim " + std::to_string(E) +
                                " must be a positive multiple of num_heads " + std::to_string(H));
  if (!(opt.dropout_ >= 0.0 && opt.dropout_ < 1.0))
    throw std::invalid_argument("MultiheadAttention: dropout " + std::to_string(opt.dropout_) +
                                " not in [0, 1)");
  Generator local(opt.seed_);
  Generator& g = opt.has_seed_ ? local : default_generator();
  Tensor<T> w({3 * E, E});
  init::xavier_uniform_(w, g);
  in_w_ = &this->register_parameter("in_proj_weight", std::move(w));
  if (opt.bias_) in_b_ = &this->register_parameter("in_proj_bias", Tensor<T>::zeros(Shape{3 * E}));
  out_proj_ = this->register_module(
      "out_proj",
      std::make_shared<Linear<T>>(LinearOptions(E, E).bias(opt.bias_).seed(g.next_u64())));
  if (opt.bias_) init::zeros_(out_proj_->bias()->value());
  gen_ = Generator(g.next_u64());
}

template <typename T>
Var<T> MultiheadAttention<T>::forward(const Var<T>& x, const Mask* key_padding_mask, bool causal,
                                      Var<T>* weights) {
  const Shape& s = x.shape();
  const Index E = options_.embed_dim_, H = options_.heads_, Dh = E / H;
  if (s.rank() != 3 || s[2] != E)
    throw std::invalid_argument("MultiheadAttention: expected input [batch, length, " +
                                std::to_string(E) + "], got " + s.str());
  const Index B = s[0], L = s[1];
  if (key_padding_mask && (key_padding_mask->shape().rank() != 2 ||
                           key_padding_mask->shape()[0] != B || key_padding_mask->shape()[1] != L))
    throw std::invalid_argument("MultiheadAttention: key_padding_mask " +
                                key_padding_mask->shape().str() + " does not match input " +
                                s.str() + " (expected [" + std::to_string(B) + ", " +
                                std::to_string(L) + "])");
  autograd::Tape<T>& t = x.tape();
  // Q, K, V from the three row blocks of in_proj: slicing the [3E, E] weight (and folding the
  // 1/√Dh scale into Q's block) costs far less than slicing and scaling the [B, L, 3E]
  // activations.
  const Var<T> w_in = in_w_->var(t);
  const Var<T> b_in = in_b_ ? in_b_->var(t) : Var<T>();
  auto heads = [&](Index part, T mult) {  // -> [B, H, L, Dh]
    Var<T> w = narrow(w_in, 0, part * E, E);
    Var<T> b = b_in.defined() ? narrow(b_in, 0, part * E, E) : Var<T>();
    if (mult != T(1)) {
      w = w * mult;
      if (b.defined()) b = b * mult;
    }
    Var<T> y = b.defined() ? linear(x, w, b) : linear(x, w);
    return permute(reshape(y, {B, L, H, Dh}), {0, 2, 1, 3});
  };
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(Dh)));
  Var<T> q = heads(0, scale), k = heads(1, T(1)), v = heads(2, T(1));
  Var<T> scores = matmul(q, k, Transpose::B);  // [B, H, L, L]
  if (key_padding_mask || causal) {
    build_mask(key_padding_mask, causal, B, L);
    scores = masked_fill(scores, mask_, static_cast<T>(-1e9));
  }
  Var<T> a = softmax(scores, -1);
  if (weights) *weights = a;
  if (options_.dropout_ > 0.0)
    a = dropout(a, static_cast<T>(options_.dropout_), this->is_training(), gen_);
  Var<T> o = reshape(permute(matmul(a, v), {0, 2, 1, 3}), {B, L, E});
  return out_proj_->forward(o);
}

template <typename T>
void MultiheadAttention<T>::build_mask(const Mask* pad, bool causal, Index B, Index L) {
  const Index b = pad ? B : 1, r = causal ? L : 1;
  mask_.resize(Shape{b, 1, r, L});
  std::uint8_t* m = mask_.data();
  for (Index n = 0; n < b; ++n)
    for (Index i = 0; i < r; ++i)
      for (Index j = 0; j < L; ++j)
        m[(n * r + i) * L + j] =
            static_cast<std::uint8_t>((pad && pad->data()[n * L + j]) || (causal && j > i));
}
ONESTONE_EXTERN_CLASS(NN, MultiheadAttention)

}  // namespace nn
}  // namespace onestone
