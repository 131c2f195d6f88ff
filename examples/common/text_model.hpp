#pragma once
// The Transformer multi-task model of the text_mtl example (a shared TextEncoder; per task a
// masked-mean-pooled linear classifier or a per-token classifier), shared by the example and the
// allocation test.
#include <cstdint>
#include <memory>
#include <onestone/onestone.hpp>
#include <string>
#include <vector>

namespace examples {

/// True when the tag names look like BIO/IOB2 tags ("B-PER", "I-LOC", ...).
inline bool is_bio(const std::vector<std::string>& tags) {
  for (const auto& c : tags)
    if (c.size() > 2 && c[1] == '-' && (c[0] == 'B' || c[0] == 'I')) return true;
  return false;
}

/// The shared encoder: embedding (padding id 0), learned positions, pre-norm GELU layers with a
/// feed-forward of 2·d_model, dropout 0.1.
template <typename T>
std::shared_ptr<onestone::nn::TextEncoder<T>> make_text_encoder(
    onestone::Index vocab, onestone::Index max_length, onestone::Index d_model,
    onestone::Index heads, onestone::Index layers, std::uint64_t seed) {
  using namespace onestone;
  return std::make_shared<nn::TextEncoder<T>>(nn::TextEncoderOptions(vocab, d_model, heads, layers)
                                                  .dim_feedforward(2 * d_model)
                                                  .dropout(0.1)
                                                  .max_length(max_length)
                                                  .seed(seed));
}

/// A task over the encoder's token vectors: sentence-level (masked mean over the encoder's
/// padding mask, then a linear classifier; accuracy and macro-F1) or token-level (a
/// TokenClassifier; span F1 as the primary metric when the tags are BIO, plus token accuracy).
template <typename T>
onestone::TaskOptions<T> text_task(const std::string& name, bool token_level,
                                   const std::vector<std::string>& classes, onestone::Index d_model,
                                   const onestone::nn::TextEncoder<T>& encoder) {
  using namespace onestone;
  const Index C = static_cast<Index>(classes.size());
  TaskOptions<T> o(name);
  o.loss(LossKind::CrossEntropy);
  if (token_level) {
    o.head(std::make_shared<nn::TokenClassifier<T>>(d_model, C));
    if (is_bio(classes))
      o.metric(std::make_shared<metrics::SpanF1<T>>(classes))
          .metric(std::make_shared<metrics::ClassificationMetrics<T>>())
          .primary_metric("span_f1");
  } else {
    o.head(
        std::make_shared<nn::Sequential<T>>(std::initializer_list<std::shared_ptr<nn::Module<T>>>{
            std::make_shared<nn::SequencePool<T>>(nn::SequencePoolMode::Mean,
                                                  encoder.padding_mask()),
            std::make_shared<nn::Linear<T>>(nn::LinearOptions(d_model, C))}));
  }
  return o;
}

}  // namespace examples
