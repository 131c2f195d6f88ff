#pragma once
/// @file positional_encoding.hpp
/// Position information for sequence models: `SinusoidalPositionalEncoding<T>` (fixed, Vaswani
/// et al. 2017) and `LearnedPositionalEncoding<T>` (a trained table, as BERT).

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/autograd/ops/arithmetic.hpp"
#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/init.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone {
namespace nn {

namespace detail {
inline void check_sequence_input(const char* who, const Shape& s, Index d_model, Index max_len) {
  if (s.rank() != 3 || s[2] != d_model)
    throw std::invalid_argument(std::string(who) + ": expected input [batch, length, " +
                                std::to_string(d_model) + "], got " + s.str());
  if (s[1] > max_len)
    throw std::invalid_argument(std::string(who) + ": sequence length " + std::to_string(s[1]) +
                                " exceeds max_length " + std::to_string(max_len));
}
}  // namespace detail

/// Adds the fixed encoding PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d))
/// to x [B, L, d] (L ≤ max_length). No parameters; the table is not saved (it is recomputed).
///
/// Example: `SinusoidalPositionalEncoding<float> pe(128, 512); auto h = pe.forward(emb);`
template <typename T>
class SinusoidalPositionalEncoding : public Module<T> {
 public:
  explicit SinusoidalPositionalEncoding(Index d_model, Index max_length = 512);
  Var<T> forward(const Var<T>& x) override {
    detail::check_sequence_input("SinusoidalPositionalEncoding", x.shape(), d_, max_len_);
    // The first L rows of the table, viewed without a copy (constant: no gradient).
    return x + Var<T>::from(table_.data(), Shape{x.shape()[1], d_}, x.tape());
  }
  std::string name() const override {
    return "SinusoidalPositionalEncoding(" + std::to_string(d_) + ")";
  }
  /// The table [max_length, d_model].
  const Tensor<T>& table() const { return table_; }

 private:
  Index d_, max_len_;
  Tensor<T> table_;
};

template <typename T>
SinusoidalPositionalEncoding<T>::SinusoidalPositionalEncoding(Index d_model, Index max_length)
    : d_(d_model), max_len_(max_length), table_({max_length > 0 ? max_length : 1, d_model}) {
  if (d_model <= 0 || max_length <= 0)
    throw std::invalid_argument(
        "SinusoidalPositionalEncoding: d_model and max_length must be "
        "positive");
  for (Index p = 0; p < max_length; ++p)
    for (Index i = 0; i < d_model; ++i) {
      const double freq = std::pow(10000.0, -static_cast<double>(i - i % 2) / d_model);
      const double a = static_cast<double>(p) * freq;
      table_.data()[p * d_model + i] = static_cast<T>(i % 2 == 0 ? std::sin(a) : std::cos(a));
    }
}
ONESTONE_EXTERN_CLASS(NN, SinusoidalPositionalEncoding)

/// Adds a learned position vector, parameter "weight" [max_length, d_model] (initialised
/// N(0, 0.02²), as BERT), to x [B, L, d_model].
///
/// Example: `LearnedPositionalEncoding<float> pe(512, 128, /*seed=*/3);`
template <typename T>
class LearnedPositionalEncoding : public Module<T> {
 public:
  LearnedPositionalEncoding(Index max_length, Index d_model)
      : LearnedPositionalEncoding(max_length, d_model, default_generator().next_u64()) {}
  LearnedPositionalEncoding(Index max_length, Index d_model, std::uint64_t seed);
  Var<T> forward(const Var<T>& x) override {
    detail::check_sequence_input("LearnedPositionalEncoding", x.shape(), d_, max_len_);
    const Index L = x.shape()[1];
    Var<T> w = weight_->var(x.tape());
    return x + (L == max_len_ ? w : narrow(w, 0, 0, L));
  }
  std::string name() const override {
    return "LearnedPositionalEncoding(" + std::to_string(max_len_) + ", " + std::to_string(d_) +
           ")";
  }
  Parameter<T>& weight() { return *weight_; }

 private:
  Index d_, max_len_;
  Parameter<T>* weight_ = nullptr;
};

template <typename T>
LearnedPositionalEncoding<T>::LearnedPositionalEncoding(Index max_length, Index d_model,
                                                        std::uint64_t seed)
    : d_(d_model), max_len_(max_length) {
  if (d_model <= 0 || max_length <= 0)
    throw std::invalid_argument(
        "LearnedPositionalEncoding: d_model and max_length must be "
        "positive");
  Generator gen(seed);
  Tensor<T> w({max_length, d_model});
  init::normal_(w, 0.0, 0.02, gen);
  weight_ = &this->register_parameter("weight", std::move(w));
}
ONESTONE_EXTERN_CLASS(NN, LearnedPositionalEncoding)

}  // namespace nn
}  // namespace onestone
