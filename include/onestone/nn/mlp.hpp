#pragma once
/// @file mlp.hpp
/// `MLP<T>`: a multilayer perceptron built from `Linear`, optional `LayerNorm`, an activation and
/// optional `Dropout` per layer.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/nn/activation.hpp"
#include "onestone/nn/dropout.hpp"
#include "onestone/nn/layer_norm.hpp"
#include "onestone/nn/linear.hpp"

namespace onestone {
namespace nn {

/// Options of `MLP`: the layer sizes {in, hidden..., out} and what follows each Linear.
///
/// Example: `MLPOptions({784, 256, 256}).activation(Activation::ReLU).dropout(0.1)`
struct MLPOptions {
  MLPOptions(std::vector<Index> sizes) : sizes_(std::move(sizes)) {}
  MLPOptions& activation(Activation a) {
    activation_ = a;
    return *this;
  }
  MLPOptions& dropout(double p) {
    dropout_ = p;
    return *this;
  }
  MLPOptions& layer_norm(bool on) {
    layer_norm_ = on;
    return *this;
  }
  /// Whether the last layer also gets normalisation, activation and dropout (true for trunks,
  /// false for heads that output logits).
  MLPOptions& activate_last(bool on) {
    activate_last_ = on;
    return *this;
  }
  MLPOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  MLPOptions& init(Init scheme) {
    init_ = scheme;
    return *this;
  }
  MLPOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  std::vector<Index> sizes_;
  Activation activation_ = Activation::ReLU;
  double dropout_ = 0.0;
  bool layer_norm_ = false;
  bool activate_last_ = true;
  bool bias_ = true;
  Init init_ = Init::Default;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// A multilayer perceptron: for each consecutive pair of sizes, Linear ("fc<i>"), then
/// optionally LayerNorm ("ln<i>"), the activation, and Dropout.
///
/// Example:
/// @code
/// auto trunk = std::make_shared<MLP<float>>(MLPOptions({784, 256, 256}));
/// auto head = std::make_shared<MLP<float>>(MLPOptions({256, 10}).activate_last(false));
/// @endcode
template <typename T>
class MLP : public Module<T> {
 public:
  explicit MLP(const MLPOptions& opt);
  Var<T> forward(const Var<T>& x) override;
  std::string name() const override { return "MLP"; }
  Index in_features() const { return options_.sizes_.front(); }
  Index out_features() const { return options_.sizes_.back(); }
  const MLPOptions& options() const { return options_; }

 private:
  struct Layer {
    std::shared_ptr<Linear<T>> fc;
    std::shared_ptr<LayerNorm<T>> ln;
    Activation act = Activation::None;
    std::shared_ptr<Dropout<T>> drop;
  };
  MLPOptions options_;
  std::vector<Layer> layers_;
};

template <typename T>
MLP<T>::MLP(const MLPOptions& opt) : options_(opt) {
  if (opt.sizes_.size() < 2)
    throw std::invalid_argument("MLP: need at least two sizes (input and output)");
  Generator local(opt.seed_);
  const std::size_t L = opt.sizes_.size() - 1;
  for (std::size_t i = 0; i < L; ++i) {
    LinearOptions lo(opt.sizes_[i], opt.sizes_[i + 1]);
    lo.bias(opt.bias_).init(opt.init_);
    if (opt.has_seed_) lo.seed(local.next_u64());
    const bool last = i + 1 == L;
    Layer layer;
    layer.fc = this->register_module("fc" + std::to_string(i), std::make_shared<Linear<T>>(lo));
    if (!last || opt.activate_last_) {
      if (opt.layer_norm_)
        layer.ln = this->register_module("ln" + std::to_string(i),
                                         std::make_shared<LayerNorm<T>>(opt.sizes_[i + 1]));
      layer.act = opt.activation_;
      if (opt.dropout_ > 0)
        layer.drop = this->register_module(
            "drop" + std::to_string(i),
            opt.has_seed_ ? std::make_shared<Dropout<T>>(opt.dropout_, local.next_u64())
                          : std::make_shared<Dropout<T>>(opt.dropout_));
    }
    layers_.push_back(layer);
  }
}

template <typename T>
Var<T> MLP<T>::forward(const Var<T>& x) {
  Var<T> h = x;
  for (auto& l : layers_) {
    h = l.fc->forward(h);
    if (l.ln) h = l.ln->forward(h);
    h = activate(h, l.act);
    if (l.drop) h = l.drop->forward(h);
  }
  return h;
}
ONESTONE_EXTERN_CLASS(NN, MLP)

}  // namespace nn
}  // namespace onestone
