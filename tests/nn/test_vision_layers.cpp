// Vision layers: BatchNorm1d / BatchNorm2d (train vs eval, running statistics, buffers in
// state dicts and checkpoints), Dropout2d, AdaptiveAvgPool2d, Flatten, Upsample,
// ConvTranspose2d, and the ResNet BasicBlock and backbone (shapes, PyTorch-like names,
// finite-difference gradients in double).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "../common/filled.hpp"
#include "../common/module_gradcheck.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_nn_vision_layers {

using namespace onestone;

namespace {
using testing::filled;
Var<double> weighted(const Var<double>& y) {
  Tensor<double> c(y.shape());
  for (Index k = 0; k < c.numel(); ++k) c[k] = std::cos(0.61 * static_cast<double>(k) + 0.2);
  return sum(y * Var<double>::from(std::move(c)));
}
std::vector<std::string> names_of(const std::vector<std::pair<std::string, Tensor<double>*>>& v) {
  std::vector<std::string> out;
  for (auto& e : v) out.push_back(e.first);
  return out;
}
std::vector<std::string> names_of(
    const std::vector<std::pair<std::string, nn::Parameter<double>*>>& v) {
  std::vector<std::string> out;
  for (auto& e : v) out.push_back(e.first);
  return out;
}
bool contains(const std::vector<std::string>& v, const std::string& s) {
  for (auto& e : v)
    if (e == s) return true;
  return false;
}
// A temporary folder removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("onestone_vision_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& n) const { return (path / n).string(); }
};
}  // namespace

// ---------------------------------------------------------------------------------------------
// BatchNorm
// ---------------------------------------------------------------------------------------------

TEST_CASE("BatchNorm2d: parameters, buffers, train vs eval, running statistics",
          "[nn][batch_norm]") {
  nn::BatchNorm2d<double> bn(nn::BatchNormOptions(2).momentum(0.2));
  CHECK(names_of(bn.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(names_of(bn.named_buffers()) ==
        std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"});
  CHECK(bn.running_var()->numel() == 2);
  CHECK((*bn.running_var())[1] == 1.0);
  CHECK(bn.num_batches_tracked()->shape().rank() == 0);
  // x [2, 2, 1, 2]: channel 0 holds 1, 3, 5, 7 and channel 1 holds 0, 0, 4, 4.
  const Tensor<double> x = Tensor<double>::from({1, 3, 0, 0, 5, 7, 4, 4}, {2, 2, 1, 2});
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  bn.weight()->value()[0] = 2;
  bn.bias()->value()[1] = -1;
  const Var<double> y = bn.forward(Var<double>::from(x));
  // Channel 0: mean 4, biased var 5; channel 1: mean 2, biased var 4.
  const double s0 = std::sqrt(5 + 1e-5), s1 = std::sqrt(4 + 1e-5);
  const double want[] = {2 * -3 / s0, 2 * -1 / s0, -2 / s1 - 1, -2 / s1 - 1,
                         2 * 1 / s0,  2 * 3 / s0,  2 / s1 - 1,  2 / s1 - 1};
  for (Index k = 0; k < 8; ++k) CHECK(y.data()[k] == Approx(want[k]).epsilon(1e-13));
  // Unbiased variances 20/3 and 16/3, momentum 0.2.
  CHECK((*bn.running_mean())[0] == Approx(0.8));
  CHECK((*bn.running_mean())[1] == Approx(0.4));
  CHECK((*bn.running_var())[0] == Approx(0.8 + 0.2 * 20.0 / 3));
  CHECK((*bn.running_var())[1] == Approx(0.8 + 0.2 * 16.0 / 3));
  CHECK((*bn.num_batches_tracked())[0] == 1);
  // Two more steps.
  bn.forward(Var<double>::from(x));
  bn.forward(Var<double>::from(x));
  double rm0 = 0, rv1 = 1;
  for (int k = 0; k < 3; ++k) {
    rm0 = 0.8 * rm0 + 0.2 * 4;
    rv1 = 0.8 * rv1 + 0.2 * 16.0 / 3;
  }
  CHECK((*bn.running_mean())[0] == Approx(rm0).epsilon(1e-14));
  CHECK((*bn.running_var())[1] == Approx(rv1).epsilon(1e-14));
  CHECK((*bn.num_batches_tracked())[0] == 3);
  // Eval: the running statistics, and nothing changes.
  bn.eval();
  const Var<double> e = bn.forward(Var<double>::from(x));
  CHECK(e.data()[0] == Approx((1 - rm0) / std::sqrt((*bn.running_var())[0] + 1e-5) * 2));
  CHECK(e.data()[2] == Approx((0 - (*bn.running_mean())[1]) / std::sqrt(rv1 + 1e-5) - 1));
  CHECK((*bn.num_batches_tracked())[0] == 3);
  CHECK((*bn.running_mean())[0] == Approx(rm0).epsilon(1e-14));
  bn.reset_running_stats();
  CHECK((*bn.running_mean())[0] == 0);
  CHECK((*bn.running_var())[0] == 1);
  CHECK((*bn.num_batches_tracked())[0] == 0);
}

TEST_CASE("BatchNorm1d: [N, C] and [N, C, L]; without affine or running statistics",
          "[nn][batch_norm]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  nn::BatchNorm1d<double> bn(3);
  const Tensor<double> x2 = filled({4, 3}, 0.7, 0.1), x3 = filled({2, 3, 5}, 0.3, 0.2);
  CHECK(bn.forward(Var<double>::from(x2)).shape() == Shape({4, 3}));
  CHECK(bn.forward(Var<double>::from(x3)).shape() == Shape({2, 3, 5}));
  CHECK((*bn.num_batches_tracked())[0] == 2);
  // Training output has zero mean and unit (biased) variance per channel.
  const Var<double> y = bn.forward(Var<double>::from(x3));
  for (Index c = 0; c < 3; ++c) {
    double s = 0, ss = 0;
    for (Index n = 0; n < 2; ++n)
      for (Index l = 0; l < 5; ++l) s += y.data()[(n * 3 + c) * 5 + l];
    for (Index n = 0; n < 2; ++n)
      for (Index l = 0; l < 5; ++l) ss += std::pow(y.data()[(n * 3 + c) * 5 + l] - s / 10, 2);
    CHECK(std::abs(s / 10) < 1e-12);
    CHECK(ss / 10 == Approx(1.0).epsilon(1e-4));
  }
  // No affine parameters, no running statistics: the batch statistics in eval mode too.
  nn::BatchNorm1d<double> plain(nn::BatchNormOptions(3).affine(false).track_running_stats(false));
  CHECK(plain.parameters().empty());
  CHECK(plain.named_buffers().empty());
  CHECK(plain.running_mean() == nullptr);
  const Tensor<double> a = plain.forward(Var<double>::from(x2)).to_tensor();
  plain.eval();
  const Var<double> b = plain.forward(Var<double>::from(x2));
  for (Index k = 0; k < a.numel(); ++k) CHECK(b.data()[k] == a[k]);
  // Inference mode is evaluation.
  {
    InferenceGuard guard;
    bn.forward(Var<double>::from(x2));
  }
  CHECK((*bn.num_batches_tracked())[0] == 3);
}

TEST_CASE("BatchNorm: gradients by finite differences in training and eval mode",
          "[nn][batch_norm][gradcheck]") {
  nn::BatchNorm2d<double> bn(nn::BatchNormOptions(3));
  for (Index c = 0; c < 3; ++c) {
    bn.weight()->value()[c] = 0.5 + 0.3 * static_cast<double>(c);
    bn.bias()->value()[c] = 0.1 * static_cast<double>(c) - 0.2;
  }
  const Tensor<double> x = filled({2, 3, 3, 2}, 1.9, 0.5);
  for (int training = 1; training >= 0; --training) {
    INFO((training ? "training" : "eval"));
    bn.train(training == 1);
    if (!training) {
      for (Index c = 0; c < 3; ++c) {
        (*bn.running_mean())[c] = 0.1 * static_cast<double>(c);
        (*bn.running_var())[c] = 1.5 + static_cast<double>(c);
      }
    }
    auto r = gradcheck<double>(
        [&](const std::vector<Var<double>>& v) { return weighted(bn.forward(v[0])); }, {x});
    INFO(r.message());
    CHECK(r.ok);
    testing::check_parameter_gradients(bn.named_parameters(),
                                       [&] { return weighted(bn.forward(Var<double>::from(x))); });
  }
  nn::BatchNorm1d<double> bn1(2);
  const Tensor<double> x1 = filled({5, 2}, 2.3, 0.1);
  auto r1 = gradcheck<double>(
      [&](const std::vector<Var<double>>& v) { return weighted(bn1.forward(v[0])); }, {x1});
  INFO(r1.message());
  CHECK(r1.ok);
  testing::check_parameter_gradients(bn1.named_parameters(),
                                     [&] { return weighted(bn1.forward(Var<double>::from(x1))); });
}

TEST_CASE("BatchNorm buffers survive a state-dict and a checkpoint round trip",
          "[nn][batch_norm][io]") {
  TempDir dir;
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  nn::BatchNorm2d<double> a(4), b(4);
  const Tensor<double> x = filled({3, 4, 2, 2}, 0.9, 0.3);
  a.forward(Var<double>::from(x));
  a.forward(Var<double>::from(x));
  a.weight()->value()[1] = 3;
  const std::string p = dir.file("bn.safetensors");
  io::save_state_dict(a, p);
  const auto file = io::read_safetensors(p);
  CHECK(file.count("running_mean") == 1);
  CHECK(file.count("running_var") == 1);
  CHECK(file.count("num_batches_tracked") == 1);
  CHECK(file.at("num_batches_tracked").shape.empty());
  const auto rep = io::load_state_dict(b, p);
  CHECK(rep.loaded.size() == 5);
  for (Index c = 0; c < 4; ++c) {
    CHECK((*b.running_mean())[c] == (*a.running_mean())[c]);
    CHECK((*b.running_var())[c] == (*a.running_var())[c]);
  }
  CHECK((*b.num_batches_tracked())[0] == 2);
  CHECK(b.weight()->value()[1] == 3);
  // Checkpoints carry the buffers of nested modules.
  nn::BasicBlock<double> blk(nn::BasicBlockOptions(2, 4).stride(2).seed(3));
  nn::BasicBlock<double> other(nn::BasicBlockOptions(2, 4).stride(2).seed(4));
  blk.forward(Var<double>::from(filled({2, 2, 4, 4}, 0.4, 0.1)));
  io::CheckpointState<double> ck;
  ck.model = &blk;
  const std::string cp = dir.file("ckpt.safetensors");
  io::save_checkpoint(cp, ck);
  io::CheckpointState<double> ck2;
  ck2.model = &other;
  io::load_checkpoint(cp, ck2);
  const auto ba = blk.named_buffers(), bb = other.named_buffers();
  REQUIRE(ba.size() == bb.size());
  for (std::size_t k = 0; k < ba.size(); ++k) {
    INFO(ba[k].first);
    CHECK(ba[k].first == bb[k].first);
    CHECK((ba[k].second->vector() - bb[k].second->vector()).norm() == 0);
  }
  CHECK((*other.named_buffers()[0].second)[0] != 0);  // bn1.running_mean moved off zero
  const auto pa = blk.parameters(), pb = other.parameters();
  for (std::size_t k = 0; k < pa.size(); ++k)
    CHECK((pa[k]->value().vector() - pb[k]->value().vector()).norm() == 0);
}

TEST_CASE("BatchNorm rejects bad input and options", "[nn][batch_norm][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  using Catch::Contains;
  nn::BatchNorm2d<float> bn2(3);
  nn::BatchNorm1d<float> bn1(3);
  CHECK_THROWS_WITH(bn2.forward(Var<float>::from(Tensor<float>({2, 3, 4}))),
                    Contains("BatchNorm2d") && Contains("[N, C, H, W]") && Contains("[2, 3, 4]"));
  CHECK_THROWS_WITH(bn2.forward(Var<float>::from(Tensor<float>({2, 4, 2, 2}))),
                    Contains("C = 3") && Contains("[2, 4, 2, 2]"));
  CHECK_THROWS_WITH(bn1.forward(Var<float>::from(Tensor<float>({2, 3, 2, 2}))),
                    Contains("BatchNorm1d") && Contains("[2, 3, 2, 2]"));
  CHECK_THROWS_WITH(bn1.forward(Var<float>::from(Tensor<float>({1, 3}))),
                    Contains("more than 1 value per channel"));
  CHECK((*bn1.num_batches_tracked())[0] == 0);  // a rejected batch is not counted
  CHECK_THROWS_WITH(nn::BatchNorm2d<float>(0), Contains("num_features"));
  CHECK_THROWS_WITH(nn::BatchNorm2d<float>(nn::BatchNormOptions(2).momentum(2)),
                    Contains("momentum"));
}

// ---------------------------------------------------------------------------------------------
// Dropout2d, AdaptiveAvgPool2d, Flatten, Upsample
// ---------------------------------------------------------------------------------------------

TEST_CASE("Dropout2d layer: seeded, channel-wise, identity in eval", "[nn][dropout]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  const Tensor<float> x = Tensor<float>::ones({4, 8, 2, 2});
  nn::Dropout2d<float> d1(0.5, 7), d2(0.5, 7);
  const Var<float> a = d1.forward(Var<float>::from(x)), b = d2.forward(Var<float>::from(x));
  Index zeros = 0;
  for (Index k = 0; k < x.numel(); ++k) {
    CHECK(a.data()[k] == b.data()[k]);
    CHECK((a.data()[k] == 0.f || a.data()[k] == 2.f));
    CHECK(a.data()[k] == a.data()[k - k % 4]);  // one value per channel
    zeros += a.data()[k] == 0.f;
  }
  CHECK(zeros > 0);
  CHECK(zeros < x.numel());
  d1.eval();
  const Var<float> xv = Var<float>::from(x);
  CHECK(d1.forward(xv).id() == xv.id());
  CHECK(d1.parameters().empty());
  CHECK_THROWS_WITH(nn::Dropout2d<float>(1.5), Catch::Contains("Dropout2d"));
}

TEST_CASE("AdaptiveAvgPool2d and Flatten layers", "[nn][pool]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  const Tensor<double> x = filled({2, 3, 5, 4}, 0.5, 0.3);
  nn::AdaptiveAvgPool2d<double> gap(1), pool({2, 3});
  const Var<double> g = gap.forward(Var<double>::from(x));
  CHECK(g.shape() == Shape({2, 3, 1, 1}));
  const Var<double> m = mean(mean(Var<double>::from(x), 3, true), 2, true);
  for (Index k = 0; k < 6; ++k) CHECK(g.data()[k] == Approx(m.data()[k]).epsilon(1e-14));
  CHECK(pool.forward(Var<double>::from(x)).shape() == Shape({2, 3, 2, 3}));
  nn::Flatten<double> flat;
  const Var<double> f = flat.forward(g);
  CHECK(f.shape() == Shape({2, 3}));
  CHECK(f.data()[4] == g.data()[4]);
  CHECK(nn::Flatten<double>(0).forward(g).shape() == Shape({6}));
  CHECK(nn::Flatten<double>(1, 2).forward(Var<double>::from(x)).shape() == Shape({2, 15, 4}));
  // In a Sequential, with gradients.
  nn::Sequential<double> head{std::make_shared<nn::AdaptiveAvgPool2d<double>>(1),
                              std::make_shared<nn::Flatten<double>>()};
  auto r = gradcheck<double>(
      [&](const std::vector<Var<double>>& v) { return weighted(head.forward(v[0])); }, {x});
  INFO(r.message());
  CHECK(r.ok);
  CHECK_THROWS_WITH(nn::AdaptiveAvgPool2d<double>(0), Catch::Contains("AdaptiveAvgPool2d"));
}

TEST_CASE("Upsample layer", "[nn][upsample]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  const Tensor<float> x = Tensor<float>::from({1, 2, 3, 4}, {1, 1, 2, 2});
  nn::Upsample<float> up(nn::UpsampleOptions().scale_factor(2).mode(UpsampleMode::Bilinear));
  const Var<float> y = up.forward(Var<float>::from(x));
  CHECK(y.shape() == Shape({1, 1, 4, 4}));
  CHECK(y.data()[1] == Approx(1.25f));
  CHECK(y.data()[5] == Approx(1.75f));
  nn::Upsample<float> near(nn::UpsampleOptions().size(3, 5));
  CHECK(near.forward(Var<float>::from(x)).shape() == Shape({1, 1, 3, 5}));
  CHECK(up.parameters().empty());
  CHECK(up.name() == "Upsample(bilinear)");
}

// ---------------------------------------------------------------------------------------------
// ConvTranspose2d
// ---------------------------------------------------------------------------------------------

TEST_CASE("ConvTranspose2d layer: shapes, names, PyTorch's initial bounds, gradients",
          "[nn][conv_transpose]") {
  nn::ConvTranspose2d<double> up(
      nn::ConvTranspose2dOptions(4, 6, 3).stride(2).padding(1).output_padding(1).groups(2).seed(5));
  CHECK(names_of(up.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  CHECK(up.weight().shape() == Shape({4, 3, 3, 3}));
  CHECK(up.bias()->shape() == Shape({6}));
  // fan_in = weight.size(1)·KH·KW = 27.
  const double bound = 1.0 / std::sqrt(27.0);
  double wmax = 0, bmax = 0;
  for (Index k = 0; k < up.weight().numel(); ++k)
    wmax = std::max(wmax, std::abs(up.weight().value()[k]));
  for (Index k = 0; k < 6; ++k) bmax = std::max(bmax, std::abs(up.bias()->value()[k]));
  CHECK(wmax <= bound);
  CHECK(wmax > 0.8 * bound);  // uses the whole range
  CHECK(bmax <= bound);
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  const Tensor<double> x = filled({2, 4, 3, 4}, 0.7, 0.2);
  const Var<double> y = up.forward(Var<double>::from(x));
  CHECK(y.shape() == Shape({2, 6, 6, 8}));
  const Var<double> want =
      conv_transpose2d(Var<double>::from(x), up.weight().var(), up.bias()->var(),
                       ConvTranspose2dGeometry().stride(2).padding(1).output_padding(1).groups(2));
  for (Index k = 0; k < y.numel(); ++k) CHECK(y.data()[k] == want.data()[k]);
  testing::check_parameter_gradients(up.named_parameters(),
                                     [&] { return weighted(up.forward(Var<double>::from(x))); });
  // float agrees with double.
  nn::ConvTranspose2d<float> upf(
      nn::ConvTranspose2dOptions(4, 6, 3).stride(2).padding(1).output_padding(1).groups(2).seed(5));
  auto& tf = autograd::Tape<float>::current();
  tf.reset();
  const Var<float> yf = upf.forward(Var<float>::from(x.cast<float>()));
  for (Index k = 0; k < y.numel(); ++k)
    CHECK(std::abs(yf.data()[k] - y.data()[k]) <= 1e-5 * (1 + std::abs(y.data()[k])));
  CHECK_THROWS_WITH(nn::ConvTranspose2d<float>(nn::ConvTranspose2dOptions(3, 4, 3).groups(2)),
                    Catch::Contains("ConvTranspose2d") && Catch::Contains("groups 2"));
}

// ---------------------------------------------------------------------------------------------
// ResNet
// ---------------------------------------------------------------------------------------------

TEST_CASE("BasicBlock: shapes, torchvision's names, gradients in double", "[nn][resnet]") {
  nn::BasicBlock<double> same(nn::BasicBlockOptions(3, 3).seed(1));
  CHECK(same.downsample() == nullptr);
  CHECK(names_of(same.named_parameters()) == std::vector<std::string>{"conv1.weight", "bn1.weight",
                                                                      "bn1.bias", "conv2.weight",
                                                                      "bn2.weight", "bn2.bias"});
  nn::BasicBlock<double> down(nn::BasicBlockOptions(2, 4).stride(2).seed(2));
  const auto pn = names_of(down.named_parameters());
  const auto bn = names_of(down.named_buffers());
  CHECK(contains(pn, "downsample.0.weight"));
  CHECK(contains(pn, "downsample.1.weight"));
  CHECK(!contains(pn, "conv1.bias"));
  CHECK(contains(bn, "bn1.running_mean"));
  CHECK(contains(bn, "bn2.num_batches_tracked"));
  CHECK(contains(bn, "downsample.1.running_var"));
  CHECK(down.parameter("conv1.weight").shape() == Shape({4, 2, 3, 3}));
  CHECK(down.parameter("downsample.0.weight").shape() == Shape({4, 2, 1, 1}));
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  const Tensor<double> x = filled({2, 2, 5, 4}, 0.9, 0.1);
  CHECK(down.forward(Var<double>::from(x)).shape() == Shape({2, 4, 3, 2}));
  const Tensor<double> x3 = filled({2, 3, 4, 4}, 0.9, 0.1);
  CHECK(same.forward(Var<double>::from(x3)).shape() == Shape({2, 3, 4, 4}));
  // Gradients in training mode (batch statistics) and in eval mode, for x and the
  // parameters (tolerance 1e-5: ReLU kinks near the sampled points cost digits).
  for (int training = 1; training >= 0; --training) {
    INFO((training ? "training" : "eval"));
    down.train(training == 1);
    auto r = gradcheck<double>(
        [&](const std::vector<Var<double>>& v) { return weighted(down.forward(v[0])); }, {x}, 1e-6,
        1e-5);
    INFO(r.message());
    CHECK(r.ok);
    testing::check_parameter_gradients(
        down.named_parameters(), [&] { return weighted(down.forward(Var<double>::from(x))); });
  }
  same.train();
  auto r = gradcheck<double>(
      [&](const std::vector<Var<double>>& v) { return weighted(same.forward(v[0])); }, {x3}, 1e-6,
      1e-5);
  INFO(r.message());
  CHECK(r.ok);
}

TEST_CASE("ResNet backbone: stages, feature map, names, seeds", "[nn][resnet]") {
  nn::ResNet<float> net(nn::ResNetOptions(3).widths({8, 16, 32}).blocks({1, 2, 1}).seed(9));
  CHECK(net.output_channels() == 32);
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  Tensor<float> x({2, 3, 16, 12});
  for (Index k = 0; k < x.numel(); ++k) x[k] = std::sin(0.1f * static_cast<float>(k));
  const Var<float> f = net.forward(Var<float>::from(x));
  CHECK(f.shape() == Shape({2, 32, 4, 3}));
  std::vector<std::string> pn;
  for (auto& p : net.named_parameters()) pn.push_back(p.first);
  std::vector<std::string> bn;
  for (auto& b : net.named_buffers()) bn.push_back(b.first);
  CHECK(pn[0] == "conv1.weight");
  CHECK(contains(pn, "bn1.weight"));
  CHECK(contains(pn, "layer1.0.conv1.weight"));
  CHECK(!contains(pn, "layer1.0.downsample.0.weight"));  // same width, stride 1
  CHECK(contains(pn, "layer2.0.downsample.0.weight"));
  CHECK(contains(pn, "layer2.1.conv2.weight"));
  CHECK(!contains(pn, "layer2.1.downsample.0.weight"));
  CHECK(contains(pn, "layer3.0.downsample.1.bias"));
  CHECK(contains(bn, "bn1.running_mean"));
  CHECK(contains(bn, "layer3.0.downsample.1.num_batches_tracked"));
  // The same seed gives the same network.
  nn::ResNet<float> twin(nn::ResNetOptions(3).widths({8, 16, 32}).blocks({1, 2, 1}).seed(9));
  const auto p1 = net.parameters(), p2 = twin.parameters();
  REQUIRE(p1.size() == p2.size());
  for (std::size_t k = 0; k < p1.size(); ++k)
    CHECK(p1[k]->value().vector() == p2[k]->value().vector());
  CHECK(p1[0]->value().vector() != p1[3]->value().vector().head(p1[0]->numel()));
  // With a pooling head: a vector per sample.
  nn::Sequential<float> model{
      std::make_shared<nn::ResNet<float>>(nn::ResNetOptions(1).widths({4, 8}).blocks({1, 1})),
      std::make_shared<nn::AdaptiveAvgPool2d<float>>(1), std::make_shared<nn::Flatten<float>>()};
  CHECK(model.forward(Var<float>::from(Tensor<float>({3, 1, 8, 8}))).shape() == Shape({3, 8}));
  using Catch::Contains;
  CHECK_THROWS_WITH(nn::ResNet<float>(nn::ResNetOptions(3).widths({8, 16}).blocks({1})),
                    Contains("ResNet") && Contains("equal"));
  CHECK_THROWS_WITH(nn::ResNet<float>(nn::ResNetOptions(3).widths({8, 0}).blocks({1, 1})),
                    Contains("stage 2"));
  CHECK_THROWS_WITH(nn::BasicBlock<float>(nn::BasicBlockOptions(3, 4).stride(0)),
                    Contains("BasicBlock"));
}

}  // namespace test_nn_vision_layers
