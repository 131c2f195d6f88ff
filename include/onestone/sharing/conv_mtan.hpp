#pragma once
/// @file conv_mtan.hpp
/// `ConvMTAN<T>`: MTAN on a convolutional encoder — a shared trunk of stages with per-task
/// attention masks on every stage's feature map (Liu, Johns & Davison, CVPR 2019).

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/ops/arithmetic.hpp"
#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/activation.hpp"
#include "onestone/nn/batch_norm.hpp"
#include "onestone/nn/conv.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/nn/sequential.hpp"
#include "onestone/sharing/strategy.hpp"

namespace onestone {
namespace sharing {

/// Options of `ConvMTAN`: the number of tasks, the input channels and the shared stages, each a
/// module mapping [N, C_prev, H, W] to [N, channels, ⌈H / stride⌉, ⌈W / stride⌉].
///
/// Example:
/// @code
/// ConvMTANOptions<float>(/*tasks=*/2, /*in_channels=*/1)
///     .stage(block1, /*channels=*/10, /*stride=*/2)
///     .stage(block2, /*channels=*/20, /*stride=*/3);
/// @endcode
template <typename T>
struct ConvMTANOptions {
  ConvMTANOptions(int num_tasks, Index in_channels)
      : num_tasks_(num_tasks), in_channels_(in_channels) {}
  /// Appends a shared stage with its output channels and spatial downsampling factor.
  ConvMTANOptions& stage(std::shared_ptr<nn::Module<T>> block, Index channels, Index stride = 1) {
    stages_.push_back({std::move(block), channels, stride});
    return *this;
  }
  struct Stage {
    std::shared_ptr<nn::Module<T>> block;
    Index channels, stride;
  };
  int num_tasks_;
  Index in_channels_;
  std::vector<Stage> stages_;
};

/// Multi-task attention network on a convolutional encoder (Liu, Johns & Davison, CVPR 2019).
/// The shared trunk computes stage outputs p₁ … p_L. Task t keeps an attended copy âₜ,ₗ of each,
/// gated element-wise by a mask its attention module gₜ,ₗ (conv 1×1 → BN → ReLU → conv 1×1 → BN
/// → sigmoid) computes:
///   stage 1:  âₜ,₁ = gₜ,₁(p₁) ⊙ p₁
///   stage l:  âₜ,ₗ = gₜ,ₗ([pₗ, fₗ(âₜ,ₗ₋₁)]) ⊙ pₗ
/// where fₗ (conv 3×3 with the stage's stride → BN → ReLU) is shared by the tasks and brings the
/// previous attended features to stage l's resolution and width, and [·, ·] joins channels.
/// Task t's representation is âₜ,L ([N, C_L, H_L, W_L]): heads take feature maps. The masks are
/// computed from each stage's output (the paper takes the block's last-but-one features; with
/// stages given as opaque modules their output is what is available).
///
/// Example:
/// @code
/// auto mtan = std::make_shared<ConvMTAN<float>>(ConvMTANOptions<float>(2, 3)
///                                                   .stage(conv_block(3, 16), 16)
///                                                   .stage(conv_block(16, 32, 2), 32, 2));
/// @endcode
template <typename T>
class ConvMTAN : public SharingStrategy<T> {
 public:
  explicit ConvMTAN(const ConvMTANOptions<T>& opt);
  void set_num_tasks(int n) override { this->set_declared_tasks(n, opt_.num_tasks_); }
  void forward_tasks(const Var<T>& x, Var<T>* reps) override;
  Index output_features() const override { return opt_.stages_.back().channels; }
  std::string name() const override { return "ConvMTAN"; }
  /// The shared trunk.
  std::vector<nn::Parameter<T>*> shared_parameters() const override { return trunk_->parameters(); }

 private:
  static std::shared_ptr<nn::Module<T>> block(
      std::initializer_list<std::shared_ptr<nn::Module<T>>> mods) {
    return std::make_shared<nn::Sequential<T>>(mods);
  }
  ConvMTANOptions<T> opt_;
  std::shared_ptr<nn::ModuleDict<T>> trunk_, extractor_, attention_;
  std::vector<std::shared_ptr<nn::ModuleDict<T>>> task_att_;
};

template <typename T>
ConvMTAN<T>::ConvMTAN(const ConvMTANOptions<T>& opt)
    : opt_(opt),
      trunk_(this->register_module("trunk", std::make_shared<nn::ModuleDict<T>>())),
      extractor_(this->register_module("extractor", std::make_shared<nn::ModuleDict<T>>())),
      attention_(this->register_module("attention", std::make_shared<nn::ModuleDict<T>>())) {
  if (opt.num_tasks_ < 1 || opt.stages_.empty() || opt.in_channels_ < 1)
    throw std::invalid_argument("ConvMTAN: need >= 1 task, >= 1 input channel and a stage");
  Index prev = opt.in_channels_;
  for (std::size_t l = 0; l < opt.stages_.size(); ++l) {
    const auto& st = opt.stages_[l];
    if (!st.block || st.channels < 1 || st.stride < 1)
      throw std::invalid_argument("ConvMTAN: stage " + std::to_string(l) +
                                  " needs a module, channels >= 1 and stride >= 1");
    trunk_->insert(std::to_string(l), st.block);
    if (l > 0)
      extractor_->insert(
          std::to_string(l),
          block({std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(prev, st.channels, 3)
                                                     .stride(st.stride)
                                                     .padding(1)
                                                     .bias(false)),
                 std::make_shared<nn::BatchNorm2d<T>>(st.channels),
                 std::make_shared<nn::ReLU<T>>()}));
    prev = st.channels;
  }
  for (int t = 0; t < opt.num_tasks_; ++t) {
    auto task = std::static_pointer_cast<nn::ModuleDict<T>>(
        attention_->insert(std::to_string(t), std::make_shared<nn::ModuleDict<T>>()));
    task_att_.push_back(task);
    for (std::size_t l = 0; l < opt.stages_.size(); ++l) {
      const Index c = opt.stages_[l].channels, in = l == 0 ? c : 2 * c;
      task->insert(
          std::to_string(l),
          block({std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(in, c, 1)),
                 std::make_shared<nn::BatchNorm2d<T>>(c), std::make_shared<nn::ReLU<T>>(),
                 std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(c, c, 1)),
                 std::make_shared<nn::BatchNorm2d<T>>(c), std::make_shared<nn::Sigmoid<T>>()}));
    }
  }
}

template <typename T>
void ConvMTAN<T>::forward_tasks(const Var<T>& x, Var<T>* reps) {
  this->check_declared_tasks(opt_.num_tasks_);
  detail::BorrowedVars<T> p_list;
  std::vector<Var<T>>& p = *p_list;
  p.resize(opt_.stages_.size());
  Var<T> h = x;
  for (std::size_t l = 0; l < p.size(); ++l) {
    h = trunk_->at(l).forward(h);
    if (h.shape().rank() != 4 || h.shape()[1] != opt_.stages_[l].channels)
      throw std::invalid_argument("ConvMTAN: stage " + std::to_string(l) + " produced " +
                                  h.shape().str() + ", expected [N, " +
                                  std::to_string(opt_.stages_[l].channels) + ", H, W]");
    p[l] = h;
  }
  for (int t = 0; t < opt_.num_tasks_; ++t) {
    nn::ModuleDict<T>& att = *task_att_[static_cast<std::size_t>(t)];
    Var<T> a;
    for (std::size_t l = 0; l < p.size(); ++l) {
      Var<T> in = p[l];
      if (l > 0) {
        Var<T> c = extractor_->at(l - 1).forward(a);
        if (c.shape() != p[l].shape())
          throw std::invalid_argument("ConvMTAN: stage " + std::to_string(l) + " gives " +
                                      p[l].shape().str() + " but the attended features of stage " +
                                      std::to_string(l - 1) + " become " + c.shape().str() +
                                      " (a stride of " + std::to_string(opt_.stages_[l].stride) +
                                      " maps H to ⌈H / stride⌉)");
        in = cat({p[l], c}, 1);
      }
      a = att.at(l).forward(in) * p[l];
    }
    reps[t] = a;
  }
}
ONESTONE_EXTERN_CLASS(SHARING, ConvMTAN)

}  // namespace sharing
}  // namespace onestone
