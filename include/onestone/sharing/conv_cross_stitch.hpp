#pragma once
/// @file conv_cross_stitch.hpp
/// `ConvCrossStitch<T>`: cross-stitch units between convolutional towers, one tower per task,
/// the towers' feature maps mixed after every stage (Misra et al., CVPR 2016).

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/ops/arithmetic.hpp"
#include "onestone/autograd/ops/combine.hpp"
#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/sharing/strategy.hpp"

namespace onestone {
namespace sharing {

/// Options of `ConvCrossStitch`: the number of tasks and the stages of each task's tower. A
/// stage is given by a factory, called once per task so that every task gets its own copy (its
/// own parameters), and by the channels its output has: stage l maps [N, C, H, W] to
/// [N, channels_l, H_l, W_l]. `per_channel(true)` learns one mixing weight per task pair and per
/// channel (the paper's channel-wise variant) instead of one per task pair; `self_weight` is the
/// initial weight of a task's own tower (0.9; the rest is shared out evenly).
///
/// Example:
/// @code
/// ConvCrossStitchOptions<float>(/*tasks=*/2)
///     .stage([] { return make_conv_block(1, 10); }, /*channels=*/10)
///     .stage([] { return make_conv_block(10, 20); }, /*channels=*/20)
///     .per_channel(true);
/// @endcode
template <typename T>
struct ConvCrossStitchOptions {
  /// Makes one tower's copy of a stage.
  using StageFactory = std::function<std::shared_ptr<nn::Module<T>>()>;
  explicit ConvCrossStitchOptions(int num_tasks) : num_tasks_(num_tasks) {}
  /// Appends a stage: `make()` is called once per task; its output has `channels` channels.
  ConvCrossStitchOptions& stage(StageFactory make, Index channels) {
    stages_.push_back({std::move(make), channels});
    return *this;
  }
  /// Initial weight of a task's own tower in its mixture, in [0, 1]. Default 0.9.
  ConvCrossStitchOptions& self_weight(double w) {
    self_weight_ = w;
    return *this;
  }
  /// One mixing weight per task pair and channel (true) or per task pair (false, default).
  ConvCrossStitchOptions& per_channel(bool v) {
    per_channel_ = v;
    return *this;
  }
  struct Stage {
    StageFactory make;
    Index channels;
  };
  int num_tasks_;
  std::vector<Stage> stages_;
  double self_weight_ = 0.9;
  bool per_channel_ = false;
};

/// Cross-stitch networks on convolutional towers (Misra et al., CVPR 2016). Task t has its own
/// tower of stages; after stage l every task's feature map is replaced by a learned mixture of
/// all towers' maps, x̃ₜ = Σₛ αₜₛ ⊙ xₛ, where αₜₛ is a scalar, or with `per_channel(true)` one
/// weight per channel broadcast over [N, ·, H, W]. The stitch after stage l is the parameter
/// "stitch<l>" ([T, T] or [T·T, C_l], row t·T + s holding αₜₛ), initialised to `self_weight` on
/// the diagonal and (1 − self_weight)/(T − 1) elsewhere; the towers' parameters are
/// "towers.<t>.<l>.…". Task t's representation is its tower's last mixed map [N, C_L, H_L, W_L]:
/// heads take feature maps (use `HardSharing`'s `feature_axis` convention: channels on axis 1).
///
/// Example:
/// @code
/// auto cs = std::make_shared<ConvCrossStitch<float>>(
///     ConvCrossStitchOptions<float>(2).stage(make_stage1, 10).stage(make_stage2, 20));
/// MultiTaskModel<float> model(cs);
/// @endcode
template <typename T>
class ConvCrossStitch : public SharingStrategy<T> {
 public:
  explicit ConvCrossStitch(const ConvCrossStitchOptions<T>& opt);

  void set_num_tasks(int n) override { this->set_declared_tasks(n, opt_.num_tasks_); }

  void forward_tasks(const Var<T>& x, Var<T>* reps) override;

  Index output_features() const override { return opt_.stages_.back().channels; }
  /// Everything: the stitch units mix the towers, so every tower parameter reaches every task.
  std::vector<nn::Parameter<T>*> shared_parameters() const override { return this->parameters(); }
  /// The stitch after stage l: [T, T] (row t mixes into task t), or [T·T, C] per channel.
  const Tensor<T>& stitch(std::size_t l) const { return stitches_.at(l)->value(); }
  std::string name() const override { return "ConvCrossStitch"; }

 private:
  ConvCrossStitchOptions<T> opt_;
  std::shared_ptr<nn::ModuleDict<T>> towers_;
  std::vector<std::shared_ptr<nn::ModuleDict<T>>> towers_list_;
  std::vector<nn::Parameter<T>*> stitches_;
};

template <typename T>
ConvCrossStitch<T>::ConvCrossStitch(const ConvCrossStitchOptions<T>& opt)
    : opt_(opt), towers_(this->register_module("towers", std::make_shared<nn::ModuleDict<T>>())) {
  if (opt.num_tasks_ < 1) throw std::invalid_argument("ConvCrossStitch: num_tasks must be >= 1");
  if (opt.stages_.empty()) throw std::invalid_argument("ConvCrossStitch: need at least one stage");
  if (!(opt.self_weight_ >= 0 && opt.self_weight_ <= 1))
    throw std::invalid_argument("ConvCrossStitch: self_weight must be in [0, 1]");
  const int Tn = opt.num_tasks_;
  for (std::size_t l = 0; l < opt.stages_.size(); ++l)
    if (!opt.stages_[l].make || opt.stages_[l].channels < 1)
      throw std::invalid_argument("ConvCrossStitch: stage " + std::to_string(l) +
                                  " needs a factory and channels >= 1");
  for (int t = 0; t < Tn; ++t) {
    auto tower = std::static_pointer_cast<nn::ModuleDict<T>>(
        towers_->insert(std::to_string(t), std::make_shared<nn::ModuleDict<T>>()));
    for (std::size_t l = 0; l < opt.stages_.size(); ++l) {
      std::shared_ptr<nn::Module<T>> m = opt.stages_[l].make();
      if (!m)
        throw std::invalid_argument("ConvCrossStitch: stage " + std::to_string(l) +
                                    "'s factory returned no module");
      tower->insert(std::to_string(l), std::move(m));
    }
    towers_list_.push_back(tower);
  }
  // The factories must make a new module per call: shared modules would share parameters.
  for (std::size_t l = 0; Tn > 1 && l < opt.stages_.size(); ++l)
    if (&towers_list_[0]->at(l) == &towers_list_[1]->at(l))
      throw std::invalid_argument(
          "ConvCrossStitch: stage " + std::to_string(l) +
          "'s factory returned the same module twice; it must build a new module per task");
  if (Tn > 1) {
    const double off = (1.0 - opt.self_weight_) / (Tn - 1);
    for (std::size_t l = 0; l < opt.stages_.size(); ++l) {
      const Index cols = opt.per_channel_ ? opt.stages_[l].channels : Index(Tn);
      const Index rows = opt.per_channel_ ? Index(Tn) * Tn : Index(Tn);
      Tensor<T> a = Tensor<T>::full(Shape{rows, cols}, static_cast<T>(off));
      for (int t = 0; t < Tn; ++t) {
        if (opt.per_channel_) {
          for (Index c = 0; c < cols; ++c)
            a.at(Index(t) * Tn + t, c) = static_cast<T>(opt.self_weight_);
        } else {
          a.at(t, t) = static_cast<T>(opt.self_weight_);
        }
      }
      stitches_.push_back(&this->register_parameter("stitch" + std::to_string(l), std::move(a)));
    }
  }
}

template <typename T>
void ConvCrossStitch<T>::forward_tasks(const Var<T>& x, Var<T>* reps) {
  this->check_declared_tasks(opt_.num_tasks_);
  const int Tn = opt_.num_tasks_;
  autograd::Tape<T>& tape = x.tape();
  detail::BorrowedVars<T> l1, l2;
  std::vector<Var<T>>& h = *l1;
  std::vector<Var<T>>& mixed = *l2;
  h.resize(static_cast<std::size_t>(Tn));
  mixed.resize(static_cast<std::size_t>(Tn));
  for (int t = 0; t < Tn; ++t) h[static_cast<std::size_t>(t)] = x;
  for (std::size_t l = 0; l < opt_.stages_.size(); ++l) {
    const Index C = opt_.stages_[l].channels;
    for (int t = 0; t < Tn; ++t) {
      Var<T>& ht = h[static_cast<std::size_t>(t)];
      ht = towers_list_[static_cast<std::size_t>(t)]->at(l).forward(ht);
      if (ht.shape().rank() != 4 || ht.shape()[1] != C)
        throw std::invalid_argument("ConvCrossStitch: stage " + std::to_string(l) + " of task " +
                                    std::to_string(t) + " produced " + ht.shape().str() +
                                    ", expected [N, " + std::to_string(C) + ", H, W]");
      if (t > 0 && ht.shape() != h[0].shape())
        throw std::invalid_argument("ConvCrossStitch: stage " + std::to_string(l) + " gives " +
                                    h[0].shape().str() + " in task 0 but " + ht.shape().str() +
                                    " in task " + std::to_string(t));
    }
    if (Tn == 1) continue;
    Var<T> alpha = stitches_[l]->var(tape);
    if (!opt_.per_channel_) {
      Var<T> flat_alpha = reshape(alpha, Shape{1, Index(Tn) * Tn});
      for (int t = 0; t < Tn; ++t)
        mixed[static_cast<std::size_t>(t)] =
            weighted_sum(h, narrow(flat_alpha, -1, Index(t) * Tn, Tn));
    } else {
      for (int t = 0; t < Tn; ++t) {
        Var<T> acc;
        for (int s = 0; s < Tn; ++s) {
          Var<T> a = reshape(narrow(alpha, 0, Index(t) * Tn + s, 1), Shape{1, C, 1, 1});
          Var<T> term = h[static_cast<std::size_t>(s)] * a;
          acc = s == 0 ? term : acc + term;
        }
        mixed[static_cast<std::size_t>(t)] = acc;
      }
    }
    h.swap(mixed);
  }
  for (int t = 0; t < Tn; ++t) reps[t] = h[static_cast<std::size_t>(t)];
}
ONESTONE_EXTERN_CLASS(SHARING, ConvCrossStitch)

}  // namespace sharing
}  // namespace onestone
