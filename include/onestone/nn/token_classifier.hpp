#pragma once
/// @file token_classifier.hpp
/// `TokenClassifier<T>`: per-token logits laid out for the token-level cross entropy.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/linear.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// A linear map of each token's vector to class logits, returned class-axis first:
/// x [B, L, D] → logits [B, C, L], the layout `losses::cross_entropy` and the per-position
/// metrics take (labels [B, L], padding labelled −100 is ignored). Child "linear".
///
/// Example (a NER head over a text encoder):
/// @code
/// auto ner = std::make_shared<onestone::nn::TokenClassifier<float>>(128, num_tags);
/// auto logits = ner->forward(tokens);   // [B, L, 128] -> [B, num_tags, L]
/// @endcode
template <typename T>
class TokenClassifier : public Module<T> {
 public:
  TokenClassifier(Index in_features, Index num_classes)
      : linear_(this->register_module(
            "linear", std::make_shared<Linear<T>>(LinearOptions(in_features, num_classes)))),
        in_(in_features) {}
  TokenClassifier(Index in_features, Index num_classes, std::uint64_t seed)
      : linear_(this->register_module(
            "linear",
            std::make_shared<Linear<T>>(LinearOptions(in_features, num_classes).seed(seed)))),
        in_(in_features) {}
  Var<T> forward(const Var<T>& x) override {
    if (x.shape().rank() != 3 || x.shape()[2] != in_)
      throw std::invalid_argument("TokenClassifier: expected input [batch, length, " +
                                  std::to_string(in_) + "], got " + x.shape().str());
    return transpose(linear_->forward(x), 1, 2);
  }
  std::string name() const override { return "TokenClassifier(" + linear_->name() + ")"; }
  Linear<T>& linear() { return *linear_; }

 private:
  std::shared_ptr<Linear<T>> linear_;
  Index in_;
};
ONESTONE_EXTERN_CLASS(NN, TokenClassifier)

}  // namespace nn
}  // namespace onestone
