#pragma once
/// @file embedding.hpp
/// `Embedding<T>`: a lookup table of learned vectors indexed by token ids, with a padding index.

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/autograd/ops/select.hpp"
#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/init.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone {
namespace nn {

/// Options of `Embedding`: table size, vector width, the padding id (none by default) and the
/// seed of the N(0, 1) initialisation (PyTorch's default).
///
/// Example: `EmbeddingOptions(10000, 128).padding_idx(0).seed(7)`
struct EmbeddingOptions {
  EmbeddingOptions(Index num_embeddings, Index embedding_dim)
      : num_(num_embeddings), dim_(embedding_dim) {}
  /// Id whose vector is zero and receives no gradient (padding tokens); −1 = none.
  EmbeddingOptions& padding_idx(Index p) {
    padding_idx_ = p;
    return *this;
  }
  /// Seed of the initial N(0, 1) draws (default: the thread's default generator).
  EmbeddingOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  Index num_embeddings() const { return num_; }
  Index embedding_dim() const { return dim_; }
  Index padding_idx() const { return padding_idx_; }

  Index num_, dim_;
  Index padding_idx_ = -1;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// A table "weight" [num_embeddings, embedding_dim] of learned vectors: ids [...] (integers
/// stored as T, as in a dataset's inputs, or a `Tensor<Index>`) give vectors [..., dim]. The
/// padding id's vector is zero in the output and gets no gradient (as in PyTorch, whose padding
/// row starts at zero and is never updated). Ids that are not integers in [0, num) throw,
/// naming the position. The backward pass scatter-adds into the rows used.
///
/// Example:
/// @code
/// onestone::nn::Embedding<float> emb(onestone::nn::EmbeddingOptions(vocab.size(),
/// 64).padding_idx(0)); auto e = emb.forward(ids);   // ids [B, L] (token ids as floats) -> [B, L,
/// 64]
/// @endcode
template <typename T>
class Embedding : public Module<T> {
 public:
  explicit Embedding(const EmbeddingOptions& opt);

  /// ids: integer values stored as T, of rank ≤ 3.
  Var<T> forward(const Var<T>& ids) override;

  /// ids as integers (any shape of rank ≤ 3), on tape `t`.
  Var<T> forward(const Tensor<Index>& ids, autograd::Tape<T>& t = autograd::Tape<T>::current());

  std::string name() const override {
    return "Embedding(" + std::to_string(options_.num_) + ", " + std::to_string(options_.dim_) +
           (options_.padding_idx_ >= 0 ? ", padding_idx=" + std::to_string(options_.padding_idx_)
                                       : std::string()) +
           ")";
  }
  Parameter<T>& weight() { return *weight_; }
  const EmbeddingOptions& options() const { return options_; }

 private:
  void check_rank(const Shape& s) const {
    if (s.rank() > 3)
      throw std::invalid_argument("Embedding: ids of shape " + s.str() +
                                  " have rank > 3 (the output would exceed rank 4)");
  }
  Var<T> lookup(const Tensor<Index>& flat, const Shape& ids_shape, autograd::Tape<T>& t);

  EmbeddingOptions options_;
  Parameter<T>* weight_ = nullptr;
  Tensor<Index> ids_;  // reused: no allocation once it held the largest batch
  Mask pad_;
};

template <typename T>
Embedding<T>::Embedding(const EmbeddingOptions& opt) : options_(opt) {
  if (opt.num_ <= 0 || opt.dim_ <= 0)
    throw std::invalid_argument("Embedding: sizes must be positive, got " +
                                std::to_string(opt.num_) + " x " + std::to_string(opt.dim_));
  if (opt.padding_idx_ < -1 || opt.padding_idx_ >= opt.num_)
    throw std::invalid_argument("Embedding: padding_idx " + std::to_string(opt.padding_idx_) +
                                " outside [0, " + std::to_string(opt.num_) + ")");
  Generator local(opt.seed_);
  Generator& gen = opt.has_seed_ ? local : default_generator();
  Tensor<T> w({opt.num_, opt.dim_});
  init::normal_(w, 0.0, 1.0, gen);
  if (opt.padding_idx_ >= 0)
    for (Index j = 0; j < opt.dim_; ++j) w.data()[opt.padding_idx_ * opt.dim_ + j] = T(0);
  weight_ = &this->register_parameter("weight", std::move(w));
}

template <typename T>
Var<T> Embedding<T>::forward(const Var<T>& ids) {
  const Shape& s = ids.shape();
  check_rank(s);
  Tensor<Index>& idx = ids_;
  idx.resize(Shape{s.numel()});
  const T* v = ids.data();
  for (Index i = 0; i < s.numel(); ++i) {
    const T x = v[i];
    if (!(x >= T(0) && x < static_cast<T>(options_.num_)) || std::floor(x) != x)
      throw std::invalid_argument("Embedding: input " + s.str() + " holds " +
                                  std::to_string(static_cast<double>(x)) + " at position " +
                                  std::to_string(i) + ", not an id in [0, " +
                                  std::to_string(options_.num_) + ")");
    idx.data()[i] = static_cast<Index>(x);
  }
  return lookup(idx, s, ids.tape());
}

template <typename T>
Var<T> Embedding<T>::forward(const Tensor<Index>& ids, autograd::Tape<T>& t) {
  check_rank(ids.shape());
  for (Index i = 0; i < ids.numel(); ++i)
    if (ids.data()[i] < 0 || ids.data()[i] >= options_.num_)
      throw std::invalid_argument("Embedding: id " + std::to_string(ids.data()[i]) +
                                  " at position " + std::to_string(i) + " of " + ids.shape().str() +
                                  " outside [0, " + std::to_string(options_.num_) + ")");
  ids_.resize(Shape{ids.numel()});
  for (Index i = 0; i < ids.numel(); ++i) ids_.data()[i] = ids.data()[i];
  return lookup(ids_, ids.shape(), t);
}

template <typename T>
Var<T> Embedding<T>::lookup(const Tensor<Index>& flat, const Shape& ids_shape,
                            autograd::Tape<T>& t) {
  const Index K = flat.numel(), D = options_.dim_;
  Var<T> e = index_select(weight_->var(t), 0, flat);  // [K, D]
  const Index pad = options_.padding_idx_;
  if (pad >= 0) {
    bool any = false;
    pad_.resize(Shape{K, 1});
    for (Index i = 0; i < K; ++i) {
      const bool p = flat.data()[i] == pad;
      pad_.data()[i] = p ? 1 : 0;
      any = any || p;
    }
    if (any) e = masked_fill(e, pad_, T(0));
  }
  Shape so = ids_shape;
  so.push_back(D);
  return reshape(e, so);
}
ONESTONE_EXTERN_CLASS(NN, Embedding)

}  // namespace nn
}  // namespace onestone
