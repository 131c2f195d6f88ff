// Counts heap allocations in steady-state training steps. This file replaces the global
// operator new and interposes malloc (glibc), so it builds into its own test executable.
#include <catch2/catch.hpp>

// Our operator new forwards to malloc, so free() in operator delete is the matching call.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "../../examples/common/lenet.hpp"
#include "../../examples/common/scene_model.hpp"
#include "../../examples/common/strategies.hpp"
#include "../../examples/common/text_model.hpp"
#include "../common/alloc_counter.hpp"
#include "onestone/onestone.hpp"
#include "onestone/weighting/registry.hpp"

using namespace onestone;

namespace {
struct Counts {
  long news = 0, mallocs = 0;
};
template <typename Step>
Counts count_allocations(Step&& step, int warmup, int measured) {
  for (int i = 0; i < warmup; ++i) step();
  g_news = 0;
  g_mallocs = 0;
  g_counting = true;
  for (int i = 0; i < measured; ++i) step();
  g_counting = false;
  return Counts{g_news, g_mallocs};
}

// A small 3-task regression set (the MMoE generator) and a model built with `strategy`.
data::Dataset<double> small_data() {
  return data::make_mmoe_synthetic<double>(
      data::SyntheticOptions().samples(64).dim(8).num_tasks(3).correlation(0.5).seed(3));
}
std::unique_ptr<MultiTaskModel<double>> small_model(const std::string& strategy) {
  manual_seed(4);
  auto m =
      std::make_unique<MultiTaskModel<double>>(examples::make_strategy<double>(strategy, 3, 8, 16));
  for (int t = 0; t < 3; ++t)
    m->add_task(TaskOptions<double>("task" + std::to_string(t))
                    .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(16, 1)))
                    .loss(LossKind::MSE));
  return m;
}
// Steps over full batches of 16 (drop_last: every Jacobian has the same width).
Counts count_model_steps(MultiTaskModel<double>& model, const data::Dataset<double>& ds) {
  optim::Adam<double> opt(model.parameters(), optim::AdamOptions(1e-3));
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(16).drop_last(true).seed(5));
  data::Batch<double> batch;
  train::TrainStep<double> train_step(model, opt);
  auto step = [&] {
    if (!loader.next(batch)) {
      loader.start_epoch();
      loader.next(batch);
    }
    train_step(batch);
  };
  return count_allocations(step, 6, 8);
}

// No operator new and (where counted) no malloc: onestone drives Eigen's GEMM kernels with
// workspace that stays allocated. Under AddressSanitizer only malloc-free code is checked.
void check_none(const Counts& c, const std::string& what) {
  INFO(what << ": operator new calls " << c.news << ", malloc calls " << c.mallocs);
#if !defined(__SANITIZE_ADDRESS__)
  CHECK(c.news == 0);
#endif
  if (ONESTONE_COUNT_MALLOC) CHECK(c.mallocs == 0);
}

template <typename Step>
void expect_no_allocations(Step&& step, int warmup, int measured) {
#if defined(__SANITIZE_ADDRESS__)
  WARN("allocation counting is off under AddressSanitizer");
#endif
  check_none(count_allocations(step, warmup, measured), "steady-state step");
}
// One training step on the loader's next batch (a new epoch when the last one is used up).
void step_on_next_batch(data::DataLoader<float>& loader, data::Batch<float>& batch,
                        train::TrainStep<float>& step) {
  if (!loader.next(batch)) {
    loader.start_epoch();
    loader.next(batch);
  }
  step(batch);
}
}  // namespace

TEST_CASE("a steady-state hard-sharing training step allocates nothing", "[perf][alloc]") {
  Generator g(1);
  const Index n = 512;
  Tensor<float> x({n, 784});
  Tensor<std::int64_t> y1({n}), y2({n});
  for (Index i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(g.uniform());
  for (Index i = 0; i < n; ++i) {
    y1[i] = static_cast<std::int64_t>(g.below(10));
    y2[i] = static_cast<std::int64_t>(g.below(10));
  }
  data::Dataset<float> ds(std::move(x));
  ds.add_classification("a", std::move(y1), 10).add_classification("b", std::move(y2), 10);

  auto trunk =
      std::make_shared<nn::MLP<float>>(nn::MLPOptions({784, 256, 256}).dropout(0.1).seed(1));
  MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, 256));
  for (const char* name : {"a", "b"})
    model.add_task(TaskOptions<float>(name).head(
        std::make_shared<nn::Linear<float>>(nn::LinearOptions(256, 10))));
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
  data::DataLoader<float> loader(ds, data::LoaderOptions().batch_size(128).seed(2));
  data::Batch<float> batch;
  train::TrainStep<float> train_step(model, opt);
  expect_no_allocations([&] { step_on_next_batch(loader, batch, train_step); }, 6, 12);
}

TEST_CASE("a steady-state step of a convolutional multi-task model allocates nothing",
          "[perf][alloc]") {
  // scene_mtl's model: conv + BatchNorm backbone, pooled classifier, box head with the IoU loss,
  // per-pixel segmentation through bilinear upsampling; equal weighting and a gradient method
  // on the 4-D shared representation.
  for (const char* method : {"", "pcgrad"}) {
    INFO("method " << (*method ? method : "equal"));
    manual_seed(3);
    const auto ds = data::make_synthetic_scenes<float>(data::SceneOptions().samples(64).seed(1));
    MultiTaskModel<float> model(
        std::make_shared<sharing::HardSharing<float>>(examples::make_scene_backbone<float>(), 32));
    for (const char* t : {"scene", "box", "mask"}) model.add_task(examples::scene_task<float>(t));
    if (*method) model.set_balancer(weighting::make_balancer<float>(method));
    optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
    data::DataLoader<float> loader(ds, data::LoaderOptions().batch_size(16).seed(2));
    data::Batch<float> batch;
    train::TrainStep<float> train_step(model, opt);
    expect_no_allocations([&] { step_on_next_batch(loader, batch, train_step); }, 6, 8);
  }
}

TEST_CASE("a steady-state step of MTAN on a conv encoder allocates nothing", "[perf][alloc]") {
  // (and of cross-stitch units between conv towers, per channel)
  // multi_fashion's MTAN model (two conv stages, per-task attention, BatchNorm in the attention
  // modules), with equal weighting and with PCGrad on the trunk's parameter gradients.
  Generator g(4);
  Tensor<float> x({64, 1, 28, 28});
  for (Index i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(g.uniform());
  Tensor<std::int64_t> y1({64}), y2({64});
  for (Index i = 0; i < 64; ++i) {
    y1[i] = static_cast<std::int64_t>(g.below(10));
    y2[i] = static_cast<std::int64_t>(g.below(10));
  }
  data::Dataset<float> ds(std::move(x));
  ds.add_classification("left", std::move(y1), 10).add_classification("right", std::move(y2), 10);
  for (const char* method : {"", "pcgrad", "cross_stitch"}) {
    INFO("method " << (*method ? method : "equal"));
    manual_seed(3);
    const bool stitch = std::string(method) == "cross_stitch";
    if (stitch) method = "";
    std::shared_ptr<sharing::SharingStrategy<float>> strategy;
    if (stitch)
      strategy = examples::make_lenet_cross_stitch<float>(2, /*per_channel=*/true);
    else
      strategy = examples::make_lenet_mtan<float>(2);
    MultiTaskModel<float> model(strategy);
    for (const char* t : {"left", "right"})
      model.add_task(TaskOptions<float>(t).head(examples::make_lenet_mtan_head<float>()));
    if (*method)
      model.set_balancer(weighting::make_balancer<float>(method),
                         weighting::GradientSource::Parameters);
    optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
    data::DataLoader<float> loader(ds, data::LoaderOptions().batch_size(16).seed(2));
    data::Batch<float> batch;
    train::TrainStep<float> train_step(model, opt);
    expect_no_allocations([&] { step_on_next_batch(loader, batch, train_step); }, 6, 8);
  }
}

TEST_CASE("a steady-state step of a Transformer text model allocates nothing", "[perf][alloc]") {
  // text_mtl's model on a fixed batch shape: embedding with padding, learned positions, two
  // pre-norm layers with padding masks and dropout, a pooled sentence head and a token (NER)
  // head; equal weighting and PCGrad on the token representation.
  const auto corpus =
      data::make_synthetic_text<float>(data::SyntheticTextOptions().samples(64).seed(2));
  for (const char* method : {"", "pcgrad"}) {
    INFO("method " << (*method ? method : "equal"));
    manual_seed(3);
    auto enc = examples::make_text_encoder<float>(corpus.vocabulary.size(), 32, 32, 4, 2, 1);
    MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(enc, 32, -1));
    model.add_task(examples::text_task<float>("topic", false, corpus.topic_names, 32, *enc));
    model.add_task(examples::text_task<float>("ner", true, corpus.tag_names, 32, *enc));
    if (*method) model.set_balancer(weighting::make_balancer<float>(method));
    optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
    data::DataLoader<float> loader(corpus.dataset, data::LoaderOptions().batch_size(16).seed(2));
    data::Batch<float> batch;
    train::TrainStep<float> train_step(model, opt);
    expect_no_allocations([&] { step_on_next_batch(loader, batch, train_step); }, 6, 8);
  }
}

TEST_CASE("a steady-state user-written loop allocates nothing", "[perf][alloc]") {
  nn::Linear<double> fc(nn::LinearOptions(16, 4));
  nn::LayerNorm<double> ln(4);
  optim::SGD<double> opt(fc.parameters(), optim::SGDOptions(0.01).momentum(0.9));
  Tensor<double> x = Tensor<double>::full(Shape{8, 16}, 0.5);
  Tensor<double> t = Tensor<double>::full(Shape{8, 4}, 1.0);
  auto step = [&] {
    opt.zero_grad();
    auto h = ln.forward(gelu(fc.forward(Var<double>::from(x))));
    auto loss = losses::mse_loss(softmax(h) * 2.0 + h, t);
    loss.backward();
    opt.step();
  };
  expect_no_allocations(step, 3, 10);
}

TEST_CASE("a steady-state step of N-d operations allocates nothing", "[perf][alloc]") {
  // An attention-like block over [B, T, D] with every family of N-d operation: batched and
  // transposed products, permute, masked_fill, softmax along an axis, broadcasting, reductions
  // along axes, cat / narrow / stack / index_select / gather / expand / where.
  const Index B = 4, Tn = 6, D = 8, H = 2;
  nn::Linear<float> qkv(nn::LinearOptions(D, 3 * D).seed(1));
  nn::Linear<float> out(nn::LinearOptions(D, 3).seed(2));
  optim::Adam<float> opt(
      {qkv.parameters()[0], qkv.parameters()[1], out.parameters()[0], out.parameters()[1]},
      optim::AdamOptions(1e-3));
  Tensor<float> x({B, Tn, D});
  Generator g(3);
  for (Index k = 0; k < x.numel(); ++k) x[k] = static_cast<float>(g.normal());
  Mask pad({B, 1, 1, Tn});
  for (Index b = 0; b < B; ++b) pad[b * Tn + Tn - 1 - b % 2] = 1;
  Mask keep({B, Tn, 1});
  for (Index k = 0; k < keep.numel(); ++k) keep[k] = static_cast<std::uint8_t>(k % 3 != 0);
  Tensor<Index> labels({B, Tn});
  for (Index k = 0; k < labels.numel(); ++k) labels[k] = k % 3;
  Tensor<Index> pick = Tensor<Index>::from({0, 2, 5}, {3});
  Tensor<Index> gi({B, 1, D});
  Tensor<float> scale = Tensor<float>::full({1, 1, D}, 0.5f);
  auto step = [&] {
    opt.zero_grad();
    Var<float> h = qkv.forward(Var<float>::from(x));  // [B, T, 3D]
    auto parts = chunk(h, 3, -1);                     // q, k, v [B, T, D]
    auto heads = [&](const Var<float>& v) {           // [B, H, T, D/H]
      return permute(reshape(v, {B, Tn, H, D / H}), {0, 2, 1, 3});
    };
    Var<float> q = heads(parts[0]), k = heads(parts[1]), v = heads(parts[2]);
    Var<float> s = masked_fill(matmul(q, k, Transpose::B) * 0.5f, pad, -1e9f);
    Var<float> a = matmul(softmax(s, -1), v);  // [B, H, T, D/H]
    Var<float> m = reshape(transpose(a, 1, 2), {B, Tn, D});
    m = m * Var<float>::from(scale) +
        maximum(m, cat({narrow(m, 2, 0, D / 2), narrow(m, 2, D / 2, D / 2)}, 2));
    m = where(keep, m, expand(mean(m, 1, true), Shape{B, Tn, D}));
    Var<float> logits = permute(out.forward(m), {0, 2, 1});  // [B, 3, T]
    Var<float> loss = losses::cross_entropy(logits, labels) +
                      mean(logsumexp(index_select(m, 1, pick), -1)) +
                      0.1f * sum(max(stack({m, m * 2.0f}, 0), 0)) * 1e-3f + mean(gather(m, 1, gi)) +
                      mean(clamp(sum(m, 2), -1.0f, 1.0f));
    loss.backward();
    opt.step();
  };
  expect_no_allocations(step, 3, 10);
}

TEST_CASE("a steady-state step allocates nothing for every sharing strategy", "[perf][alloc]") {
  const auto ds = small_data();
  for (const auto& name : examples::strategy_names()) {
    auto model = small_model(name);
    const Counts c = count_model_steps(*model, ds);
    check_none(c, name);
  }
}

TEST_CASE("a steady-state step allocates nothing for every balancing method", "[perf][alloc]") {
  const auto ds = small_data();
  for (const auto& name : weighting::balancer_names()) {
    for (auto src :
         {weighting::GradientSource::Representation, weighting::GradientSource::Parameters}) {
      auto b = weighting::make_balancer<double>(name);
      if (src == weighting::GradientSource::Parameters && !b->needs_gradients()) continue;
      if (src == weighting::GradientSource::Representation && !b->supports_representation())
        continue;
      auto model = small_model("hard");
      model->set_balancer(b, src);
      const Counts c = count_model_steps(*model, ds);
      check_none(c, name + (src == weighting::GradientSource::Representation ? " (representation)"
                                                                             : " (parameters)"));
    }
  }
}

TEST_CASE("gradient methods allocate nothing on a wide 8-task Jacobian", "[perf][alloc]") {
  // 8 tasks x 65536 coordinates (a batch of 256 x 256 units): temporaries of this size would
  // exceed Eigen's stack limit and go to the heap.
  Generator g(7);
  weighting::Jacobian<float> J(8, 65536);
  for (Eigen::Index i = 0; i < J.size(); ++i) J.data()[i] = static_cast<float>(g.normal());
  weighting::Vector<float> losses = weighting::Vector<float>::LinSpaced(8, 1.0f, 2.0f), d;
  for (const auto& name : weighting::balancer_names()) {
    auto b = weighting::make_balancer<float>(name);
    if (!b->needs_gradients()) continue;
    b->reset(8);
    int k = 0;
    const Counts c = count_allocations(
        [&] {
          J.row(k++ % 8) *= -1.0f;  // a different Jacobian each step
          b->combine_gradients(J, losses, d);
        },
        4, 4);
    check_none(c, name);
  }
}
