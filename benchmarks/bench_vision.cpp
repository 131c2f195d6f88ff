// Vision benchmarks, onestone beside libtorch (its CPU convolutions use oneDNN) in one process:
// - LeNetStep: Sener & Koltun's multi-task LeNet (MultiFashion shapes: [256, 1, 28, 28], two
//   10-way heads), one full training step (forward, both losses, backward, Adam);
// - Conv3x3: one 3x3 convolution 64→64 channels, padding 1, on [32, 64, 32, 32], forward and
//   backward (gradients of input, weight and bias);
// - SceneStep: the scene_mtl example's model (3 conv-BN-ReLU blocks shared; heads: scene class,
//   box (L1 + IoU loss), per-pixel mask through bilinear upsampling) on synthetic scenes
//   [64, 3, 32, 32], one training step with equal weights and Adam.
// Arguments {batch, threads}. The Paired_* runs alternate the two systems every iteration and
// report the ratio of their summed times (immune to this machine's speed drift).
#include <chrono>

#include "../examples/common/lenet.hpp"
#include "../examples/common/scene_model.hpp"
#include "bench_common.hpp"

#ifdef ONESTONE_HAVE_TORCH
#include <torch/torch.h>
#endif

using namespace onestone;
using bench::paired;

namespace {

using bench::set_threads;

// ---- LeNet multi-task step ----------------------------------------------------------------
struct OnestoneLeNet {
  explicit OnestoneLeNet(Index batch) {
    manual_seed(1);
    model_ = std::make_unique<MultiTaskModel<float>>(std::make_shared<sharing::HardSharing<float>>(
        std::make_shared<examples::LeNetTrunk<float>>(), 50));
    for (const char* t : {"left", "right"})
      model_->add_task(TaskOptions<float>(t)
                           .head(examples::make_lenet_head<float>())
                           .loss(LossKind::CrossEntropy));
    opt_ = std::make_unique<optim::Adam<float>>(model_->parameters(), optim::AdamOptions(1e-3));
    step_ = std::make_unique<train::TrainStep<float>>(*model_, *opt_);
    Generator g(3);
    Tensor<float> x(Shape{batch, 1, 28, 28});
    for (Index i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(g.uniform());
    data_ = std::make_unique<data::Dataset<float>>(std::move(x));
    for (const char* t : {"left", "right"}) {
      Tensor<std::int64_t> y(Shape{batch});
      for (Index i = 0; i < batch; ++i) y[i] = static_cast<std::int64_t>(g.below(10));
      data_->add_classification(t, std::move(y), 10);
    }
    std::vector<Index> idx(static_cast<std::size_t>(batch));
    for (Index i = 0; i < batch; ++i) idx[static_cast<std::size_t>(i)] = i;
    data_->gather(idx.data(), batch, batch_);
  }
  double step() { return (*step_)(batch_).total; }
  std::unique_ptr<MultiTaskModel<float>> model_;
  std::unique_ptr<optim::Adam<float>> opt_;
  std::unique_ptr<train::TrainStep<float>> step_;
  std::unique_ptr<data::Dataset<float>> data_;
  data::Batch<float> batch_;
};

void BM_Onestone_LeNetStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneLeNet s(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
  bench::report_allocs(state, [&] { s.step(); });
}
BENCHMARK(BM_Onestone_LeNetStep)->Args({256, 1})->Args({256, 2})->Unit(benchmark::kMillisecond);

// ---- 3x3 convolution, forward and backward ----------------------------------------------------
struct OnestoneConv {
  OnestoneConv(Index batch, Index channels, Index side)
      : conv_(nn::Conv2dOptions(channels, channels, 3).padding(1)),
        x_(Shape{batch, channels, side, side}),
        params_(conv_.parameters()) {
    Generator g(5);
    for (Index i = 0; i < x_.numel(); ++i) x_[i] = static_cast<float>(g.normal());
  }
  float run() {
    auto& tape = autograd::Tape<float>::current();
    tape.reset();
    for (auto* p : params_) p->zero_grad();
    Var<float> x = Var<float>::variable(x_, true);
    Var<float> l = sum(conv_.forward(x));
    l.backward();
    return x.grad_view()(0, 0);
  }
  nn::Conv2d<float> conv_;
  Tensor<float> x_;
  std::vector<nn::Parameter<float>*> params_;
};

void BM_Onestone_Conv3x3(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneConv c(state.range(0), 64, 32);
  for (auto _ : state) benchmark::DoNotOptimize(c.run());
  bench::report_allocs(state, [&] { c.run(); });
}
BENCHMARK(BM_Onestone_Conv3x3)->Args({32, 1})->Args({32, 2})->Unit(benchmark::kMillisecond);

// ---- the scene model's training step -------------------------------------------------------
const char* const kSceneTasks[] = {"scene", "box", "mask"};

struct OnestoneScene {
  explicit OnestoneScene(Index batch)
      : data_(data::make_synthetic_scenes<float>(data::SceneOptions().samples(batch).seed(7))) {
    manual_seed(1);
    model_ = std::make_unique<MultiTaskModel<float>>(
        std::make_shared<sharing::HardSharing<float>>(examples::make_scene_backbone<float>(), 32));
    for (const char* t : kSceneTasks) model_->add_task(examples::scene_task<float>(t));
    opt_ = std::make_unique<optim::Adam<float>>(model_->parameters(), optim::AdamOptions(1e-3));
    step_ = std::make_unique<train::TrainStep<float>>(*model_, *opt_);
    std::vector<Index> idx(static_cast<std::size_t>(batch));
    for (Index i = 0; i < batch; ++i) idx[static_cast<std::size_t>(i)] = i;
    data_.gather(idx.data(), batch, batch_);
  }
  double step() { return (*step_)(batch_).total; }
  data::Dataset<float> data_;
  std::unique_ptr<MultiTaskModel<float>> model_;
  std::unique_ptr<optim::Adam<float>> opt_;
  std::unique_ptr<train::TrainStep<float>> step_;
  data::Batch<float> batch_;
};

void BM_Onestone_SceneStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneScene s(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
  bench::report_allocs(state, [&] { s.step(); });
}
BENCHMARK(BM_Onestone_SceneStep)->Args({64, 1})->Args({64, 2})->Unit(benchmark::kMillisecond);

#ifdef ONESTONE_HAVE_TORCH
struct TorchLeNet : torch::nn::Module {
  TorchLeNet()
      : conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 10, 5)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(10, 20, 5)))),
        fc(register_module("fc", torch::nn::Linear(320, 50))),
        l1(register_module("l1", torch::nn::Linear(50, 50))),
        l2(register_module("l2", torch::nn::Linear(50, 10))),
        r1(register_module("r1", torch::nn::Linear(50, 50))),
        r2(register_module("r2", torch::nn::Linear(50, 10))) {}
  torch::nn::Conv2d conv1, conv2;
  torch::nn::Linear fc, l1, l2, r1, r2;
};

struct TorchLeNetStep {
  explicit TorchLeNetStep(Index batch) {
    torch::manual_seed(1);
    net = std::make_shared<TorchLeNet>();
    opt = std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(1e-3));
    x = torch::rand({batch, 1, 28, 28});
    y1 = torch::randint(10, {batch}, torch::kLong);
    y2 = torch::randint(10, {batch}, torch::kLong);
  }
  float step() {
    namespace F = torch::nn::functional;
    opt->zero_grad();
    auto h = torch::relu(F::max_pool2d(net->conv1(x), F::MaxPool2dFuncOptions(2)));
    h = torch::relu(F::max_pool2d(net->conv2(h), F::MaxPool2dFuncOptions(2)));
    auto z = torch::relu(net->fc(h.flatten(1)));
    auto loss = F::cross_entropy(net->l2(torch::relu(net->l1(z))), y1) +
                F::cross_entropy(net->r2(torch::relu(net->r1(z))), y2);
    loss.backward();
    opt->step();
    return loss.item<float>();
  }
  std::shared_ptr<TorchLeNet> net;
  std::unique_ptr<torch::optim::Adam> opt;
  torch::Tensor x, y1, y2;
};

void BM_Torch_LeNetStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  TorchLeNetStep s(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
}
BENCHMARK(BM_Torch_LeNetStep)->Args({256, 1})->Args({256, 2})->Unit(benchmark::kMillisecond);

struct TorchConv {
  TorchConv(Index batch, Index channels, Index side)
      : conv(torch::nn::Conv2dOptions(channels, channels, 3).padding(1)) {
    torch::manual_seed(5);
    x = torch::randn({batch, channels, side, side}).requires_grad_(true);
  }
  float run() {
    conv->zero_grad();
    x.mutable_grad() = torch::Tensor();
    conv(x).sum().backward();
    return x.grad()[0][0][0][0].item<float>();
  }
  torch::nn::Conv2d conv;
  torch::Tensor x;
};

void BM_Torch_Conv3x3(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  TorchConv c(state.range(0), 64, 32);
  for (auto _ : state) benchmark::DoNotOptimize(c.run());
}
BENCHMARK(BM_Torch_Conv3x3)->Args({32, 1})->Args({32, 2})->Unit(benchmark::kMillisecond);

// The scene model in libtorch, layer for layer (conv 3x3 without bias, BatchNorm, ReLU; the
// same heads and losses; box IoU loss with the same eps).
// conv 3x3 (no bias) → BatchNorm → ReLU, appended to `s` (libtorch's Sequential cannot nest).
void add_cbr(torch::nn::Sequential& s, int64_t in, int64_t out, int64_t stride) {
  s->push_back(torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  s->push_back(torch::nn::BatchNorm2d(out));
  s->push_back(torch::nn::ReLU());
}

struct TorchSceneStep {
  explicit TorchSceneStep(Index batch) {
    torch::manual_seed(1);
    const auto ds = data::make_synthetic_scenes<float>(data::SceneOptions().samples(batch).seed(7));
    x = torch::from_blob(const_cast<float*>(ds.inputs().data()), {batch, 3, 32, 32}).clone();
    scene = torch::from_blob(const_cast<std::int64_t*>(ds.target("scene").labels.data()), {batch},
                             torch::kLong)
                .clone();
    box = torch::from_blob(const_cast<float*>(ds.target("box").values.data()), {batch, 4}).clone();
    mask = torch::from_blob(const_cast<std::int64_t*>(ds.target("mask").labels.data()),
                            {batch, 32, 32}, torch::kLong)
               .clone();
    add_cbr(net, 3, 16, 1);
    add_cbr(net, 16, 32, 2);
    add_cbr(net, 32, 32, 1);
    scene_head->push_back(torch::nn::AdaptiveAvgPool2d(1));
    scene_head->push_back(torch::nn::Flatten());
    scene_head->push_back(torch::nn::Linear(32, 3));
    add_cbr(box_head, 32, 16, 2);
    box_head->push_back(torch::nn::Flatten());
    box_head->push_back(torch::nn::Linear(16 * 8 * 8, 4));
    box_head->push_back(torch::nn::Sigmoid());
    add_cbr(mask_head, 32, 16, 1);
    mask_head->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(16, 4, 1)));
    mask_head->push_back(torch::nn::Upsample(torch::nn::UpsampleOptions()
                                                 .scale_factor(std::vector<double>{2, 2})
                                                 .mode(torch::kBilinear)
                                                 .align_corners(false)));
    std::vector<torch::Tensor> params;
    for (auto* m : {&net, &scene_head, &box_head, &mask_head})
      for (const auto& p : (*m)->parameters()) params.push_back(p);
    opt = std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(1e-3));
  }
  float step() {
    namespace F = torch::nn::functional;
    opt->zero_grad();
    auto h = net->forward(x);
    auto p = box_head->forward(h);
    // 1 − IoU of (x1, y1, x2, y2) boxes, mean over the batch, as losses::box_iou_loss.
    auto w = [](const torch::Tensor& b, int a, int c) {
      return (b.select(1, c) - b.select(1, a)).clamp_min(0);
    };
    auto iw = (torch::min(p.select(1, 2), box.select(1, 2)) -
               torch::max(p.select(1, 0), box.select(1, 0)))
                  .clamp_min(0);
    auto ih = (torch::min(p.select(1, 3), box.select(1, 3)) -
               torch::max(p.select(1, 1), box.select(1, 1)))
                  .clamp_min(0);
    auto inter = iw * ih;
    auto uni = w(p, 0, 2) * w(p, 1, 3) + w(box, 0, 2) * w(box, 1, 3) - inter + 1e-7;
    auto loss = F::cross_entropy(scene_head->forward(h), scene) + F::l1_loss(p, box) +
                (1 - inter / uni).mean() + F::cross_entropy(mask_head->forward(h), mask);
    loss.backward();
    opt->step();
    return loss.item<float>();
  }
  torch::nn::Sequential net, scene_head, box_head, mask_head;
  std::unique_ptr<torch::optim::Adam> opt;
  torch::Tensor x, scene, box, mask;
};

void BM_Torch_SceneStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  TorchSceneStep s(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
}
BENCHMARK(BM_Torch_SceneStep)->Args({64, 1})->Args({64, 2})->Unit(benchmark::kMillisecond);

// ---- paired ---------------------------------------------------------------------------------
void BM_Paired_LeNetStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneLeNet a(state.range(0));
  TorchLeNetStep b(state.range(0));
  paired(
      state, [&] { benchmark::DoNotOptimize(a.step()); },
      [&] { benchmark::DoNotOptimize(b.step()); });
}
BENCHMARK(BM_Paired_LeNetStep)
    ->Args({256, 1})
    ->Args({256, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_Paired_Conv3x3(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneConv a(state.range(0), 64, 32);
  TorchConv b(state.range(0), 64, 32);
  paired(
      state, [&] { benchmark::DoNotOptimize(a.run()); },
      [&] { benchmark::DoNotOptimize(b.run()); });
}
BENCHMARK(BM_Paired_Conv3x3)
    ->Args({32, 1})
    ->Args({32, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_Paired_SceneStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneScene a(state.range(0));
  TorchSceneStep b(state.range(0));
  paired(
      state, [&] { benchmark::DoNotOptimize(a.step()); },
      [&] { benchmark::DoNotOptimize(b.step()); });
}
BENCHMARK(BM_Paired_SceneStep)
    ->Args({64, 1})
    ->Args({64, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK_MAIN();
