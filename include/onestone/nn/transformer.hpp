#pragma once
/// @file transformer.hpp
/// `TransformerEncoderLayer<T>` (self-attention + feed-forward, pre- or post-norm) and
/// `TransformerEncoder<T>` (a stack of them), with PyTorch's parameter names.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/nn/activation.hpp"
#include "onestone/nn/attention.hpp"
#include "onestone/nn/dropout.hpp"
#include "onestone/nn/layer_norm.hpp"
#include "onestone/nn/linear.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone {
namespace nn {

/// Options of `TransformerEncoderLayer`, defaults as PyTorch's: feed-forward width 2048,
/// dropout 0.1, ReLU, post-norm, layer-norm eps 1e-5.
///
/// Example: `TransformerEncoderLayerOptions(128,
/// 4).dim_feedforward(512).activation(Activation::GELU).norm_first(true)`
struct TransformerEncoderLayerOptions {
  TransformerEncoderLayerOptions(Index d_model, Index nhead) : d_model_(d_model), nhead_(nhead) {}
  TransformerEncoderLayerOptions& dim_feedforward(Index f) {
    ff_ = f;
    return *this;
  }
  /// Dropout after attention, inside and after the feed-forward block (also on attention
  /// weights, as PyTorch).
  TransformerEncoderLayerOptions& dropout(double p) {
    dropout_ = p;
    return *this;
  }
  /// Feed-forward activation: ReLU (default) or GELU (any `Activation`).
  TransformerEncoderLayerOptions& activation(Activation a) {
    activation_ = a;
    return *this;
  }
  /// Pre-norm (x + f(norm(x))) when true; post-norm (norm(x + f(x))) when false (default).
  TransformerEncoderLayerOptions& norm_first(bool on) {
    norm_first_ = on;
    return *this;
  }
  TransformerEncoderLayerOptions& layer_norm_eps(double e) {
    eps_ = e;
    return *this;
  }
  TransformerEncoderLayerOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  Index d_model() const { return d_model_; }
  Index nhead() const { return nhead_; }

  Index d_model_, nhead_;
  Index ff_ = 2048;
  double dropout_ = 0.1;
  Activation activation_ = Activation::ReLU;
  bool norm_first_ = false;
  double eps_ = 1e-5;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// One encoder layer over x [B, L, d_model]:
/// post-norm  x = norm1(x + drop1(attn(x)));  x = norm2(x + drop2(ff(x)))
/// pre-norm   x = x + drop1(attn(norm1(x)));  x = x + drop2(ff(norm2(x)))
/// with ff(x) = linear2(dropout(act(linear1(x)))). Children: "self_attn", "linear1",
/// "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2" (PyTorch's names, so a
/// PyTorch state dict loads by name).
///
/// Example:
/// @code
/// onestone::nn::TransformerEncoderLayer<float> layer(
///     onestone::nn::TransformerEncoderLayerOptions(128, 4).dim_feedforward(512));
/// auto y = layer.forward(x, &padding);   // [B, L, 128]
/// @endcode
template <typename T>
class TransformerEncoderLayer : public Module<T> {
 public:
  explicit TransformerEncoderLayer(const TransformerEncoderLayerOptions& o);

  Var<T> forward(const Var<T>& x) override { return forward(x, nullptr, false); }

  /// x [B, L, d_model]; `key_padding_mask` [B, L] (nonzero = padding) or null; `causal`.
  Var<T> forward(const Var<T>& x, const Mask* key_padding_mask, bool causal = false);

  std::string name() const override {
    return "TransformerEncoderLayer(" + std::to_string(options_.d_model_) +
           ", heads=" + std::to_string(options_.nhead_) + ", ff=" + std::to_string(options_.ff_) +
           (options_.norm_first_ ? ", pre-norm)" : ", post-norm)");
  }
  const TransformerEncoderLayerOptions& options() const { return options_; }
  MultiheadAttention<T>& self_attn() { return *self_attn_; }

 private:
  Var<T> feed_forward(const Var<T>& x) {
    return linear2_->forward(
        dropout_->forward(activate(linear1_->forward(x), options_.activation_)));
  }

  TransformerEncoderLayerOptions options_;
  std::shared_ptr<MultiheadAttention<T>> self_attn_;
  std::shared_ptr<Linear<T>> linear1_, linear2_;
  std::shared_ptr<Dropout<T>> dropout_, dropout1_, dropout2_;
  std::shared_ptr<LayerNorm<T>> norm1_, norm2_;
};

template <typename T>
TransformerEncoderLayer<T>::TransformerEncoderLayer(const TransformerEncoderLayerOptions& o)
    : options_(o) {
  if (o.ff_ <= 0)
    throw std::invalid_argument("TransformerEncoderLayer: dim_feedforward must be positive");
  Generator local(o.seed_);
  Generator& g = o.has_seed_ ? local : default_generator();
  const Index D = o.d_model_;
  self_attn_ = this->register_module(
      "self_attn",
      std::make_shared<MultiheadAttention<T>>(
          MultiheadAttentionOptions(D, o.nhead_).dropout(o.dropout_).seed(g.next_u64())));
  linear1_ = this->register_module(
      "linear1", std::make_shared<Linear<T>>(LinearOptions(D, o.ff_).seed(g.next_u64())));
  dropout_ =
      this->register_module("dropout", std::make_shared<Dropout<T>>(o.dropout_, g.next_u64()));
  linear2_ = this->register_module(
      "linear2", std::make_shared<Linear<T>>(LinearOptions(o.ff_, D).seed(g.next_u64())));
  norm1_ = this->register_module("norm1", std::make_shared<LayerNorm<T>>(D, o.eps_));
  norm2_ = this->register_module("norm2", std::make_shared<LayerNorm<T>>(D, o.eps_));
  dropout1_ =
      this->register_module("dropout1", std::make_shared<Dropout<T>>(o.dropout_, g.next_u64()));
  dropout2_ =
      this->register_module("dropout2", std::make_shared<Dropout<T>>(o.dropout_, g.next_u64()));
}

template <typename T>
Var<T> TransformerEncoderLayer<T>::forward(const Var<T>& x, const Mask* key_padding_mask,
                                           bool causal) {
  if (options_.norm_first_) {
    Var<T> h =
        x + dropout1_->forward(self_attn_->forward(norm1_->forward(x), key_padding_mask, causal));
    return h + dropout2_->forward(feed_forward(norm2_->forward(h)));
  }
  Var<T> h =
      norm1_->forward(x + dropout1_->forward(self_attn_->forward(x, key_padding_mask, causal)));
  return norm2_->forward(h + dropout2_->forward(feed_forward(h)));
}
ONESTONE_EXTERN_CLASS(NN, TransformerEncoderLayer)

/// A stack of `num_layers` encoder layers ("layers.0", "layers.1", ...; each initialised from
/// its own seed) with an optional final LayerNorm ("norm"; usual after pre-norm layers).
///
/// Example:
/// @code
/// onestone::nn::TransformerEncoder<float> enc(
///     onestone::nn::TransformerEncoderLayerOptions(128, 4).norm_first(true), 2,
///     /*final_norm=*/true);
/// auto h = enc.forward(x, &padding);
/// @endcode
template <typename T>
class TransformerEncoder : public Module<T> {
 public:
  TransformerEncoder(const TransformerEncoderLayerOptions& layer, Index num_layers,
                     bool final_norm = false);
  Var<T> forward(const Var<T>& x) override { return forward(x, nullptr, false); }
  /// x [B, L, d_model] through every layer with the same masks, then the final norm if any.
  Var<T> forward(const Var<T>& x, const Mask* key_padding_mask, bool causal = false) {
    Var<T> h = x;
    for (auto& l : layers_) h = l->forward(h, key_padding_mask, causal);
    return norm_ ? norm_->forward(h) : h;
  }
  std::string name() const override {
    return "TransformerEncoder(" + std::to_string(layers_.size()) + " layers)";
  }
  Index num_layers() const { return static_cast<Index>(layers_.size()); }
  TransformerEncoderLayer<T>& layer(Index i) { return *layers_.at(static_cast<std::size_t>(i)); }

 private:
  std::vector<std::shared_ptr<TransformerEncoderLayer<T>>> layers_;
  std::shared_ptr<LayerNorm<T>> norm_;
};

template <typename T>
TransformerEncoder<T>::TransformerEncoder(const TransformerEncoderLayerOptions& layer,
                                          Index num_layers, bool final_norm) {
  if (num_layers <= 0)
    throw std::invalid_argument("TransformerEncoder: num_layers must be positive");
  Generator local(layer.seed_);
  Generator& g = layer.has_seed_ ? local : default_generator();
  auto list = std::make_shared<Module<T>>();
  for (Index i = 0; i < num_layers; ++i) {
    TransformerEncoderLayerOptions o = layer;
    o.seed(g.next_u64());
    layers_.push_back(
        list->register_module(std::to_string(i), std::make_shared<TransformerEncoderLayer<T>>(o)));
  }
  this->register_module("layers", list);
  if (final_norm)
    norm_ =
        this->register_module("norm", std::make_shared<LayerNorm<T>>(layer.d_model_, layer.eps_));
}
ONESTONE_EXTERN_CLASS(NN, TransformerEncoder)

}  // namespace nn
}  // namespace onestone
