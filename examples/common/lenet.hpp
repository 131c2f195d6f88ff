#pragma once
// The multi-task LeNet of Sener & Koltun (NeurIPS 2018) for MultiMNIST / MultiFashion, shared by
// the multi_fashion example and the vision benchmark: a shared convolutional trunk and one small
// MLP head per task.
#include <memory>
#include <onestone/onestone.hpp>
#include <string>

namespace examples {

/// The shared trunk: conv 5x5 (1→10), max-pool 2, ReLU, conv 5x5 (10→20), max-pool 2, ReLU,
/// FC 320→50, ReLU. Input [N, 1, 28, 28], output [N, 50].
template <typename T>
class LeNetTrunk : public onestone::nn::Module<T> {
 public:
  LeNetTrunk() {
    using namespace onestone;
    conv1_ = this->register_module("conv1",
                                   std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(1, 10, 5)));
    conv2_ = this->register_module("conv2",
                                   std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(10, 20, 5)));
    fc_ = this->register_module("fc", std::make_shared<nn::Linear<T>>(nn::LinearOptions(320, 50)));
  }
  onestone::Var<T> forward(const onestone::Var<T>& x) override {
    using namespace onestone;
    Var<T> h = relu(max_pool2d(conv1_->forward(x), Pool2dGeometry(2)));
    h = relu(max_pool2d(conv2_->forward(h), Pool2dGeometry(2)));
    return relu(fc_->forward(flatten(h, 1)));
  }
  std::string name() const override { return "LeNetTrunk"; }

 private:
  std::shared_ptr<onestone::nn::Conv2d<T>> conv1_, conv2_;
  std::shared_ptr<onestone::nn::Linear<T>> fc_;
};

/// The same trunk as MTAN (Liu et al. 2019) stages: stage 1 = conv 5x5 (1→10), max-pool 2, ReLU
/// ([N, 10, 12, 12]); stage 2 = conv 5x5 (10→20), max-pool 2, ReLU ([N, 20, 4, 4], a factor 3
/// below stage 1). Each task attends to both stages; its representation is [N, 20, 4, 4], so
/// the FC 320→50 layer moves into the heads (`make_lenet_mtan_head`).
template <typename T>
std::shared_ptr<onestone::sharing::ConvMTAN<T>> make_lenet_mtan(int tasks) {
  using namespace onestone;
  using L = std::initializer_list<std::shared_ptr<nn::Module<T>>>;
  auto stage = [](Index in, Index out) {
    return std::make_shared<nn::Sequential<T>>(
        L{std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(in, out, 5)),
          std::make_shared<nn::MaxPool2d<T>>(Pool2dGeometry(2)), std::make_shared<nn::ReLU<T>>()});
  };
  return std::make_shared<sharing::ConvMTAN<T>>(
      sharing::ConvMTANOptions<T>(tasks, 1).stage(stage(1, 10), 10).stage(stage(10, 20), 20, 3));
}

/// Cross-stitch networks (Misra et al. 2016) on the same stages: one LeNet tower per task (the
/// two conv stages of `make_lenet_mtan`), the towers' feature maps mixed after each stage by
/// learned cross-stitch units (one weight per task pair and channel when `per_channel`). Each
/// task's representation is [N, 20, 4, 4]; heads are `make_lenet_mtan_head`.
template <typename T>
std::shared_ptr<onestone::sharing::ConvCrossStitch<T>> make_lenet_cross_stitch(
    int tasks, bool per_channel = false) {
  using namespace onestone;
  using L = std::initializer_list<std::shared_ptr<nn::Module<T>>>;
  auto stage = [](Index in, Index out) {
    return [in, out]() -> std::shared_ptr<nn::Module<T>> {
      return std::make_shared<nn::Sequential<T>>(L{
          std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(in, out, 5)),
          std::make_shared<nn::MaxPool2d<T>>(Pool2dGeometry(2)), std::make_shared<nn::ReLU<T>>()});
    };
  };
  return std::make_shared<sharing::ConvCrossStitch<T>>(sharing::ConvCrossStitchOptions<T>(tasks)
                                                           .stage(stage(1, 10), 10)
                                                           .stage(stage(10, 20), 20)
                                                           .per_channel(per_channel));
}
/// The head of a task on the MTAN trunk: flatten, FC 320→50, ReLU, FC 50→50, ReLU, FC 50→classes.
template <typename T>
std::shared_ptr<onestone::nn::Module<T>> make_lenet_mtan_head(onestone::Index classes = 10) {
  using namespace onestone;
  return std::make_shared<nn::Sequential<T>>(std::initializer_list<std::shared_ptr<nn::Module<T>>>{
      std::make_shared<nn::Flatten<T>>(),
      std::make_shared<nn::MLP<T>>(nn::MLPOptions({320, 50, 50, classes}).activate_last(false))});
}

/// A task head: FC 50→50, ReLU, FC 50→classes.
template <typename T>
std::shared_ptr<onestone::nn::Module<T>> make_lenet_head(onestone::Index classes = 10) {
  using namespace onestone;
  return std::make_shared<nn::MLP<T>>(nn::MLPOptions({50, 50, classes}).activate_last(false));
}

}  // namespace examples
