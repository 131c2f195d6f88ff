// Text benchmark, onestone beside libtorch in one process: one training step of a Transformer
// encoder layer (PyTorch's defaults: post-norm, ReLU, dropout 0.1) at batch 32, length 64,
// width 128, 4 heads, feed-forward 512, with a key padding mask (a quarter of each sequence
// padded): forward, a weighted-sum loss, backward, Adam. Arguments {batch, threads}. The
// Paired_* run alternates the two systems every iteration and reports the ratio of their summed
// times (immune to this machine's speed drift).
#include "bench_common.hpp"
#include "onestone/nn/transformer.hpp"

#ifdef ONESTONE_HAVE_TORCH
#include <torch/torch.h>
#endif

using namespace onestone;
using bench::paired;

namespace {

constexpr Index kLen = 64, kWidth = 128, kHeads = 4, kFF = 512;

using bench::set_threads;

struct OnestoneLayer {
  explicit OnestoneLayer(Index batch)
      : layer(nn::TransformerEncoderLayerOptions(kWidth, kHeads)
                  .dim_feedforward(kFF)
                  .dropout(0.1)
                  .seed(1)),
        x(Shape{batch, kLen, kWidth}),
        c(Shape{batch, kLen, kWidth}),
        pad(Shape{batch, kLen}) {
    Generator g(3);
    for (Index i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(g.normal());
    for (Index i = 0; i < c.numel(); ++i) c[i] = static_cast<float>(g.uniform(-1, 1));
    for (Index b = 0; b < batch; ++b)
      for (Index l = 0; l < kLen; ++l) pad.data()[b * kLen + l] = l >= kLen - kLen / 4 ? 1 : 0;
    std::vector<nn::Parameter<float>*> ps;
    for (auto& p : layer.named_parameters()) ps.push_back(p.second);
    opt = std::make_unique<optim::Adam<float>>(ps, optim::AdamOptions(1e-4));
    layer.train();
  }
  float step() {
    GraphScope<float> scope;
    opt->zero_grad();
    Var<float> y = layer.forward(Var<float>::from(x), &pad);
    Var<float> loss = sum(y * Var<float>::from(c));
    loss.backward();
    opt->step();
    return loss.item();
  }
  nn::TransformerEncoderLayer<float> layer;
  Tensor<float> x, c;
  Mask pad;
  std::unique_ptr<optim::Adam<float>> opt;
};

void BM_Onestone_TransformerLayerStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneLayer s(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
  bench::report_allocs(state, [&] { s.step(); });
}
BENCHMARK(BM_Onestone_TransformerLayerStep)
    ->Args({32, 1})
    ->Args({32, 2})
    ->Unit(benchmark::kMillisecond);

#ifdef ONESTONE_HAVE_TORCH
struct TorchLayer {
  explicit TorchLayer(Index batch)
      : layer(torch::nn::TransformerEncoderLayerOptions(kWidth, kHeads)
                  .dim_feedforward(kFF)
                  .dropout(0.1)) {
    torch::manual_seed(1);
    // libtorch's layer takes [L, B, E] (no batch_first in the C++ API).
    x = torch::randn({kLen, batch, kWidth});
    c = torch::rand({kLen, batch, kWidth}) * 2 - 1;
    pad = torch::zeros({batch, kLen}, torch::kBool);
    pad.index_put_(
        {torch::indexing::Slice(), torch::indexing::Slice(kLen - kLen / 4, torch::indexing::None)},
        true);
    opt =
        std::make_unique<torch::optim::Adam>(layer->parameters(), torch::optim::AdamOptions(1e-4));
    layer->train();
  }
  float step() {
    opt->zero_grad();
    auto y = layer(x, /*src_mask=*/torch::Tensor(), /*src_key_padding_mask=*/pad);
    auto loss = (y * c).sum();
    loss.backward();
    opt->step();
    return loss.item<float>();
  }
  torch::nn::TransformerEncoderLayer layer;
  torch::Tensor x, c, pad;
  std::unique_ptr<torch::optim::Adam> opt;
};

void BM_Torch_TransformerLayerStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  TorchLayer s(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(s.step());
}
BENCHMARK(BM_Torch_TransformerLayerStep)
    ->Args({32, 1})
    ->Args({32, 2})
    ->Unit(benchmark::kMillisecond);

void BM_Paired_TransformerLayerStep(benchmark::State& state) {
  set_threads(static_cast<int>(state.range(1)));
  OnestoneLayer a(state.range(0));
  TorchLayer b(state.range(0));
  paired(
      state, [&] { benchmark::DoNotOptimize(a.step()); },
      [&] { benchmark::DoNotOptimize(b.step()); });
}
BENCHMARK(BM_Paired_TransformerLayerStep)
    ->Args({32, 1})
    ->Args({32, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
#endif

}  // namespace

BENCHMARK_MAIN();
