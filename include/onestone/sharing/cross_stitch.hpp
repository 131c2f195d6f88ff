#pragma once
/// @file cross_stitch.hpp
/// `CrossStitch<T>`: one column per task, mixed after every layer by a learned T×T matrix.

#include <memory>
#include <string>
#include <vector>

#include "onestone/autograd/ops/combine.hpp"
#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/activation.hpp"
#include "onestone/nn/linear.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/sharing/strategy.hpp"

namespace onestone {
namespace sharing {

/// Options of `CrossStitch`: the column layer sizes {in, h1, ..., hL}, the activation, and the
/// initial self weight of the stitch matrices.
///
/// Example: `CrossStitchOptions(2, {32, 64, 64}).activation(nn::Activation::ReLU).self_weight(0.9)`
struct CrossStitchOptions {
  CrossStitchOptions(int num_tasks, std::vector<Index> sizes)
      : num_tasks_(num_tasks), sizes_(std::move(sizes)) {}
  CrossStitchOptions& activation(nn::Activation a) {
    activation_ = a;
    return *this;
  }
  CrossStitchOptions& self_weight(double w) {
    self_weight_ = w;
    return *this;
  }
  int num_tasks_;
  std::vector<Index> sizes_;
  nn::Activation activation_ = nn::Activation::ReLU;
  double self_weight_ = 0.9;
};

/// Cross-stitch networks (Misra et al., CVPR 2016) on MLP columns: task t has its own column of
/// layers; after layer l every task's activation is replaced by a learned mixture of all tasks'
/// activations, x̃ₜ = Σₛ αₜₛ xₛ, with one T×T matrix α per layer ("stitch<l>"), initialised to
/// `self_weight` (0.9) on the diagonal and the rest shared out evenly, (1 − 0.9)/(T − 1).
///
/// Example:
/// @code
/// auto cs = std::make_shared<CrossStitch<float>>(CrossStitchOptions(/*tasks=*/2, {32, 64, 64}));
/// @endcode
template <typename T>
class CrossStitch : public SharingStrategy<T> {
 public:
  explicit CrossStitch(const CrossStitchOptions& opt);
  void set_num_tasks(int n) override { this->set_declared_tasks(n, opt_.num_tasks_); }
  void forward_tasks(const Var<T>& x, Var<T>* reps) override;
  Index output_features() const override { return opt_.sizes_.back(); }
  /// Everything: the stitch units mix the columns, so every column parameter reaches every task.
  std::vector<nn::Parameter<T>*> shared_parameters() const override { return this->parameters(); }
  /// The stitch matrix after layer l (T×T, row t mixes into task t).
  const Tensor<T>& stitch(std::size_t l) const { return stitches_.at(l)->value(); }

  std::string name() const override { return "CrossStitch"; }

 private:
  void build();

  struct ColumnModule : nn::Module<T> {
    std::string name() const override { return "CrossStitchColumn"; }
  };
  CrossStitchOptions opt_;
  std::shared_ptr<nn::ModuleDict<T>> columns_;
  std::vector<std::vector<std::shared_ptr<nn::Linear<T>>>> layers_;
  std::vector<nn::Parameter<T>*> stitches_;
};

template <typename T>
CrossStitch<T>::CrossStitch(const CrossStitchOptions& opt)
    : opt_(opt), columns_(this->register_module("columns", std::make_shared<nn::ModuleDict<T>>())) {
  if (opt.sizes_.size() < 2)
    throw std::invalid_argument("CrossStitch: need at least two layer sizes");
  if (!(opt.self_weight_ >= 0 && opt.self_weight_ <= 1))
    throw std::invalid_argument("CrossStitch: self_weight must be in [0, 1]");
  if (opt.num_tasks_ < 1) throw std::invalid_argument("CrossStitch: num_tasks must be >= 1");
  build();
}

template <typename T>
void CrossStitch<T>::forward_tasks(const Var<T>& x, Var<T>* reps) {
  this->check_declared_tasks(opt_.num_tasks_);
  const int Tn = opt_.num_tasks_;
  const std::size_t L = opt_.sizes_.size() - 1;
  autograd::Tape<T>& tape = x.tape();
  detail::BorrowedVars<T> l1, l2;
  std::vector<Var<T>>& h_ = *l1;
  std::vector<Var<T>>& mixed_ = *l2;
  h_.resize(static_cast<std::size_t>(Tn));
  mixed_.resize(static_cast<std::size_t>(Tn));
  for (int t = 0; t < Tn; ++t) h_[static_cast<std::size_t>(t)] = x;
  for (std::size_t l = 0; l < L; ++l) {
    for (int t = 0; t < Tn; ++t) {
      auto& hv = h_[static_cast<std::size_t>(t)];
      hv = nn::activate(layers_[static_cast<std::size_t>(t)][l]->forward(hv), opt_.activation_);
    }
    if (Tn == 1) continue;
    Var<T> alpha = stitches_[l]->var(tape);
    for (int t = 0; t < Tn; ++t)
      mixed_[static_cast<std::size_t>(t)] =
          weighted_sum(h_, narrow(reshape(alpha, Shape{1, Index(Tn) * Tn}), -1, Index(t) * Tn, Tn));
    h_.swap(mixed_);
  }
  for (int t = 0; t < Tn; ++t) reps[t] = h_[static_cast<std::size_t>(t)];
}

template <typename T>
void CrossStitch<T>::build() {
  const int Tn = opt_.num_tasks_;
  const std::size_t L = opt_.sizes_.size() - 1;
  layers_.resize(static_cast<std::size_t>(Tn));
  for (int t = 0; t < Tn; ++t) {
    auto holder = std::make_shared<ColumnModule>();
    for (std::size_t l = 0; l < L; ++l)
      layers_[static_cast<std::size_t>(t)].push_back(holder->register_module(
          "fc" + std::to_string(l),
          std::make_shared<nn::Linear<T>>(nn::LinearOptions(opt_.sizes_[l], opt_.sizes_[l + 1]))));
    columns_->insert(std::to_string(t), holder);
  }
  if (Tn > 1) {
    const double off = (1.0 - opt_.self_weight_) / (Tn - 1);
    for (std::size_t l = 0; l < L; ++l) {
      Tensor<T> a = Tensor<T>::full(Shape{Index(Tn), Index(Tn)}, static_cast<T>(off));
      for (int t = 0; t < Tn; ++t) a.at(t, t) = static_cast<T>(opt_.self_weight_);
      stitches_.push_back(&this->register_parameter("stitch" + std::to_string(l), std::move(a)));
    }
  }
}
ONESTONE_EXTERN_CLASS(SHARING, CrossStitch)

}  // namespace sharing
}  // namespace onestone
