// Sequence layers: Embedding (padding index), sinusoidal and learned positional encodings,
// multi-head self-attention (against a direct formula; padding and causal masks), the
// Transformer encoder layer (pre- and post-norm, GELU), masked pooling, the token classifier
// with the padding-ignoring cross entropy, and TextEncoder; finite-difference gradients in
// double.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "../common/module_gradcheck.hpp"
#include "onestone/nn/attention.hpp"
#include "onestone/nn/embedding.hpp"
#include "onestone/nn/positional_encoding.hpp"
#include "onestone/nn/sequence_pool.hpp"
#include "onestone/nn/text_encoder.hpp"
#include "onestone/nn/token_classifier.hpp"
#include "onestone/nn/transformer.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_nn_sequence_layers {

using namespace onestone;
using V = std::vector<Var<double>>;

namespace {
Tensor<double> rnd(const Shape& s, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Generator g(seed);
  Tensor<double> t(s);
  for (Index k = 0; k < t.numel(); ++k) t[k] = g.uniform(lo, hi);
  return t;
}
Var<double> wsum(const Var<double>& y) {
  static std::vector<std::unique_ptr<Tensor<double>>> keep;
  keep.emplace_back(new Tensor<double>(rnd(y.shape(), 77 + static_cast<std::uint64_t>(y.numel()))));
  return sum(y * Var<double>::from(*keep.back()));
}
Mask make_padding(Index B, Index L, const std::vector<Index>& lengths) {
  Mask m(Shape{B, L});
  for (Index b = 0; b < B; ++b)
    for (Index l = 0; l < L; ++l) m.data()[b * L + l] = l >= lengths[static_cast<std::size_t>(b)];
  return m;
}
std::vector<std::string> param_names(nn::Module<double>& m) {
  std::vector<std::string> out;
  for (auto& p : m.named_parameters()) out.push_back(p.first);
  return out;
}
bool has(const std::vector<std::string>& v, const std::string& s) {
  for (auto& e : v)
    if (e == s) return true;
  return false;
}
}  // namespace

TEST_CASE("Embedding looks up rows; the padding id gives zeros and no gradient",
          "[nn][sequence][gradcheck]") {
  nn::Embedding<double> emb(nn::EmbeddingOptions(7, 3).padding_idx(0).seed(3));
  const Tensor<double>& w = emb.weight().value();
  for (Index j = 0; j < 3; ++j) CHECK(w[j] == 0.0);
  GraphScope<double> scope;
  Tensor<double> ids = Tensor<double>::from({4, 0, 2, 6, 6, 1}, Shape{2, 3});
  Var<double> e = emb.forward(Var<double>::from(ids));
  REQUIRE(e.shape() == Shape({2, 3, 3}));
  for (Index k = 0; k < 6; ++k)
    for (Index j = 0; j < 3; ++j)
      CHECK(e.data()[k * 3 + j] == w[static_cast<Index>(ids[k]) * 3 + j]);
  testing::check_parameter_gradients(emb.named_parameters(),
                                     [&] { return wsum(emb.forward(Var<double>::from(ids))); });
  emb.weight().zero_grad();
  {
    GraphScope<double> s2;
    sum(emb.forward(Var<double>::from(ids))).backward();
  }
  for (Index j = 0; j < 3; ++j) CHECK(emb.weight().grad()[j] == 0.0);          // padding row
  for (Index j = 0; j < 3; ++j) CHECK(emb.weight().grad()[6 * 3 + j] == 2.0);  // id 6 used twice
  for (Index j = 0; j < 3; ++j) CHECK(emb.weight().grad()[3 * 3 + j] == 0.0);  // unused

  Tensor<Index> int_ids = Tensor<Index>::from({1, 2, 3}, Shape{3});
  CHECK(emb.forward(int_ids).shape() == Shape({3, 3}));
}

TEST_CASE("Embedding rejects ids that are not integers in range, naming the position",
          "[nn][sequence][errors]") {
  nn::Embedding<float> emb(nn::EmbeddingOptions(5, 2));
  GraphScope<float> scope;
  Tensor<float> bad = Tensor<float>::from({1.f, 2.5f, 0.f}, Shape{3});
  CHECK_THROWS_WITH(emb.forward(Var<float>::from(bad)), Catch::Contains("position 1"));
  Tensor<float> big = Tensor<float>::from({1.f, 5.f}, Shape{2});
  CHECK_THROWS_WITH(emb.forward(Var<float>::from(big)), Catch::Contains("[0, 5)"));
  Tensor<float> neg = Tensor<float>::from({-1.f}, Shape{1});
  CHECK_THROWS_AS(emb.forward(Var<float>::from(neg)), std::invalid_argument);
  CHECK_THROWS_AS(nn::Embedding<float>(nn::EmbeddingOptions(5, 2).padding_idx(5)),
                  std::invalid_argument);
}

TEST_CASE("Positional encodings: the sinusoid table and a learned table with gradients",
          "[nn][sequence][gradcheck]") {
  nn::SinusoidalPositionalEncoding<double> pe(6, 10);
  const Tensor<double>& tab = pe.table();
  for (Index p = 0; p < 10; ++p)
    for (Index i = 0; i < 3; ++i) {
      const double a =
          static_cast<double>(p) / std::pow(10000.0, 2.0 * static_cast<double>(i) / 6.0);
      CHECK(tab[p * 6 + 2 * i] == Approx(std::sin(a)).margin(1e-15));
      CHECK(tab[p * 6 + 2 * i + 1] == Approx(std::cos(a)).margin(1e-15));
    }
  GraphScope<double> scope;
  Tensor<double> x = rnd(Shape{2, 4, 6}, 5);
  Var<double> y = pe.forward(Var<double>::from(x));
  for (Index b = 0; b < 2; ++b)
    for (Index k = 0; k < 24; ++k) CHECK(y.data()[b * 24 + k] == x[b * 24 + k] + tab[k]);
  CHECK_THROWS_WITH(pe.forward(Var<double>::from(rnd(Shape{1, 11, 6}, 1))),
                    Catch::Contains("exceeds max_length"));

  nn::LearnedPositionalEncoding<double> lp(8, 6, 11);
  auto gr = gradcheck<double>([&](const V& v) { return wsum(lp.forward(v[0])); },
                              {rnd(Shape{2, 5, 6}, 9)});
  INFO(gr.message());
  CHECK(gr.ok);
  testing::check_parameter_gradients(lp.named_parameters(),
                                     [&] { return wsum(lp.forward(Var<double>::from(x))); });
}

namespace {
// softmax(q kᵀ / sqrt(dh) + mask) v per head, with the module's weights, in plain loops.
std::vector<double> attention_by_formula(nn::MultiheadAttention<double>& att,
                                         const Tensor<double>& x, const Mask* pad, bool causal) {
  const Index B = x.shape()[0], L = x.shape()[1], E = x.shape()[2];
  const Index H = att.options().num_heads(), Dh = E / H;
  const Tensor<double>& W = att.in_proj_weight().value();
  const Tensor<double>& bi = att.in_proj_bias()->value();
  const Tensor<double>& Wo = att.out_proj().weight().value();
  const Tensor<double>& bo = att.out_proj().bias()->value();
  std::vector<double> qkv(static_cast<std::size_t>(B * L * 3 * E));
  for (Index n = 0; n < B * L; ++n)
    for (Index o = 0; o < 3 * E; ++o) {
      double s = bi[o];
      for (Index i = 0; i < E; ++i) s += x[n * E + i] * W[o * E + i];
      qkv[static_cast<std::size_t>(n * 3 * E + o)] = s;
    }
  auto at = [&](Index b, Index l, Index part, Index h, Index d) {
    return qkv[static_cast<std::size_t>((b * L + l) * 3 * E + part * E + h * Dh + d)];
  };
  std::vector<double> ctx(static_cast<std::size_t>(B * L * E)), out(ctx.size());
  for (Index b = 0; b < B; ++b)
    for (Index h = 0; h < H; ++h)
      for (Index i = 0; i < L; ++i) {
        std::vector<double> s(static_cast<std::size_t>(L));
        double mx = -1e300;
        for (Index j = 0; j < L; ++j) {
          double v = 0;
          for (Index d = 0; d < Dh; ++d) v += at(b, i, 0, h, d) * at(b, j, 1, h, d);
          v /= std::sqrt(static_cast<double>(Dh));
          if ((pad && pad->data()[b * L + j]) || (causal && j > i)) v = -1e9;
          s[static_cast<std::size_t>(j)] = v;
          mx = std::max(mx, v);
        }
        double z = 0;
        for (auto& v : s) z += (v = std::exp(v - mx));
        for (Index d = 0; d < Dh; ++d) {
          double c = 0;
          for (Index j = 0; j < L; ++j) c += s[static_cast<std::size_t>(j)] / z * at(b, j, 2, h, d);
          ctx[static_cast<std::size_t>((b * L + i) * E + h * Dh + d)] = c;
        }
      }
  for (Index n = 0; n < B * L; ++n)
    for (Index o = 0; o < E; ++o) {
      double s = bo[o];
      for (Index i = 0; i < E; ++i) s += ctx[static_cast<std::size_t>(n * E + i)] * Wo[o * E + i];
      out[static_cast<std::size_t>(n * E + o)] = s;
    }
  return out;
}
}  // namespace

TEST_CASE("Multi-head attention equals the direct formula, with padding and causal masks",
          "[nn][sequence][attention]") {
  nn::MultiheadAttention<double> att(nn::MultiheadAttentionOptions(8, 2).seed(4));
  // Non-zero biases so that they are checked too.
  att.in_proj_bias()->value() = rnd(Shape{24}, 6, -0.3, 0.3);
  att.out_proj().bias()->value() = rnd(Shape{8}, 7, -0.3, 0.3);
  const Tensor<double> x = rnd(Shape{3, 5, 8}, 8);
  const Mask pad = make_padding(3, 5, {5, 3, 1});
  for (int mode = 0; mode < 4; ++mode) {
    const Mask* pm = (mode & 1) ? &pad : nullptr;
    const bool causal = (mode & 2) != 0;
    GraphScope<double> scope;
    Var<double> weights;
    Var<double> y = att.forward(Var<double>::from(x), pm, causal, &weights);
    const std::vector<double> ref = attention_by_formula(att, x, pm, causal);
    REQUIRE(y.shape() == Shape({3, 5, 8}));
    REQUIRE(weights.shape() == Shape({3, 2, 5, 5}));
    for (Index k = 0; k < y.numel(); ++k)
      CHECK(y.data()[k] == Approx(ref[static_cast<std::size_t>(k)]).margin(1e-12));
    // Masked keys get zero weight; each row sums to one.
    for (Index b = 0; b < 3; ++b)
      for (Index h = 0; h < 2; ++h)
        for (Index i = 0; i < 5; ++i) {
          double rs = 0;
          for (Index j = 0; j < 5; ++j) {
            const double a = weights.data()[((b * 2 + h) * 5 + i) * 5 + j];
            rs += a;
            if ((pm && pad.data()[b * 5 + j]) || (causal && j > i)) CHECK(a < 1e-300);
          }
          CHECK(rs == Approx(1.0).margin(1e-12));
        }
  }
}

TEST_CASE("Multi-head attention: gradients of input and parameters; errors",
          "[nn][sequence][gradcheck]") {
  nn::MultiheadAttention<double> att(nn::MultiheadAttentionOptions(6, 3).seed(2));
  const Mask pad = make_padding(2, 4, {4, 2});
  const Tensor<double> x = rnd(Shape{2, 4, 6}, 3);
  for (bool causal : {false, true}) {
    auto r =
        gradcheck<double>([&](const V& v) { return wsum(att.forward(v[0], &pad, causal)); }, {x});
    INFO(r.message());
    CHECK(r.ok);
    testing::check_parameter_gradients(att.named_parameters(), [&] {
      return wsum(att.forward(Var<double>::from(x), &pad, causal));
    });
  }
  const auto names = param_names(att);
  CHECK(has(names, "in_proj_weight"));
  CHECK(has(names, "in_proj_bias"));
  CHECK(has(names, "out_proj.weight"));
  CHECK(has(names, "out_proj.bias"));
  GraphScope<double> scope;
  CHECK_THROWS_WITH(att.forward(Var<double>::from(rnd(Shape{2, 4, 5}, 1))),
                    Catch::Contains("[2, 4, 5]"));
  const Mask wrong = make_padding(2, 3, {1, 1});
  CHECK_THROWS_WITH(att.forward(Var<double>::from(x), &wrong, false),
                    Catch::Contains("key_padding_mask"));
  CHECK_THROWS_AS(nn::MultiheadAttention<double>(nn::MultiheadAttentionOptions(6, 4)),
                  std::invalid_argument);
}

TEST_CASE("Transformer encoder layer: pre- and post-norm, GELU, gradients, PyTorch names",
          "[nn][sequence][gradcheck]") {
  const Mask pad = make_padding(2, 4, {3, 4});
  const Tensor<double> x = rnd(Shape{2, 4, 6}, 12);
  for (bool pre : {false, true}) {
    nn::TransformerEncoderLayer<double> layer(nn::TransformerEncoderLayerOptions(6, 2)
                                                  .dim_feedforward(10)
                                                  .dropout(0.0)
                                                  .activation(nn::Activation::GELU)
                                                  .norm_first(pre)
                                                  .seed(5));
    auto r = gradcheck<double>([&](const V& v) { return wsum(layer.forward(v[0], &pad)); }, {x});
    INFO((pre ? "pre-norm: " : "post-norm: ") << r.message());
    CHECK(r.ok);
    testing::check_parameter_gradients(
        layer.named_parameters(), [&] { return wsum(layer.forward(Var<double>::from(x), &pad)); });
    const auto names = param_names(layer);
    for (const char* n : {"self_attn.in_proj_weight", "self_attn.out_proj.weight", "linear1.weight",
                          "linear1.bias", "linear2.weight", "norm1.weight", "norm2.bias"})
      CHECK(has(names, n));
  }
  // Post-norm by hand: norm2(h + ff(h)), h = norm1(x + attn(x)).
  nn::TransformerEncoderLayer<double> layer(
      nn::TransformerEncoderLayerOptions(6, 2).dim_feedforward(10).dropout(0.0).seed(5));
  GraphScope<double> scope;
  Var<double> xv = Var<double>::from(x);
  Var<double> got = layer.forward(xv, &pad);
  auto& m = layer;
  auto child = [&](const std::string& n) -> nn::Module<double>& {
    for (auto& c : m.named_children())
      if (c.first == n) return *c.second;
    throw std::runtime_error("no child " + n);
  };
  Var<double> h = child("norm1").forward(xv + layer.self_attn().forward(xv, &pad, false));
  Var<double> ff = child("linear2").forward(relu(child("linear1").forward(h)));
  Var<double> want = child("norm2").forward(h + ff);
  for (Index k = 0; k < got.numel(); ++k)
    CHECK(got.data()[k] == Approx(want.data()[k]).margin(1e-13));
}

TEST_CASE("Dropout in a Transformer layer acts in training only", "[nn][sequence]") {
  nn::TransformerEncoderLayer<double> layer(
      nn::TransformerEncoderLayerOptions(6, 2).dim_feedforward(8).dropout(0.3).seed(1));
  nn::TransformerEncoderLayer<double> plain(
      nn::TransformerEncoderLayerOptions(6, 2).dim_feedforward(8).dropout(0.0).seed(1));
  const Tensor<double> x = rnd(Shape{1, 3, 6}, 2);
  GraphScope<double> scope;
  layer.eval();
  Var<double> a = layer.forward(Var<double>::from(x));
  Var<double> b = plain.forward(Var<double>::from(x));
  for (Index k = 0; k < a.numel(); ++k) CHECK(a.data()[k] == Approx(b.data()[k]).margin(1e-14));
  layer.train();
  Var<double> c = layer.forward(Var<double>::from(x));
  double diff = 0;
  for (Index k = 0; k < a.numel(); ++k) diff += std::abs(c.data()[k] - a.data()[k]);
  CHECK(diff > 1e-3);
}

TEST_CASE("Masked mean and max pooling skip padding; gradients", "[nn][sequence][gradcheck]") {
  const Mask pad = make_padding(3, 4, {4, 2, 0});
  const Tensor<double> x = rnd(Shape{3, 4, 5}, 21);
  GraphScope<double> scope;
  Var<double> mu = nn::masked_mean(Var<double>::from(x), pad);
  Var<double> mx = nn::masked_max(Var<double>::from(x), pad);
  REQUIRE(mu.shape() == Shape({3, 5}));
  const Index len[3] = {4, 2, 0};
  for (Index b = 0; b < 3; ++b)
    for (Index d = 0; d < 5; ++d) {
      double s = 0, m = -1e300;
      for (Index l = 0; l < len[b]; ++l) {
        s += x[(b * 4 + l) * 5 + d];
        m = std::max(m, x[(b * 4 + l) * 5 + d]);
      }
      CHECK(mu.data()[b * 5 + d] ==
            Approx(len[b] ? s / static_cast<double>(len[b]) : 0.0).margin(1e-15));
      if (len[b])
        CHECK(mx.data()[b * 5 + d] == m);
      else
        CHECK(mx.data()[b * 5 + d] < -1e300);
    }
  const Mask pad2 = make_padding(3, 4, {4, 2, 1});
  for (int which = 0; which < 2; ++which) {
    auto r = gradcheck<double>(
        [&](const V& v) {
          return wsum(which ? nn::masked_max(v[0], pad2) : nn::masked_mean(v[0], pad2));
        },
        {x});
    INFO(r.message());
    CHECK(r.ok);
  }
  // The module: mean, max, first, and without a mask.
  auto shared = std::make_shared<Mask>(pad2);
  nn::SequencePool<double> pm(nn::SequencePoolMode::Mean, shared), pf(nn::SequencePoolMode::First);
  Var<double> a = pm.forward(Var<double>::from(x));
  Var<double> f = pf.forward(Var<double>::from(x));
  CHECK(a.data()[2 * 5 + 1] == x[(2 * 4 + 0) * 5 + 1]);  // a length-1 sequence
  CHECK(f.data()[1 * 5 + 3] == x[(1 * 4 + 0) * 5 + 3]);
  CHECK_THROWS_WITH(nn::masked_mean(Var<double>::from(x), make_padding(3, 5, {1, 1, 1})),
                    Catch::Contains("padding mask"));
}

TEST_CASE("Token classifier logits feed the cross entropy that ignores padding", "[nn][sequence]") {
  nn::TokenClassifier<double> head(4, 3, 9);
  const Tensor<double> x = rnd(Shape{2, 3, 4}, 31);
  Tensor<Index> labels = Tensor<Index>::from({0, 2, -100, 1, -100, -100}, Shape{2, 3});
  GraphScope<double> scope;
  Var<double> z = head.forward(Var<double>::from(x));
  REQUIRE(z.shape() == Shape({2, 3, 3}));  // [B, C, L]
  Var<double> loss = losses::cross_entropy(z, labels);
  double want = 0;
  int n = 0;
  for (Index b = 0; b < 2; ++b)
    for (Index l = 0; l < 3; ++l) {
      const Index y = labels[b * 3 + l];
      if (y < 0) continue;
      double mx = -1e300, s = 0;
      for (Index c = 0; c < 3; ++c) mx = std::max(mx, z.data()[(b * 3 + c) * 3 + l]);
      for (Index c = 0; c < 3; ++c) s += std::exp(z.data()[(b * 3 + c) * 3 + l] - mx);
      want += -(z.data()[(b * 3 + y) * 3 + l] - mx - std::log(s));
      ++n;
    }
  CHECK(loss.item() == Approx(want / n).epsilon(1e-13));
  testing::check_parameter_gradients(head.named_parameters(), [&] {
    return losses::cross_entropy(head.forward(Var<double>::from(x)), labels);
  });
}

TEST_CASE("TextEncoder: padding tokens and (causal) future tokens do not reach other positions",
          "[nn][sequence]") {
  for (bool causal : {false, true}) {
    nn::TextEncoder<double> enc(nn::TextEncoderOptions(20, 8, 2, 2)
                                    .dim_feedforward(16)
                                    .dropout(0.0)
                                    .max_length(6)
                                    .causal(causal)
                                    .seed(3));
    enc.eval();
    Tensor<double> a = Tensor<double>::from({5, 7, 9, 3, 0, 0}, Shape{1, 6});
    Tensor<double> b = Tensor<double>::from({5, 7, 9, causal ? 11.0 : 3.0, 0, 0}, Shape{1, 6});
    GraphScope<double> scope;
    Var<double> ya = enc.forward(Var<double>::from(a));
    REQUIRE(enc.padding_mask()->shape() == Shape({1, 6}));
    CHECK(enc.padding_mask()->data()[4] == 1);
    Tensor<double> a_longer = Tensor<double>::from({5, 7, 9, 3}, Shape{1, 4});
    Var<double> yl = enc.forward(Var<double>::from(a_longer));
    Var<double> yb = enc.forward(Var<double>::from(b));
    // Without causality: the padded sequence equals the unpadded one on its real positions.
    // With causality: positions 0..2 do not see the change at position 3.
    const Index upto = causal ? 3 : 4;
    for (Index k = 0; k < upto * 8; ++k) {
      CHECK(ya.data()[k] == Approx(yl.data()[k]).margin(1e-12));
      CHECK(ya.data()[k] == Approx(yb.data()[k]).margin(1e-12));
    }
  }
  nn::TextEncoder<double> enc(nn::TextEncoderOptions(20, 8, 2, 1).max_length(4).seed(1));
  GraphScope<double> scope;
  CHECK_THROWS_WITH(enc.forward(Var<double>::from(Tensor<double>(Shape{1, 5}))),
                    Catch::Contains("max_length"));
  CHECK_THROWS_WITH(enc.forward(Var<double>::from(Tensor<double>(Shape{1, 2, 2}))),
                    Catch::Contains("[batch, length]"));
}

TEST_CASE("TextEncoder gradients and a few training steps on a toy task",
          "[nn][sequence][gradcheck]") {
  nn::TextEncoder<double> enc(nn::TextEncoderOptions(9, 4, 2, 1)
                                  .dim_feedforward(6)
                                  .dropout(0.0)
                                  .max_length(5)
                                  .positional(nn::PositionalEncodingKind::Sinusoidal)
                                  .seed(8));
  auto pool =
      std::make_shared<nn::SequencePool<double>>(nn::SequencePoolMode::Mean, enc.padding_mask());
  nn::Linear<double> out(nn::LinearOptions(4, 2).seed(2));
  Tensor<double> ids = Tensor<double>::from(
      {1, 2, 3, 0, 0, 4, 5, 6, 7, 0, 1, 1, 2, 0, 0, 8, 7, 6, 5, 4}, Shape{4, 5});
  Tensor<Index> y = Tensor<Index>::from({0, 1, 0, 1}, Shape{4});
  auto loss_fn = [&] {
    return losses::cross_entropy(out.forward(pool->forward(enc.forward(Var<double>::from(ids)))),
                                 y);
  };
  testing::check_parameter_gradients(enc.named_parameters(), loss_fn, 1e-5, 4);
  std::vector<nn::Parameter<double>*> params;
  for (auto& p : enc.named_parameters()) params.push_back(p.second);
  for (auto& p : out.named_parameters()) params.push_back(p.second);
  optim::Adam<double> opt(params, optim::AdamOptions(0.05));
  double first = 0, last = 0;
  for (int s = 0; s < 30; ++s) {
    GraphScope<double> scope;
    opt.zero_grad();
    Var<double> l = loss_fn();
    if (s == 0) first = l.item();
    last = l.item();
    l.backward();
    opt.step();
  }
  CHECK(last < 0.2 * first);
}

TEMPLATE_TEST_CASE(
    "A PyTorch TransformerEncoderLayer state dict loads by name and gives "
    "PyTorch's outputs (post-norm ReLU, pre-norm GELU)",
    "[nn][sequence][pytorch]", float, double) {
  using T = TestType;
  const std::string path =
      std::string(ONESTONE_TEST_FIXTURES_DIR) + "/transformer_layer.safetensors";
  const auto file = io::read_safetensors(path);
  const Tensor<T> x = io::to_tensor<T>(file.at("x"));
  const Tensor<double> padf = io::to_tensor<double>(file.at("pad"));
  Mask pad(padf.shape());
  for (Index k = 0; k < padf.numel(); ++k) pad.data()[k] = padf[k] != 0.0;
  for (bool pre : {false, true}) {
    const std::string prefix = pre ? "pre." : "post.";
    nn::TransformerEncoderLayer<T> layer(
        nn::TransformerEncoderLayerOptions(8, 2)
            .dim_feedforward(16)
            .dropout(0.0)
            .norm_first(pre)
            .activation(pre ? nn::Activation::GELU : nn::Activation::ReLU));
    const auto rep = io::load_state_dict(
        layer, path,
        io::StateDictOptions().strict(false).names(io::NameMap().strip_prefix(prefix)));
    CHECK(rep.missing.empty());
    CHECK(rep.loaded.size() == 12);
    const Tensor<double> want = io::to_tensor<double>(file.at(prefix + "out"));
    GraphScope<T> scope;
    Var<T> y = layer.forward(Var<T>::from(x), &pad);
    REQUIRE(y.numel() == want.numel());
    const double tol = std::is_same<T, float>::value ? 2e-5 : 1e-12;
    for (Index k = 0; k < want.numel(); ++k) {
      if (pad.data()[k / 8]) continue;  // PyTorch leaves padded positions unspecified
      INFO(prefix << " element " << k);
      CHECK(std::abs(static_cast<double>(y.data()[k]) - want[k]) <= tol * (1 + std::abs(want[k])));
    }
  }
}

TEST_CASE("dropout drops a fraction p and scales the rest by 1/(1-p)", "[nn][dropout]") {
  for (double p : {0.1, 0.3, 0.5}) {
    Generator gen(17);
    GraphScope<double> scope;
    Tensor<double> ones = Tensor<double>::ones(Shape{100001});
    Var<double> y = dropout(Var<double>::from(ones), p, true, gen);
    Index dropped = 0;
    for (Index k = 0; k < y.numel(); ++k) {
      if (y.data()[k] == 0.0)
        ++dropped;
      else
        CHECK(y.data()[k] == Approx(1.0 / (1.0 - p)).epsilon(1e-15));
    }
    CHECK(static_cast<double>(dropped) / 100001.0 == Approx(p).margin(0.006));
  }
}

TEST_CASE("dropout's vectorized mask equals the scalar one bit for bit", "[nn][dropout]") {
#ifdef ONESTONE_HAVE_GEMM_SIMD
  if (autograd::detail::best_gemm_isa() != autograd::detail::GemmIsa::Avx512) return;
  const Index n = 1001;
  std::vector<float> x(static_cast<std::size_t>(n)), y1(x.size()), y2(x.size()), m1(x.size()),
      m2(x.size());
  for (Index i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = 0.5f + static_cast<float>(i % 7);
  for (std::uint32_t thr : {0u, 1288490188u, 2147483648u, 0xffffffffu}) {
    autograd::detail::dropout_fill_scalar(x.data(), y1.data(), m1.data(), n, 3, (n + 1) / 2, 12345u,
                                          thr, 1.25f);
    autograd::detail::dropout_fill_avx512(x.data(), y2.data(), m2.data(), n, 3, (n + 1) / 2, 12345u,
                                          thr, 1.25f);
    for (Index i = 6; i < n; ++i) {
      CHECK(m1[static_cast<std::size_t>(i)] == m2[static_cast<std::size_t>(i)]);
      CHECK(y1[static_cast<std::size_t>(i)] == y2[static_cast<std::size_t>(i)]);
    }
  }
#endif
}

}  // namespace test_nn_sequence_layers
