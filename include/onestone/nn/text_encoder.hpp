#pragma once
/// @file text_encoder.hpp
/// `TextEncoder<T>`: token ids → contextual token vectors (embedding, positions, a Transformer
/// encoder), sharing its padding mask with sequence-level heads.

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "onestone/config.hpp"
#include "onestone/nn/dropout.hpp"
#include "onestone/nn/embedding.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/nn/positional_encoding.hpp"
#include "onestone/nn/transformer.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone {
namespace nn {

/// Which position information `TextEncoder` adds to the token embeddings.
enum class PositionalEncodingKind { Learned, Sinusoidal, None };

/// Options of `TextEncoder`. Defaults: 4·d_model feed-forward, dropout 0.1, GELU, pre-norm
/// layers with a final LayerNorm, learned positions up to 512 tokens, padding id 0.
///
/// Example: `TextEncoderOptions(vocab.size(), 128, 4, 2).max_length(64).dropout(0.1).seed(1)`
struct TextEncoderOptions {
  TextEncoderOptions(Index vocab_size, Index d_model, Index nhead, Index num_layers)
      : vocab_(vocab_size),
        d_model_(d_model),
        nhead_(nhead),
        layers_(num_layers),
        ff_(4 * d_model) {}
  TextEncoderOptions& dim_feedforward(Index f) {
    ff_ = f;
    return *this;
  }
  TextEncoderOptions& dropout(double p) {
    dropout_ = p;
    return *this;
  }
  TextEncoderOptions& activation(Activation a) {
    activation_ = a;
    return *this;
  }
  /// Pre-norm layers plus a final LayerNorm (default) or post-norm layers without one.
  TextEncoderOptions& norm_first(bool on) {
    norm_first_ = on;
    return *this;
  }
  TextEncoderOptions& max_length(Index l) {
    max_len_ = l;
    return *this;
  }
  TextEncoderOptions& positional(PositionalEncodingKind k) {
    positional_ = k;
    return *this;
  }
  /// The padding token id (−1: no padding, every position counts).
  TextEncoderOptions& padding_idx(Index p) {
    padding_idx_ = p;
    return *this;
  }
  /// Each position attends only to itself and earlier positions.
  TextEncoderOptions& causal(bool on) {
    causal_ = on;
    return *this;
  }
  TextEncoderOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  Index d_model() const { return d_model_; }

  Index vocab_, d_model_, nhead_, layers_, ff_;
  double dropout_ = 0.1;
  Activation activation_ = Activation::GELU;
  bool norm_first_ = true;
  Index max_len_ = 512;
  PositionalEncodingKind positional_ = PositionalEncodingKind::Learned;
  Index padding_idx_ = 0;
  bool causal_ = false;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// Token ids [B, L] (integers stored as T — a dataset's inputs) → token vectors [B, L, d_model]:
/// embedding ("embedding"), positions ("position", unless None), dropout, then a
/// `TransformerEncoder` ("encoder") whose attention ignores padding tokens. Each forward
/// refreshes `padding_mask()` ([B, L], nonzero = padding), the mask `SequencePool` heads read;
/// so one encoder must not run forwards from several threads at once.
///
/// Example:
/// @code
/// auto enc = std::make_shared<onestone::nn::TextEncoder<float>>(
///     onestone::nn::TextEncoderOptions(vocab.size(), 128, 4, 2).max_length(64));
/// auto pool = std::make_shared<onestone::nn::SequencePool<float>>(
///     onestone::nn::SequencePoolMode::Mean, enc->padding_mask());
/// @endcode
template <typename T>
class TextEncoder : public Module<T> {
 public:
  explicit TextEncoder(const TextEncoderOptions& o);

  Var<T> forward(const Var<T>& ids) override;

  std::string name() const override {
    return "TextEncoder(vocab=" + std::to_string(options_.vocab_) +
           ", d=" + std::to_string(options_.d_model_) +
           ", layers=" + std::to_string(options_.layers_) + ")";
  }
  /// The padding mask of the last forward ([B, L], nonzero = padding; empty without padding_idx).
  std::shared_ptr<const Mask> padding_mask() const { return padding_; }
  const TextEncoderOptions& options() const { return options_; }
  Embedding<T>& embedding() { return *embedding_; }
  TransformerEncoder<T>& encoder() { return *encoder_; }

 private:
  TextEncoderOptions options_;
  std::shared_ptr<Mask> padding_;
  std::shared_ptr<Embedding<T>> embedding_;
  std::shared_ptr<Module<T>> position_;
  std::shared_ptr<Dropout<T>> dropout_;
  std::shared_ptr<TransformerEncoder<T>> encoder_;
};

template <typename T>
TextEncoder<T>::TextEncoder(const TextEncoderOptions& o)
    : options_(o), padding_(std::make_shared<Mask>()) {
  Generator local(o.seed_);
  Generator& g = o.has_seed_ ? local : default_generator();
  embedding_ = this->register_module(
      "embedding",
      std::make_shared<Embedding<T>>(
          EmbeddingOptions(o.vocab_, o.d_model_).padding_idx(o.padding_idx_).seed(g.next_u64())));
  if (o.positional_ == PositionalEncodingKind::Learned)
    position_ = this->register_module("position", std::make_shared<LearnedPositionalEncoding<T>>(
                                                      o.max_len_, o.d_model_, g.next_u64()));
  else if (o.positional_ == PositionalEncodingKind::Sinusoidal)
    position_ = this->register_module(
        "position", std::make_shared<SinusoidalPositionalEncoding<T>>(o.d_model_, o.max_len_));
  dropout_ =
      this->register_module("dropout", std::make_shared<Dropout<T>>(o.dropout_, g.next_u64()));
  encoder_ = this->register_module(
      "encoder",
      std::make_shared<TransformerEncoder<T>>(TransformerEncoderLayerOptions(o.d_model_, o.nhead_)
                                                  .dim_feedforward(o.ff_)
                                                  .dropout(o.dropout_)
                                                  .activation(o.activation_)
                                                  .norm_first(o.norm_first_)
                                                  .seed(g.next_u64()),
                                              o.layers_, /*final_norm=*/o.norm_first_));
}

template <typename T>
Var<T> TextEncoder<T>::forward(const Var<T>& ids) {
  const Shape& s = ids.shape();
  if (s.rank() != 2)
    throw std::invalid_argument("TextEncoder: expected token ids [batch, length], got " + s.str());
  if (s[1] > options_.max_len_)
    throw std::invalid_argument("TextEncoder: sequence length " + std::to_string(s[1]) +
                                " exceeds max_length " + std::to_string(options_.max_len_));
  const Mask* pad = nullptr;
  if (options_.padding_idx_ >= 0) {
    padding_->resize(s);
    const T p = static_cast<T>(options_.padding_idx_);
    for (Index i = 0; i < s.numel(); ++i) padding_->data()[i] = ids.data()[i] == p ? 1 : 0;
    pad = padding_.get();
  }
  Var<T> h = embedding_->forward(ids);
  if (position_) h = position_->forward(h);
  h = dropout_->forward(h);
  return encoder_->forward(h, pad, options_.causal_);
}
ONESTONE_EXTERN_CLASS(NN, TextEncoder)

}  // namespace nn
}  // namespace onestone
