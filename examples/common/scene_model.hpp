#pragma once
// The convolutional multi-task model of the scene_mtl example (classification + box regression +
// segmentation on synthetic scenes), shared by the example, the allocation test and the vision
// benchmark.
#include <memory>
#include <onestone/onestone.hpp>
#include <string>

namespace examples {

/// conv 3x3 (no bias) → BatchNorm → ReLU.
template <typename T>
std::shared_ptr<onestone::nn::Module<T>> conv_bn_relu(onestone::Index in, onestone::Index out,
                                                      onestone::Index stride) {
  using namespace onestone;
  return std::make_shared<nn::Sequential<T>>(std::initializer_list<std::shared_ptr<nn::Module<T>>>{
      std::make_shared<nn::Conv2d<T>>(
          nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)),
      std::make_shared<nn::BatchNorm2d<T>>(out), std::make_shared<nn::ReLU<T>>()});
}

/// The shared backbone: [N, 3, 32, 32] → [N, 32, 16, 16].
template <typename T>
std::shared_ptr<onestone::nn::Module<T>> make_scene_backbone() {
  using namespace onestone;
  return std::make_shared<nn::Sequential<T>>(std::initializer_list<std::shared_ptr<nn::Module<T>>>{
      conv_bn_relu<T>(3, 16, 1), conv_bn_relu<T>(16, 32, 2), conv_bn_relu<T>(32, 32, 1)});
}

/// The head of task "scene" (global average pooling, linear classifier), "box" (a strided conv,
/// the four coordinates through a sigmoid) or "mask" (per-pixel logits at half resolution,
/// upsampled bilinearly to the image).
template <typename T>
std::shared_ptr<onestone::nn::Module<T>> make_scene_head(const std::string& task) {
  using namespace onestone;
  using L = std::initializer_list<std::shared_ptr<nn::Module<T>>>;
  if (task == "scene")
    return std::make_shared<nn::Sequential<T>>(
        L{std::make_shared<nn::AdaptiveAvgPool2d<T>>(1), std::make_shared<nn::Flatten<T>>(),
          std::make_shared<nn::Linear<T>>(nn::LinearOptions(32, 3))});
  if (task == "box")
    return std::make_shared<nn::Sequential<T>>(
        L{conv_bn_relu<T>(32, 16, 2), std::make_shared<nn::Flatten<T>>(),
          std::make_shared<nn::Linear<T>>(nn::LinearOptions(16 * 8 * 8, 4)),
          std::make_shared<nn::Sigmoid<T>>()});
  return std::make_shared<nn::Sequential<T>>(
      L{conv_bn_relu<T>(32, 16, 1), std::make_shared<nn::Conv2d<T>>(nn::Conv2dOptions(16, 4, 1)),
        std::make_shared<nn::Upsample<T>>(
            UpsampleOptions().scale_factor(2).mode(UpsampleMode::Bilinear))});
}

/// The task: its head, its loss (cross entropy; for "box" L1 + IoU loss) and its metrics
/// (accuracy; box IoU and MAE; mIoU and pixel accuracy).
template <typename T>
onestone::TaskOptions<T> scene_task(const std::string& task) {
  using namespace onestone;
  TaskOptions<T> t(task);
  t.head(make_scene_head<T>(task));
  if (task == "box") {
    t.loss([](const Var<T>& p, const data::Target<T>& y) {
       losses::LossOptions<T> opt;
       if (y.weighted()) opt.sample_weight(y.weight);
       return losses::l1_loss(p, Var<T>::from(y.values, p.tape()), opt) +
              losses::box_iou_loss(p, y.values, opt);
     })
        .metric(std::make_shared<metrics::BoxMetrics<T>>())
        .metric(std::make_shared<metrics::RegressionMetrics<T>>())
        .primary_metric("box_iou");
  } else {
    t.loss(LossKind::CrossEntropy);
    if (task == "mask")
      t.metric(std::make_shared<metrics::SegmentationMetrics<T>>()).primary_metric("miou");
  }
  return t;
}

}  // namespace examples
