#pragma once
/// @file resnet.hpp
/// `BasicBlock<T>` and `ResNet<T>`: the ResNet basic block and a small ResNet backbone (a
/// shared trunk for dense or image tasks), with torchvision's module names.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/ops/arithmetic.hpp"
#include "onestone/autograd/ops/unary.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/batch_norm.hpp"
#include "onestone/nn/conv.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/nn/sequential.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone {
namespace nn {

/// Options of `BasicBlock`: input and output channels, the stride of its first convolution
/// and a seed for its convolutions' initial values (default: the thread's default generator).
///
/// Example: `BasicBlockOptions(16, 32).stride(2)`
struct BasicBlockOptions {
  BasicBlockOptions(Index in_channels, Index out_channels) : in_(in_channels), out_(out_channels) {}
  BasicBlockOptions& stride(Index s) {
    stride_ = s;
    return *this;
  }
  BasicBlockOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  Index in_, out_, stride_ = 1;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// The ResNet basic block (He et al. 2016, torchvision's `BasicBlock`):
/// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)) with 3×3 convolutions without bias
/// (conv1 carries the stride) and the shortcut the identity, or a 1×1 convolution and batch
/// normalisation ("downsample.0", "downsample.1") when the stride or the width changes.
/// Names as torchvision's: conv1.weight, bn1.running_mean, downsample.0.weight, ...
///
/// Example:
/// @code
/// onestone::nn::BasicBlock<float> block(onestone::nn::BasicBlockOptions(16, 32).stride(2));
/// auto y = block.forward(x);   // [N, 16, 32, 32] -> [N, 32, 16, 16]
/// @endcode
template <typename T>
class BasicBlock : public Module<T> {
 public:
  explicit BasicBlock(const BasicBlockOptions& opt);
  Var<T> forward(const Var<T>& x) override {
    Var<T> h = relu(bn1_->forward(conv1_->forward(x)));
    h = bn2_->forward(conv2_->forward(h));
    return relu(h + (downsample_ ? downsample_->forward(x) : x));
  }
  std::string name() const override {
    return "BasicBlock(" + std::to_string(options_.in_) + ", " + std::to_string(options_.out_) +
           ", stride " + std::to_string(options_.stride_) + ")";
  }
  const BasicBlockOptions& options() const { return options_; }
  /// The projection shortcut, or null for the identity.
  Sequential<T>* downsample() { return downsample_.get(); }

 private:
  BasicBlockOptions options_;
  std::shared_ptr<Conv2d<T>> conv1_, conv2_;
  std::shared_ptr<BatchNorm2d<T>> bn1_, bn2_;
  std::shared_ptr<Sequential<T>> downsample_;
};

template <typename T>
BasicBlock<T>::BasicBlock(const BasicBlockOptions& opt) : options_(opt) {
  if (opt.in_ <= 0 || opt.out_ <= 0 || opt.stride_ <= 0)
    throw std::invalid_argument("BasicBlock: channels and stride must be positive (in " +
                                std::to_string(opt.in_) + ", out " + std::to_string(opt.out_) +
                                ", stride " + std::to_string(opt.stride_) + ")");
  Generator seeds(opt.seed_);
  auto conv = [&](Index in, Index out, Index k, Index stride) {
    Conv2dOptions o = Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false);
    if (opt.has_seed_) o.seed(seeds.next_u64());
    return std::make_shared<Conv2d<T>>(o);
  };
  conv1_ = this->register_module("conv1", conv(opt.in_, opt.out_, 3, opt.stride_));
  bn1_ = this->register_module("bn1", std::make_shared<BatchNorm2d<T>>(opt.out_));
  conv2_ = this->register_module("conv2", conv(opt.out_, opt.out_, 3, 1));
  bn2_ = this->register_module("bn2", std::make_shared<BatchNorm2d<T>>(opt.out_));
  if (opt.stride_ != 1 || opt.in_ != opt.out_) {
    auto down = std::make_shared<Sequential<T>>();
    down->push_back(conv(opt.in_, opt.out_, 1, opt.stride_));
    down->push_back(std::make_shared<BatchNorm2d<T>>(opt.out_));
    downsample_ = this->register_module("downsample", down);
  }
}
ONESTONE_EXTERN_CLASS(NN, BasicBlock)

/// Options of `ResNet`: input channels, the width of each stage (the stem has the first
/// width), the number of basic blocks per stage, and a seed for the initial values.
///
/// Example: `ResNetOptions(3).widths({16, 32, 64}).blocks({1, 1, 1})`
struct ResNetOptions {
  explicit ResNetOptions(Index in_channels) : in_(in_channels) {}
  ResNetOptions& widths(std::vector<Index> w) {
    widths_ = std::move(w);
    return *this;
  }
  ResNetOptions& blocks(std::vector<Index> b) {
    blocks_ = std::move(b);
    return *this;
  }
  ResNetOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  Index in_;
  std::vector<Index> widths_{16, 32, 64};
  std::vector<Index> blocks_{1, 1, 1};
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// A small ResNet backbone (the CIFAR-style ResNet of He et al.): a stem conv3×3 ("conv1",
/// no bias) – BatchNorm ("bn1") – ReLU, then one stage per width ("layer1", "layer2", ...,
/// each a `Sequential` of `BasicBlock`s; every stage after the first halves the resolution).
/// `forward` returns the last feature map [N, output_channels(), H', W'] (add
/// `AdaptiveAvgPool2d(1)` and `Flatten` for a vector). Names follow torchvision:
/// "layer2.0.downsample.0.weight".
///
/// Example:
/// @code
/// onestone::nn::ResNet<float> net(onestone::nn::ResNetOptions(3).widths({16, 32, 64}));
/// auto f = net.forward(x);   // [N, 3, 32, 32] -> [N, 64, 8, 8]
/// @endcode
template <typename T>
class ResNet : public Module<T> {
 public:
  explicit ResNet(const ResNetOptions& opt);
  Var<T> forward(const Var<T>& x) override {
    Var<T> h = relu(bn1_->forward(conv1_->forward(x)));
    for (auto& s : stages_) h = s->forward(h);
    return h;
  }
  std::string name() const override { return "ResNet"; }
  /// Channels of the feature map `forward` returns (the last width).
  Index output_channels() const { return options_.widths_.back(); }
  const ResNetOptions& options() const { return options_; }

 private:
  ResNetOptions options_;
  std::shared_ptr<Conv2d<T>> conv1_;
  std::shared_ptr<BatchNorm2d<T>> bn1_;
  std::vector<std::shared_ptr<Sequential<T>>> stages_;
};

template <typename T>
ResNet<T>::ResNet(const ResNetOptions& opt) : options_(opt) {
  if (opt.in_ <= 0 || opt.widths_.empty() || opt.widths_.size() != opt.blocks_.size())
    throw std::invalid_argument(
        "ResNet: in_channels must be positive and widths and blocks non-empty and of equal "
        "length (got in_channels " +
        std::to_string(opt.in_) + ", " + std::to_string(opt.widths_.size()) + " widths, " +
        std::to_string(opt.blocks_.size()) + " block counts)");
  for (std::size_t k = 0; k < opt.widths_.size(); ++k)
    if (opt.widths_[k] <= 0 || opt.blocks_[k] <= 0)
      throw std::invalid_argument("ResNet: stage " + std::to_string(k + 1) + " has width " +
                                  std::to_string(opt.widths_[k]) + " and " +
                                  std::to_string(opt.blocks_[k]) +
                                  " blocks (both must be positive)");
  Generator seeds(opt.seed_);
  Conv2dOptions stem = Conv2dOptions(opt.in_, opt.widths_[0], 3).padding(1).bias(false);
  if (opt.has_seed_) stem.seed(seeds.next_u64());
  conv1_ = this->register_module("conv1", std::make_shared<Conv2d<T>>(stem));
  bn1_ = this->register_module("bn1", std::make_shared<BatchNorm2d<T>>(opt.widths_[0]));
  Index in = opt.widths_[0];
  for (std::size_t k = 0; k < opt.widths_.size(); ++k) {
    auto stage = std::make_shared<Sequential<T>>();
    for (Index b = 0; b < opt.blocks_[k]; ++b) {
      BasicBlockOptions bo(in, opt.widths_[k]);
      bo.stride(b == 0 && k > 0 ? 2 : 1);
      if (opt.has_seed_) bo.seed(seeds.next_u64());
      stage->push_back(std::make_shared<BasicBlock<T>>(bo));
      in = opt.widths_[k];
    }
    stages_.push_back(this->register_module("layer" + std::to_string(k + 1), stage));
  }
}
ONESTONE_EXTERN_CLASS(NN, ResNet)

}  // namespace nn
}  // namespace onestone
