// conv2d: values against a direct loop, gradients by finite differences in double for stride,
// padding, dilation, groups (depthwise included) and 1x1, bad shapes rejected with both shapes,
// and the Conv2d layer's shapes and initial values.
#include <catch2/catch.hpp>
#include <cmath>

#include "../common/filled.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_conv {

using namespace onestone;
using autograd::Conv2dGeometry;

namespace {
using testing::filled;
// The definition, by a direct loop.
Tensor<double> direct(const Tensor<double>& x, const Tensor<double>& w, const Tensor<double>* b,
                      const Conv2dGeometry& g) {
  const Index N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const Index O = w.size(0), CG = w.size(1), KH = w.size(2), KW = w.size(3);
  const Index G = g.groups_, OG = O / G;
  const Index HO = (H + 2 * g.ph_ - g.dh_ * (KH - 1) - 1) / g.sh_ + 1;
  const Index WO = (W + 2 * g.pw_ - g.dw_ * (KW - 1) - 1) / g.sw_ + 1;
  Tensor<double> y({N, O, HO, WO});
  for (Index n = 0; n < N; ++n)
    for (Index o = 0; o < O; ++o)
      for (Index oy = 0; oy < HO; ++oy)
        for (Index ox = 0; ox < WO; ++ox) {
          double s = b ? (*b)[o] : 0.0;
          const Index gi = o / OG;
          for (Index c = 0; c < CG; ++c)
            for (Index i = 0; i < KH; ++i)
              for (Index j = 0; j < KW; ++j) {
                const Index yy = oy * g.sh_ - g.ph_ + i * g.dh_,
                            xx = ox * g.sw_ - g.pw_ + j * g.dw_;
                if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                s += x[((n * C + gi * CG + c) * H + yy) * W + xx] *
                     w[((o * CG + c) * KH + i) * KW + j];
              }
          y[((n * O + o) * HO + oy) * WO + ox] = s;
        }
  (void)C;
  return y;
}
struct Case {
  const char* what;
  Shape x, w;
  Conv2dGeometry g;
};
// Values (with and without bias) against the direct loop, and finite differences with every
// input requiring a gradient and with the weight and bias only (as a first layer, whose input
// needs none: no input gradient, Winograd's Uᵀ not formed); returns the weights of the checked
// sum, sum(conv2d(...) * c).
Tensor<double> check_values_and_gradients(const Case& cs, const Tensor<double>& x,
                                          const Tensor<double>& w, const Tensor<double>& b) {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  const Var<double> y =
      conv2d(Var<double>::from(x), Var<double>::from(w), Var<double>::from(b), cs.g);
  const Tensor<double> want = direct(x, w, &b, cs.g);
  REQUIRE(y.shape() == want.shape());
  // (Relative 1e-12, and 1e-12 absolute for values that cancel to almost nothing.)
  for (Index k = 0; k < want.numel(); ++k)
    CHECK(y.data()[k] == Approx(want[k]).epsilon(1e-12).margin(1e-12));
  const Var<double> y0 = conv2d(Var<double>::from(x), Var<double>::from(w), Var<double>(), cs.g);
  const Tensor<double> want0 = direct(x, w, nullptr, cs.g);
  for (Index k = 0; k < want0.numel(); ++k)
    CHECK(y0.data()[k] == Approx(want0[k]).epsilon(1e-12).margin(1e-12));
  Tensor<double> c = filled(want.shape(), 0.53, 0.7);
  auto r = gradcheck<double>(
      [&](const std::vector<Var<double>>& v) {
        return sum(conv2d(v[0], v[1], v[2], cs.g) * Var<double>::from(c));
      },
      {x, w, b});
  INFO(r.message());
  CHECK(r.ok);
  auto rwb = gradcheck<double>(
      [&](const std::vector<Var<double>>& v) {
        return sum(conv2d(Var<double>::from(x), v[0], v[1], cs.g) * Var<double>::from(c));
      },
      {w, b});
  INFO(rwb.message());
  CHECK(rwb.ok);
  return c;
}
}  // namespace

TEST_CASE("conv2d: values and gradients for every geometry", "[autograd][conv][gradcheck]") {
  const Case cases[] = {
      {"3x3, padding 1", {2, 3, 5, 6}, {4, 3, 3, 3}, Conv2dGeometry().padding(1)},
      {"stride 2, no padding", {2, 2, 7, 6}, {3, 2, 3, 3}, Conv2dGeometry().stride(2)},
      {"stride (2, 1), padding (0, 2)",
       {1, 2, 6, 5},
       {2, 2, 2, 3},
       Conv2dGeometry().stride(2, 1).padding(0, 2)},
      {"dilation 2, padding 2",
       {1, 2, 7, 7},
       {3, 2, 3, 3},
       Conv2dGeometry().dilation(2).padding(2)},
      {"groups 2", {2, 4, 5, 5}, {6, 2, 3, 3}, Conv2dGeometry().groups(2).padding(1)},
      {"depthwise", {2, 3, 5, 4}, {3, 1, 3, 3}, Conv2dGeometry().groups(3).padding(1)},
      {"1x1", {2, 4, 3, 3}, {5, 4, 1, 1}, Conv2dGeometry()},
      {"1x1 stride 2", {1, 3, 5, 5}, {2, 3, 1, 1}, Conv2dGeometry().stride(2)},
      {"groups 2, five samples", {5, 4, 4, 4}, {6, 2, 3, 3}, Conv2dGeometry().groups(2).padding(1)},
  };
  // Samples are lowered in chunks (one product per chunk): the default budget (one chunk here),
  // one sample per chunk, and two samples per chunk (a shorter last chunk when N is odd).
  // The forward's columns are kept for the weight's gradient (default) or recomputed (chunking
  // 1 sets the keep budget to 0).
  const Index default_budget = autograd::detail::conv_chunk_budget();
  const Index default_keep = autograd::detail::conv_keep_budget();
  const Index default_sample = autograd::detail::conv_sample_budget();
  struct Restore {
    Index b, k, s;
    ~Restore() {
      autograd::detail::conv_chunk_budget() = b;
      autograd::detail::conv_keep_budget() = k;
      autograd::detail::conv_sample_budget() = s;
    }
  } restore{default_budget, default_keep, default_sample};
  for (int chunking = 0; chunking < 3; ++chunking)
    for (const Case& cs : cases) {
      {
        // rows · cols of the lowering: (C/groups · KH · KW) · (HO · WO).
        const Shape ys = direct(Tensor<double>(cs.x), Tensor<double>(cs.w), nullptr, cs.g).shape();
        const Index per = cs.w[1] * cs.w[2] * cs.w[3] * ys[2] * ys[3];
        autograd::detail::conv_chunk_budget() =
            chunking == 0 ? default_budget : (chunking == 1 ? 1 : 2 * per);
        autograd::detail::conv_keep_budget() = chunking == 1 ? 0 : default_keep;
        // Default: these small panels are lowered one sample at a time; chunkings 1 and 2 take
        // the chunked path (several samples per product).
        autograd::detail::conv_sample_budget() = chunking == 0 ? default_sample : 0;
      }
      INFO(cs.what << ", chunking " << chunking);
      const Tensor<double> x = filled(cs.x, 0.37, 0.1), w = filled(cs.w, 0.91, 0.4);
      const Tensor<double> b = filled(Shape{cs.w[0]}, 1.3, 0.2);
      check_values_and_gradients(cs, x, w, b);
    }
}

TEST_CASE(
    "conv2d: the direct kernels (few input channels, stride 1, no padding) on every "
    "instruction set",
    "[autograd][conv][gradcheck]") {
  // Stride 1, no padding, no dilation, C/groups·KH·KW <= 64: the direct forward and weight
  // gradient (conv_direct.hpp) on AVX-512 and AVX2 (when the processor has them), and im2col +
  // GEMM with ONESTONE_GEMM=eigen; rows shorter and longer than one and two vectors, kernels
  // wider than one column block (5), channel blocks of every size, more samples than one
  // partial sum of the weight gradient (8); and two strided cases for im2col's kernels.
  const Case cases[] = {
      {"LeNet conv1 (1 -> 10, 5x5)", {9, 1, 12, 21}, {10, 1, 5, 5}, Conv2dGeometry()},
      {"2 -> 3, 3x4, long rows", {2, 2, 6, 40}, {3, 2, 3, 4}, Conv2dGeometry()},
      {"1 -> 20, 2x7 (two column blocks)", {3, 1, 4, 12}, {20, 1, 2, 7}, Conv2dGeometry()},
      {"groups 2", {2, 4, 6, 7}, {6, 2, 2, 3}, Conv2dGeometry().groups(2)},
      {"3 -> 9, 1x1, one column", {17, 3, 2, 1}, {9, 3, 1, 1}, Conv2dGeometry()},
      // Not direct: im2col's vectorised loops for horizontal stride 2 and for short rows.
      {"stride 2, padding 1 (im2col)",
       {2, 3, 7, 9},
       {4, 3, 3, 3},
       Conv2dGeometry().stride(2).padding(1)},
      {"stride 2, padding 1, rows of 20 (im2col, several vectors a row)",
       {1, 2, 5, 40},
       {3, 2, 3, 3},
       Conv2dGeometry().stride(2).padding(1)},
      {"stride (1, 2), padding (2, 0) (im2col)",
       {1, 2, 6, 10},
       {3, 2, 2, 3},
       Conv2dGeometry().stride(1, 2).padding(2, 0)},
      // Rows of at most one vector (one vector a row, stored whole into the rows after it) and
      // col2im's gather four input rows at a time, with the rows left over and padded ones.
      {"LeNet conv2 (10 -> 20, 5x5, rows of 8, im2col)",
       {1, 10, 12, 12},
       {20, 10, 5, 5},
       Conv2dGeometry()},
      {"padding 1, rows of 5 (im2col)", {2, 3, 7, 5}, {4, 3, 3, 3}, Conv2dGeometry().padding(1)},
      {"padding (2, 1), rows of 3 (im2col)",
       {2, 9, 6, 3},
       {2, 9, 2, 3},
       Conv2dGeometry().padding(2, 1)},
  };
  const autograd::detail::GemmIsa before = autograd::detail::gemm_isa_setting();
  struct Restore {
    autograd::detail::GemmIsa isa;
    ~Restore() { autograd::detail::gemm_isa_setting() = isa; }
  } restore{before};
  for (const autograd::detail::GemmIsa isa :
       {autograd::detail::GemmIsa::Avx512, autograd::detail::GemmIsa::Avx2,
        autograd::detail::GemmIsa::Eigen})
    for (const Case& cs : cases) {
      autograd::detail::set_gemm_isa(isa);
      INFO(cs.what << ", isa " << static_cast<int>(autograd::detail::gemm_isa_setting()));
      const Tensor<double> x = filled(cs.x, 0.37, 0.1), w = filled(cs.w, 0.91, 0.4);
      const Tensor<double> b = filled(Shape{cs.w[0]}, 1.3, 0.2);
      // Finite differences with every input requiring a gradient and with the weight and bias
      // only (both in the helper).
      const Tensor<double> c = check_values_and_gradients(cs, x, w, b);
      const Tensor<double> want = direct(x, w, &b, cs.g);
      auto& tape = autograd::Tape<double>::current();
      // Float close to double, values and the weight's gradient.
      auto& tf = autograd::Tape<float>::current();
      tf.reset();
      Tensor<float> xf(cs.x), wf(cs.w), bf(Shape{cs.w[0]}), cf(want.shape());
      for (Index k = 0; k < xf.numel(); ++k) xf[k] = static_cast<float>(x[k]);
      for (Index k = 0; k < wf.numel(); ++k) wf[k] = static_cast<float>(w[k]);
      for (Index k = 0; k < bf.numel(); ++k) bf[k] = static_cast<float>(b[k]);
      for (Index k = 0; k < cf.numel(); ++k) cf[k] = static_cast<float>(c[k]);
      const Var<float> wv = Var<float>::variable(wf, true);
      const Var<float> yf = conv2d(Var<float>::from(xf), wv, Var<float>::from(bf), cs.g);
      for (Index k = 0; k < want.numel(); ++k)
        CHECK(std::abs(yf.data()[k] - want[k]) <= 1e-5 * (1 + std::abs(want[k])));
      sum(yf * Var<float>::from(cf)).backward();
      tape.reset();
      const Var<double> wd = Var<double>::variable(w, true);
      sum(conv2d(Var<double>::from(x), wd, Var<double>::from(b), cs.g) * Var<double>::from(c))
          .backward();
      for (Index k = 0; k < w.numel(); ++k)
        CHECK(std::abs(wv.grad_view().data()[k] - wd.grad_view().data()[k]) <=
              1e-4 * (1 + std::abs(wd.grad_view().data()[k])));
    }
}

TEST_CASE("conv2d: Winograd F(2x2, 3x3) against the definition, im2col and finite differences",
          "[autograd][conv][gradcheck]") {
  // 3x3, stride 1, >= 8 channels in and out: Winograd's F(2x2, 3x3), on AVX-512 and AVX2 (when
  // the processor has them). Even and odd output sizes (edge tiles cut), paddings 0, 1, 2 and
  // (0, 1), one output row, more samples than one partial sum of the weight's gradient (8).
  const Case cases[] = {
      {"8 -> 8, 6x6, padding 1", {1, 8, 6, 6}, {8, 8, 3, 3}, Conv2dGeometry().padding(1)},
      {"9 -> 10, 7x5 (odd), padding 1", {3, 9, 7, 5}, {10, 9, 3, 3}, Conv2dGeometry().padding(1)},
      {"8 -> 8, 5x8, no padding", {2, 8, 5, 8}, {8, 8, 3, 3}, Conv2dGeometry()},
      {"9 samples, padding 2", {9, 8, 4, 4}, {8, 8, 3, 3}, Conv2dGeometry().padding(2)},
      {"one output row, padding (0, 1)",
       {2, 8, 3, 3},
       {9, 8, 3, 3},
       Conv2dGeometry().padding(0, 1)},
  };
  const autograd::detail::GemmIsa before = autograd::detail::gemm_isa_setting();
  struct Restore {
    autograd::detail::GemmIsa isa;
    ~Restore() {
      autograd::detail::gemm_isa_setting() = isa;
      autograd::detail::conv_winograd_enabled() = true;
    }
  } restore{before};
  for (const autograd::detail::GemmIsa isa :
       {autograd::detail::GemmIsa::Avx512, autograd::detail::GemmIsa::Avx2}) {
    autograd::detail::set_gemm_isa(isa);
    if (autograd::detail::gemm_isa_setting() == autograd::detail::GemmIsa::Eigen) continue;
    for (const Case& cs : cases) {
      INFO(cs.what << ", isa " << static_cast<int>(autograd::detail::gemm_isa_setting()));
      const Tensor<double> x = filled(cs.x, 0.37, 0.1), w = filled(cs.w, 0.91, 0.4);
      const Tensor<double> b = filled(Shape{cs.w[0]}, 1.3, 0.2);
      // Also the input needing no gradient (Uᵀ then not formed): weight and bias only.
      check_values_and_gradients(cs, x, w, b);
    }
    // Several blocks of tile rows per sample (64 channels, 20x20: 10 tile rows in blocks of 3 in
    // double, 6 in float), every gradient against im2col's in double and float against double.
    const Shape xs{3, 64, 20, 20}, ws{64, 64, 3, 3};
    const Conv2dGeometry g = Conv2dGeometry().padding(1);
    const Tensor<double> x = filled(xs, 0.37, 0.1), w = filled(ws, 0.91, 0.1);
    const Tensor<double> b = filled(Shape{64}, 1.3, 0.2),
                         c = filled(Shape{3, 64, 20, 20}, 0.53, 0.7);
    std::vector<double> got[2][4];
    for (int path = 0; path < 2; ++path) {  // 0: Winograd, 1: im2col
      autograd::detail::conv_winograd_enabled() = path == 0;
      auto& tape = autograd::Tape<double>::current();
      tape.reset();
      const Var<double> xv = Var<double>::variable(x, true), wv = Var<double>::variable(w, true),
                        bv = Var<double>::variable(b, true);
      const Var<double> y = conv2d(xv, wv, bv, g);
      sum(y * Var<double>::from(c)).backward();
      got[path][0].assign(y.data(), y.data() + y.numel());
      got[path][1].assign(xv.grad_view().data(), xv.grad_view().data() + x.numel());
      got[path][2].assign(wv.grad_view().data(), wv.grad_view().data() + w.numel());
      got[path][3].assign(bv.grad_view().data(), bv.grad_view().data() + b.numel());
    }
    autograd::detail::conv_winograd_enabled() = true;
    for (int q = 0; q < 4; ++q) {
      INFO("output " << q);
      double scale = 0;
      for (const double v : got[1][q]) scale = std::max(scale, std::abs(v));
      for (std::size_t i = 0; i < got[1][q].size(); ++i)
        REQUIRE(std::abs(got[0][q][i] - got[1][q][i]) <= 1e-13 * scale);
    }
    // Float: Winograd's largest error (relative to the largest value) against double, next to
    // im2col's in float; F(2x2, 3x3) adds roundings in its transforms (Lavin & Gray): within 8
    // times (measured: 1.7, 3 and 6 times for the output, the input's and the weight's gradient).
    Tensor<float> xf(xs), wf(ws), bf(Shape{64}), cf(c.shape());
    for (Index k = 0; k < xf.numel(); ++k) xf[k] = static_cast<float>(x[k]);
    for (Index k = 0; k < wf.numel(); ++k) wf[k] = static_cast<float>(w[k]);
    for (Index k = 0; k < bf.numel(); ++k) bf[k] = static_cast<float>(b[k]);
    for (Index k = 0; k < cf.numel(); ++k) cf[k] = static_cast<float>(c[k]);
    double err[2][3];
    for (int path = 0; path < 2; ++path) {
      autograd::detail::conv_winograd_enabled() = path == 0;
      auto& tf = autograd::Tape<float>::current();
      tf.reset();
      const Var<float> xv = Var<float>::variable(xf, true), wv = Var<float>::variable(wf, true);
      const Var<float> yf = conv2d(xv, wv, Var<float>::from(bf), g);
      sum(yf * Var<float>::from(cf)).backward();
      const float* fgot[3] = {yf.data(), xv.grad_view().data(), wv.grad_view().data()};
      for (int q = 0; q < 3; ++q) {
        double scale = 0, e = 0;
        for (const double v : got[1][q]) scale = std::max(scale, std::abs(v));
        for (std::size_t i = 0; i < got[1][q].size(); ++i)
          e = std::max(e, std::abs(double(fgot[q][i]) - got[1][q][i]));
        err[path][q] = e / scale;
      }
    }
    autograd::detail::conv_winograd_enabled() = true;
    for (int q = 0; q < 3; ++q) {
      INFO("float output " << q << ": Winograd's error " << err[0][q] << ", im2col's "
                           << err[1][q]);
      CHECK(err[0][q] <= 8 * err[1][q]);
      CHECK(err[0][q] <= 1e-5);
    }
  }
}

TEST_CASE("conv2d: LeNet's and a 3x3 convolution give the same bits on 1 and 2 threads",
          "[autograd][conv]") {
  // conv 1→10 5×5 (direct kernels), conv 10→20 5×5 (one sample a task) and conv 16→16 3×3
  // (Winograd), forward and every gradient, large enough to be split across threads.
  const int before = get_num_threads();
  struct Restore {
    int n;
    ~Restore() { set_num_threads(n); }
  } restore{before};
  const Shape xs[] = {{20, 1, 28, 28}, {20, 10, 12, 12}, {20, 16, 12, 12}},
              ws[] = {{10, 1, 5, 5}, {20, 10, 5, 5}, {16, 16, 3, 3}};
  for (int k = 0; k < 3; ++k) {
    Tensor<float> x(xs[k]), w(ws[k]), b(Shape{ws[k][0]});
    for (Index i = 0; i < x.numel(); ++i) x[i] = std::sin(0.37f * static_cast<float>(i));
    for (Index i = 0; i < w.numel(); ++i) w[i] = std::cos(0.91f * static_cast<float>(i));
    for (Index i = 0; i < b.numel(); ++i) b[i] = 0.1f * static_cast<float>(i);
    std::vector<float> first[4];
    for (int threads = 1; threads <= 2; ++threads) {
      set_num_threads(threads);
      auto& tape = autograd::Tape<float>::current();
      tape.reset();
      const Var<float> xv = Var<float>::variable(x, true), wv = Var<float>::variable(w, true),
                       bv = Var<float>::variable(b, true);
      const Var<float> y = conv2d(xv, wv, bv);
      Tensor<float> c(y.shape());
      for (Index i = 0; i < c.numel(); ++i) c[i] = std::cos(0.53f * static_cast<float>(i));
      sum(y * Var<float>::from(c)).backward();
      const float* got[4] = {y.data(), xv.grad_view().data(), wv.grad_view().data(),
                             bv.grad_view().data()};
      const Index n[4] = {y.numel(), x.numel(), w.numel(), b.numel()};
      for (int q = 0; q < 4; ++q) {
        if (threads == 1) {
          first[q].assign(got[q], got[q] + n[q]);
          continue;
        }
        INFO("shape " << k << ", output " << q);
        for (Index i = 0; i < n[q]; ++i)
          REQUIRE(got[q][i] == first[q][static_cast<std::size_t>(i)]);
      }
    }
  }
}

TEST_CASE("conv2d rejects bad shapes and geometry, naming both shapes",
          "[autograd][conv][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  auto v = [](Shape s) { return Var<float>::from(Tensor<float>(s)); };
  using Catch::Contains;
  CHECK_THROWS_WITH(conv2d(v({2, 3, 5}), v({4, 3, 3, 3})),
                    Contains("conv2d") && Contains("[2, 3, 5]"));
  CHECK_THROWS_WITH(conv2d(v({2, 3, 5, 5}), v({4, 2, 3, 3})),
                    Contains("conv2d") && Contains("[4, 2, 3, 3]") && Contains("groups = 1"));
  CHECK_THROWS_WITH(conv2d(v({1, 1, 2, 2}), v({1, 1, 3, 3})),
                    Contains("larger than the padded input"));
  CHECK_THROWS_WITH(
      conv2d(v({1, 4, 5, 5}), v({4, 2, 3, 3}), Var<float>(), Conv2dGeometry().groups(3)),
      Contains("groups = 3"));
  CHECK_THROWS_WITH(conv2d(v({1, 1, 5, 5}), v({2, 1, 3, 3}), v({3})),
                    Contains("bias of shape [3]"));
  CHECK_THROWS_WITH(
      conv2d(v({1, 1, 5, 5}), v({2, 1, 3, 3}), Var<float>(), Conv2dGeometry().stride(0)),
      Contains("stride"));
}

TEST_CASE("Conv2d layer: shapes, names, PyTorch's initial bounds, float close to double",
          "[nn][conv]") {
  nn::Conv2d<float> conv(nn::Conv2dOptions(3, 8, 3).padding(1).stride(2).seed(1));
  CHECK(conv.named_parameters()[0].first == "weight");
  CHECK(conv.weight().shape() == Shape({8, 3, 3, 3}));
  const double bound = 1.0 / std::sqrt(27.0);
  for (Index k = 0; k < conv.weight().numel(); ++k)
    CHECK(std::abs(conv.weight().value()[k]) <= bound);
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  Tensor<float> x({2, 3, 9, 9});
  for (Index k = 0; k < x.numel(); ++k) x[k] = std::cos(0.1f * static_cast<float>(k));
  const Var<float> y = conv.forward(Var<float>::from(x));
  CHECK(y.shape() == Shape({2, 8, 5, 5}));
  // The same layer in double.
  Tensor<double> xd({2, 3, 9, 9}), wd({8, 3, 3, 3}), bd({8});
  for (Index k = 0; k < x.numel(); ++k) xd[k] = x[k];
  for (Index k = 0; k < wd.numel(); ++k) wd[k] = conv.weight().value()[k];
  for (Index k = 0; k < 8; ++k) bd[k] = conv.bias()->value()[k];
  const Tensor<double> want = direct(xd, wd, &bd, Conv2dGeometry().padding(1).stride(2));
  for (Index k = 0; k < want.numel(); ++k)
    CHECK(std::abs(y.data()[k] - want[k]) <= 1e-5 * (1 + std::abs(want[k])));
  CHECK_THROWS_WITH(nn::Conv2d<float>(nn::Conv2dOptions(3, 8, 3).groups(2)),
                    Catch::Contains("groups 2"));
}

}  // namespace test_autograd_conv
