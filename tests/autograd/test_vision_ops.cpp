// Vision operations: batch_norm (training and evaluation, running statistics),
// adaptive_avg_pool2d, dropout2d, upsample (nearest, bilinear with and without align_corners)
// and conv_transpose2d: values against direct loops or hand-computed numbers, gradients by
// finite differences in double, bad input rejected naming the operation and the shapes.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "../common/filled.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_vision_ops {

using namespace onestone;

namespace {
using testing::filled;
void check_close(const Var<double>& y, const Tensor<double>& want, double tol = 1e-12) {
  REQUIRE(y.shape() == want.shape());
  for (Index k = 0; k < want.numel(); ++k) {
    INFO("element " << k);
    CHECK(std::abs(y.data()[k] - want[k]) <= tol * (1 + std::abs(want[k])));
  }
}
void check_values(const Var<double>& y, std::initializer_list<double> want, double tol = 1e-12) {
  REQUIRE(y.numel() == static_cast<Index>(want.size()));
  Index k = 0;
  for (double w : want) {
    INFO("element " << k);
    CHECK(std::abs(y.data()[k++] - w) <= tol * (1 + std::abs(w)));
  }
}
// sum(y * c) for a fixed c of y's shape: a scalar whose gradient reaches every output.
Var<double> weighted(const Var<double>& y) {
  Tensor<double> c(y.shape());
  for (Index k = 0; k < c.numel(); ++k) c[k] = std::cos(0.61 * static_cast<double>(k) + 0.2);
  return sum(y * Var<double>::from(std::move(c)));
}

// batch_norm by its definition, x viewed as [N, C, S].
Tensor<double> bn_direct(const Tensor<double>& x, const double* mean, const double* var,
                         const Tensor<double>* w, const Tensor<double>* b, double eps) {
  const Index N = x.size(0), C = x.size(1), S = x.numel() / (N * C);
  Tensor<double> y(x.shape());
  for (Index n = 0; n < N; ++n)
    for (Index c = 0; c < C; ++c)
      for (Index s = 0; s < S; ++s) {
        const Index k = (n * C + c) * S + s;
        y[k] =
            (x[k] - mean[c]) / std::sqrt(var[c] + eps) * (w ? (*w)[c] : 1.0) + (b ? (*b)[c] : 0.0);
      }
  return y;
}
// Per-channel batch mean and biased variance.
void channel_stats(const Tensor<double>& x, std::vector<double>& mean, std::vector<double>& var) {
  const Index N = x.size(0), C = x.size(1), S = x.numel() / (N * C);
  mean.assign(static_cast<std::size_t>(C), 0.0);
  var.assign(static_cast<std::size_t>(C), 0.0);
  for (Index c = 0; c < C; ++c) {
    double s = 0, ss = 0;
    for (Index n = 0; n < N; ++n)
      for (Index k = 0; k < S; ++k) s += x[(n * C + c) * S + k];
    const double m = s / static_cast<double>(N * S);
    for (Index n = 0; n < N; ++n)
      for (Index k = 0; k < S; ++k) ss += std::pow(x[(n * C + c) * S + k] - m, 2);
    mean[static_cast<std::size_t>(c)] = m;
    var[static_cast<std::size_t>(c)] = ss / static_cast<double>(N * S);
  }
}

// conv_transpose2d by a direct scatter loop.
Tensor<double> convt_direct(const Tensor<double>& x, const Tensor<double>& w,
                            const Tensor<double>* b, const ConvTranspose2dGeometry& g) {
  const Index N = x.size(0), CI = x.size(1), H = x.size(2), W = x.size(3);
  const Index CG = w.size(1), KH = w.size(2), KW = w.size(3), G = g.groups_;
  const Index CO = CG * G, IG = CI / G;
  const Index HO = (H - 1) * g.sh_ - 2 * g.ph_ + g.dh_ * (KH - 1) + g.oph_ + 1;
  const Index WO = (W - 1) * g.sw_ - 2 * g.pw_ + g.dw_ * (KW - 1) + g.opw_ + 1;
  Tensor<double> y({N, CO, HO, WO});
  for (Index n = 0; n < N; ++n)
    for (Index co = 0; co < CO; ++co)
      for (Index k = 0; k < HO * WO; ++k) y[(n * CO + co) * HO * WO + k] = b ? (*b)[co] : 0.0;
  for (Index n = 0; n < N; ++n)
    for (Index ci = 0; ci < CI; ++ci)
      for (Index iy = 0; iy < H; ++iy)
        for (Index ix = 0; ix < W; ++ix)
          for (Index c = 0; c < CG; ++c)
            for (Index i = 0; i < KH; ++i)
              for (Index j = 0; j < KW; ++j) {
                const Index oy = iy * g.sh_ - g.ph_ + i * g.dh_;
                const Index ox = ix * g.sw_ - g.pw_ + j * g.dw_;
                if (oy < 0 || oy >= HO || ox < 0 || ox >= WO) continue;
                const Index co = (ci / IG) * CG + c;
                y[((n * CO + co) * HO + oy) * WO + ox] +=
                    x[((n * CI + ci) * H + iy) * W + ix] * w[((ci * CG + c) * KH + i) * KW + j];
              }
  return y;
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// batch_norm
// ---------------------------------------------------------------------------------------------

TEST_CASE("batch_norm: training values and running statistics by hand", "[autograd][batch_norm]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  // Channel 0 holds 1, 2, 3, 4 and channel 1 holds 2, 4, 6, 8.
  const Tensor<double> x = Tensor<double>::from({1, 2, 2, 4, 3, 6, 4, 8}, {4, 2});
  Tensor<double> rm = Tensor<double>::zeros({2}), rv = Tensor<double>::ones({2});
  const Var<double> y = batch_norm(Var<double>::from(x), &rm, &rv, Var<double>(), Var<double>(),
                                   /*training=*/true);
  const double s0 = std::sqrt(1.25 + 1e-5), s1 = std::sqrt(5.0 + 1e-5);
  check_values(y, {-1.5 / s0, -3 / s1, -0.5 / s0, -1 / s1, 0.5 / s0, 1 / s1, 1.5 / s0, 3 / s1});
  // Means 2.5 and 5; unbiased variances 5/3 and 20/3; momentum 0.1.
  CHECK(rm[0] == Approx(0.25).epsilon(1e-14));
  CHECK(rm[1] == Approx(0.5).epsilon(1e-14));
  CHECK(rv[0] == Approx(0.9 + 0.1 * 5.0 / 3).epsilon(1e-14));
  CHECK(rv[1] == Approx(0.9 + 0.1 * 20.0 / 3).epsilon(1e-14));
  // A second step with momentum 0.5.
  batch_norm(Var<double>::from(x), &rm, &rv, Var<double>(), Var<double>(), true, 0.5);
  CHECK(rm[0] == Approx(0.5 * 0.25 + 0.5 * 2.5).epsilon(1e-14));
  CHECK(rv[1] == Approx(0.5 * (0.9 + 0.1 * 20.0 / 3) + 0.5 * 20.0 / 3).epsilon(1e-14));
  // Evaluation uses the running statistics, with the affine parameters.
  const Tensor<double> w = Tensor<double>::from({2, -1}, {2}),
                       b = Tensor<double>::from({0.5, 3}, {2});
  const Var<double> e = batch_norm(Var<double>::from(x), &rm, &rv, Var<double>::from(w),
                                   Var<double>::from(b), /*training=*/false);
  check_close(e, bn_direct(x, rm.data(), rv.data(), &w, &b, 1e-5));
  CHECK(rm[0] == Approx(1.375));  // evaluation leaves the statistics alone
  // Without running statistics, training works and changes nothing else.
  const Var<double> t = batch_norm(Var<double>::from(x), nullptr, nullptr, Var<double>(),
                                   Var<double>(), true, 0.1, 1e-3);
  CHECK(t.data()[0] == Approx(-1.5 / std::sqrt(1.25 + 1e-3)));
}

TEST_CASE("batch_norm: values against the definition for every rank", "[autograd][batch_norm]") {
  const Shape shapes[] = {{5, 3}, {3, 4, 5}, {2, 3, 4, 5}};
  for (const Shape& s : shapes) {
    INFO("input " << s.str());
    auto& tape = autograd::Tape<double>::current();
    tape.reset();
    const Tensor<double> x = filled(s, 0.71, 0.3);
    const Tensor<double> w = filled(Shape{s[1]}, 1.1, 0.5), b = filled(Shape{s[1]}, 0.4, 1.0);
    std::vector<double> mean, var;
    channel_stats(x, mean, var);
    Tensor<double> rm = filled(Shape{s[1]}, 0.2, 0.1), rv = Tensor<double>::full({s[1]}, 0.7);
    const Tensor<double> rm0 = rm, rv0 = rv;
    const Var<double> y = batch_norm(Var<double>::from(x), &rm, &rv, Var<double>::from(w),
                                     Var<double>::from(b), true, 0.3, 1e-4);
    check_close(y, bn_direct(x, mean.data(), var.data(), &w, &b, 1e-4));
    const double M = static_cast<double>(x.numel() / s[1]);
    for (Index c = 0; c < s[1]; ++c) {
      const std::size_t cu = static_cast<std::size_t>(c);
      CHECK(rm[c] == Approx(0.7 * rm0[c] + 0.3 * mean[cu]).epsilon(1e-13));
      CHECK(rv[c] == Approx(0.7 * rv0[c] + 0.3 * var[cu] * M / (M - 1)).epsilon(1e-13));
    }
    const Var<double> e = batch_norm(Var<double>::from(x), &rm, &rv, Var<double>::from(w),
                                     Var<double>::from(b), false, 0.3, 1e-4);
    check_close(e, bn_direct(x, rm.data(), rv.data(), &w, &b, 1e-4));
  }
}

TEST_CASE("batch_norm: gradients by finite differences in training and evaluation",
          "[autograd][batch_norm][gradcheck]") {
  const Shape shapes[] = {{6, 3}, {3, 2, 5}, {2, 3, 3, 4}};
  for (const Shape& s : shapes) {
    const Tensor<double> x = filled(s, 1.37, 0.2);
    const Tensor<double> w = filled(Shape{s[1]}, 0.9, 0.7), b = filled(Shape{s[1]}, 2.1, 0.3);
    for (int training = 0; training < 2; ++training) {
      INFO("input " << s.str() << (training ? " training" : " evaluation"));
      Tensor<double> rm = filled(Shape{s[1]}, 0.3, 0.4), rv = Tensor<double>::full({s[1]}, 1.7);
      // x, weight and bias.
      auto r = gradcheck<double>(
          [&](const std::vector<Var<double>>& v) {
            return weighted(batch_norm(v[0], &rm, &rv, v[1], v[2], training == 1));
          },
          {x, w, b});
      INFO(r.message());
      CHECK(r.ok);
      // x alone, no affine parameters.
      auto r0 = gradcheck<double>(
          [&](const std::vector<Var<double>>& v) {
            return weighted(
                batch_norm(v[0], &rm, &rv, Var<double>(), Var<double>(), training == 1));
          },
          {x});
      INFO(r0.message());
      CHECK(r0.ok);
    }
    // Weight only.
    Tensor<double> rm = Tensor<double>::zeros({s[1]}), rv = Tensor<double>::ones({s[1]});
    auto r1 = gradcheck<double>(
        [&](const std::vector<Var<double>>& v) {
          return weighted(batch_norm(v[0], &rm, &rv, v[1], Var<double>(), true));
        },
        {x, w});
    INFO(r1.message());
    CHECK(r1.ok);
  }
}

TEST_CASE("batch_norm rejects bad input, naming the shapes", "[autograd][batch_norm][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  auto v = [](Shape s) { return Var<float>::from(Tensor<float>(s)); };
  Tensor<float> rm = Tensor<float>::zeros({3}), rv = Tensor<float>::ones({3});
  Tensor<float> bad = Tensor<float>::zeros({4});
  using Catch::Contains;
  CHECK_THROWS_WITH(batch_norm(v({4}), &rm, &rv), Contains("batch_norm") && Contains("[4]"));
  CHECK_THROWS_WITH(batch_norm(v({2, 3, 4, 4}), &bad, &rv),
                    Contains("batch_norm") && Contains("[2, 3, 4, 4]") && Contains("[4]"));
  CHECK_THROWS_WITH(batch_norm(v({2, 3}), &rm, &rv, v({4})),
                    Contains("weight") && Contains("[2, 3]") && Contains("[4]"));
  CHECK_THROWS_WITH(batch_norm(v({2, 3}), &rm, &rv, v({3}), v({2})),
                    Contains("bias") && Contains("[2, 3]") && Contains("[2]"));
  CHECK_THROWS_WITH(batch_norm(v({2, 3}), nullptr, nullptr), Contains("evaluation mode needs"));
  CHECK_THROWS_WITH(batch_norm(v({2, 3}), &rm, nullptr, Var<float>(), Var<float>(), true),
                    Contains("both running_mean and running_var"));
  CHECK_THROWS_WITH(batch_norm(v({1, 3}), &rm, &rv, Var<float>(), Var<float>(), true),
                    Contains("more than 1 value per channel") && Contains("[1, 3]"));
  CHECK_THROWS_WITH(batch_norm(v({2, 3}), &rm, &rv, Var<float>(), Var<float>(), true, 1.5),
                    Contains("momentum"));
  // One sample is fine in evaluation mode.
  CHECK(batch_norm(v({1, 3}), &rm, &rv).shape() == Shape({1, 3}));
}

// ---------------------------------------------------------------------------------------------
// adaptive_avg_pool2d
// ---------------------------------------------------------------------------------------------

TEST_CASE("adaptive_avg_pool2d: PyTorch's window bounds, by hand and by a direct loop",
          "[autograd][pool][adaptive]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  // One row 1..5 (H = 1, W = 5) pooled to width 3: windows [0, 2), [1, 4), [3, 5).
  const Tensor<double> r = Tensor<double>::from({1, 2, 3, 4, 5}, {1, 1, 1, 5});
  check_values(adaptive_avg_pool2d(Var<double>::from(r), {1, 3}), {1.5, 3, 4.5});
  // Width 2 to width 3 (output larger than input): windows [0, 1), [0, 2), [1, 2).
  const Tensor<double> two = Tensor<double>::from({2, 6}, {1, 1, 1, 2});
  check_values(adaptive_avg_pool2d(Var<double>::from(two), {1, 3}), {2, 4, 6});
  // Global average pooling.
  const Tensor<double> x = filled({2, 3, 5, 7}, 0.43, 0.1);
  const Var<double> gap = adaptive_avg_pool2d(Var<double>::from(x), {1, 1});
  CHECK(gap.shape() == Shape({2, 3, 1, 1}));
  for (Index p = 0; p < 6; ++p) {
    double s = 0;
    for (Index k = 0; k < 35; ++k) s += x[p * 35 + k];
    CHECK(gap.data()[p] == Approx(s / 35).epsilon(1e-13));
  }
  // Every output size from 1 to 8 on a 5x7 input, against the definition.
  for (Index oh = 1; oh <= 8; ++oh)
    for (Index ow = 1; ow <= 8; ow += 3) {
      INFO("output " << oh << "x" << ow);
      const Var<double> y = adaptive_avg_pool2d(Var<double>::from(x), {oh, ow});
      Tensor<double> want({2, 3, oh, ow});
      for (Index p = 0; p < 6; ++p)
        for (Index i = 0; i < oh; ++i)
          for (Index j = 0; j < ow; ++j) {
            const Index i0 = static_cast<Index>(std::floor(i * 5.0 / oh));
            const Index i1 = static_cast<Index>(std::ceil((i + 1) * 5.0 / oh));
            const Index j0 = static_cast<Index>(std::floor(j * 7.0 / ow));
            const Index j1 = static_cast<Index>(std::ceil((j + 1) * 7.0 / ow));
            double s = 0;
            for (Index a = i0; a < i1; ++a)
              for (Index b = j0; b < j1; ++b) s += x[p * 35 + a * 7 + b];
            want[(p * oh + i) * ow + j] = s / static_cast<double>((i1 - i0) * (j1 - j0));
          }
      check_close(y, want);
    }
}

TEST_CASE("adaptive_avg_pool2d: gradients by finite differences",
          "[autograd][pool][adaptive][gradcheck]") {
  const Tensor<double> x = filled({2, 2, 5, 6}, 1.3, 0.4);
  const std::array<Index, 2> sizes[] = {{1, 1}, {2, 3}, {3, 4}, {5, 6}, {7, 8}};
  for (const auto& sz : sizes) {
    INFO("output " << sz[0] << "x" << sz[1]);
    auto r = gradcheck<double>(
        [&](const std::vector<Var<double>>& v) { return weighted(adaptive_avg_pool2d(v[0], sz)); },
        {x});
    INFO(r.message());
    CHECK(r.ok);
  }
}

TEST_CASE("adaptive_avg_pool2d rejects bad input", "[autograd][pool][adaptive][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  using Catch::Contains;
  CHECK_THROWS_WITH(adaptive_avg_pool2d(Var<float>::from(Tensor<float>({2, 4, 4})), {1, 1}),
                    Contains("adaptive_avg_pool2d") && Contains("[2, 4, 4]"));
  CHECK_THROWS_WITH(adaptive_avg_pool2d(Var<float>::from(Tensor<float>({1, 2, 4, 4})), {0, 1}),
                    Contains("adaptive_avg_pool2d") && Contains("0x1"));
}

// ---------------------------------------------------------------------------------------------
// dropout2d
// ---------------------------------------------------------------------------------------------

TEST_CASE("dropout2d zeroes whole channels, scales the rest, and is seeded",
          "[autograd][dropout]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  const Tensor<double> x = Tensor<double>::full({8, 16, 3, 2}, 2.0);
  Generator gen(11);
  const Var<double> y = dropout2d(Var<double>::from(x), 0.25, true, gen);
  Index dropped = 0;
  for (Index p = 0; p < 8 * 16; ++p) {
    const double first = y.data()[p * 6];
    CHECK((first == 0.0 || first == Approx(2.0 / 0.75)));
    for (Index k = 1; k < 6; ++k) CHECK(y.data()[p * 6 + k] == first);
    dropped += first == 0.0;
  }
  CHECK(dropped > 16);  // about 32 of 128
  CHECK(dropped < 50);
  // The same seed draws the same channels; one draw per channel.
  Generator again(11);
  const Var<double> z = dropout2d(Var<double>::from(x), 0.25, true, again);
  for (Index k = 0; k < x.numel(); ++k) CHECK(z.data()[k] == y.data()[k]);
  Generator count(11);
  for (int k = 0; k < 8 * 16; ++k) count.uniform();
  CHECK(count.next_u64() == again.next_u64());
  // Identity in evaluation mode and for p = 0; everything dropped for p = 1.
  const Var<double> xv = Var<double>::from(x);
  CHECK(dropout2d(xv, 0.5, false, gen).id() == xv.id());
  CHECK(dropout2d(xv, 0.0, true, gen).id() == xv.id());
  const Var<double> all = dropout2d(xv, 1.0, true, gen);
  for (Index k = 0; k < x.numel(); ++k) CHECK(all.data()[k] == 0.0);
}

TEST_CASE("dropout2d: gradients by finite differences (a fixed mask)",
          "[autograd][dropout][gradcheck]") {
  const Tensor<double> x = filled({3, 4, 2, 3}, 0.77, 0.1);
  auto r = gradcheck<double>(
      [&](const std::vector<Var<double>>& v) {
        Generator gen(5);  // the same mask at every evaluation
        return weighted(dropout2d(v[0], 0.4, true, gen));
      },
      {x});
  INFO(r.message());
  CHECK(r.ok);
}

TEST_CASE("dropout2d rejects bad input", "[autograd][dropout][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  using Catch::Contains;
  CHECK_THROWS_WITH(dropout2d(Var<float>::from(Tensor<float>({2, 3})), 0.5f, true),
                    Contains("dropout2d") && Contains("[2, 3]"));
  CHECK_THROWS_WITH(dropout2d(Var<float>::from(Tensor<float>({2, 3, 2, 2})), 1.5f, true),
                    Contains("dropout2d") && Contains("not in [0, 1]"));
}

// ---------------------------------------------------------------------------------------------
// upsample
// ---------------------------------------------------------------------------------------------

TEST_CASE("upsample: PyTorch's values for nearest and bilinear", "[autograd][upsample]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  // The example of PyTorch's nn.Upsample documentation: [[1, 2], [3, 4]] scaled by 2.
  const Var<double> x = Var<double>::from(Tensor<double>::from({1, 2, 3, 4}, {1, 1, 2, 2}));
  check_values(upsample(x, UpsampleOptions().scale_factor(2)),
               {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  check_values(upsample(x, UpsampleOptions().scale_factor(2).mode(UpsampleMode::Bilinear)),
               {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4});
  const double t = 1.0 / 3;
  check_values(
      upsample(x, UpsampleOptions().size(4).mode(UpsampleMode::Bilinear).align_corners(true)),
      {1, 1 + t, 1 + 2 * t, 2, 1 + 2 * t, 2, 2 + t, 2 + 2 * t, 2 + t, 2 + 2 * t, 3, 3 + t, 3, 3 + t,
       3 + 2 * t, 4});
  // Nearest to a size: row 1..3 to width 5 reads 0, 0, 1, 1, 2 (floor(i·3/5)).
  const Var<double> r = Var<double>::from(Tensor<double>::from({1, 2, 3}, {1, 1, 1, 3}));
  check_values(upsample(r, UpsampleOptions().size(1, 5)), {1, 1, 2, 2, 3});
  // Downsampling: width 3 to 2 reads columns 0 and 1 (floor(i·1.5)).
  check_values(upsample(r, UpsampleOptions().size(1, 2)), {1, 2});
  // Scale 1.5: width 3 -> 4, nearest reads floor(i/1.5) = 0, 0, 1, 2.
  check_values(upsample(r, UpsampleOptions().scale_factor(1, 1.5)), {1, 1, 2, 3});
  // Bilinear 3 -> 4, align_corners false: src = (i + ½)·0.75 − ½ = 0 (clamped), 0.625, 1.375,
  // 2.125 -> 1, 1.625, 2.375, 3 (the last clamped to the border).
  check_values(upsample(r, UpsampleOptions().size(1, 4).mode(UpsampleMode::Bilinear)),
               {1, 1.625, 2.375, 3});
  // align_corners true: src = i·2/3.
  check_values(
      upsample(r, UpsampleOptions().size(1, 4).mode(UpsampleMode::Bilinear).align_corners(true)),
      {1, 1 + 2 * t, 1 + 4 * t, 3});
  // Output of size 1 with align_corners reads the first element.
  check_values(
      upsample(r, UpsampleOptions().size(1, 1).mode(UpsampleMode::Bilinear).align_corners(true)),
      {1});
  // Same size: the identity.
  const Tensor<double> big = filled({2, 3, 4, 5}, 0.3, 0.2);
  check_close(
      upsample(Var<double>::from(big), UpsampleOptions().size(4, 5).mode(UpsampleMode::Bilinear)),
      big);
}

TEST_CASE("upsample: gradients by finite differences", "[autograd][upsample][gradcheck]") {
  const Tensor<double> x = filled({2, 2, 3, 4}, 1.1, 0.3);
  const UpsampleOptions cases[] = {
      UpsampleOptions().scale_factor(2),
      UpsampleOptions().size(5, 7),
      UpsampleOptions().size(2, 3),
      UpsampleOptions().scale_factor(1.5, 2.5),
      UpsampleOptions().scale_factor(2).mode(UpsampleMode::Bilinear),
      UpsampleOptions().size(5, 7).mode(UpsampleMode::Bilinear),
      UpsampleOptions().size(5, 7).mode(UpsampleMode::Bilinear).align_corners(true),
      UpsampleOptions().size(2, 3).mode(UpsampleMode::Bilinear),
      UpsampleOptions().scale_factor(1.7).mode(UpsampleMode::Bilinear).align_corners(true),
  };
  int index = 0;
  for (const UpsampleOptions& o : cases) {
    INFO("case " << index++);
    auto r = gradcheck<double>(
        [&](const std::vector<Var<double>>& v) { return weighted(upsample(v[0], o)); }, {x});
    INFO(r.message());
    CHECK(r.ok);
  }
}

TEST_CASE("upsample rejects bad input", "[autograd][upsample][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  const Var<float> x = Var<float>::from(Tensor<float>({1, 2, 3, 3}));
  using Catch::Contains;
  CHECK_THROWS_WITH(
      upsample(Var<float>::from(Tensor<float>({2, 3, 3})), UpsampleOptions().scale_factor(2)),
      Contains("upsample") && Contains("[2, 3, 3]"));
  CHECK_THROWS_WITH(upsample(x, UpsampleOptions()), Contains("exactly one of size and scale"));
  CHECK_THROWS_WITH(upsample(x, UpsampleOptions().size(4).scale_factor(2)),
                    Contains("exactly one"));
  CHECK_THROWS_WITH(upsample(x, UpsampleOptions().scale_factor(-1)), Contains("positive"));
  CHECK_THROWS_WITH(upsample(x, UpsampleOptions().scale_factor(0.2)),
                    Contains("[1, 2, 3, 3]") && Contains("0x0"));
  CHECK_THROWS_WITH(upsample(x, UpsampleOptions().scale_factor(2).align_corners(true)),
                    Contains("align_corners"));
}

// ---------------------------------------------------------------------------------------------
// conv_transpose2d
// ---------------------------------------------------------------------------------------------

namespace {
struct TCase {
  const char* what;
  Shape x, w;
  ConvTranspose2dGeometry g;
};
}  // namespace

TEST_CASE("conv_transpose2d: values against a scatter loop, gradients for every geometry",
          "[autograd][conv_transpose][gradcheck]") {
  const TCase cases[] = {
      {"3x3", {2, 3, 4, 5}, {3, 2, 3, 3}, ConvTranspose2dGeometry()},
      {"stride 2, padding 1, output padding 1",
       {1, 2, 3, 4},
       {2, 3, 3, 3},
       ConvTranspose2dGeometry().stride(2).padding(1).output_padding(1)},
      {"stride (2, 3), padding (0, 1)",
       {2, 2, 3, 3},
       {2, 2, 2, 3},
       ConvTranspose2dGeometry().stride(2, 3).padding(0, 1)},
      {"dilation 2, output padding 1",
       {1, 2, 3, 3},
       {2, 2, 2, 2},
       ConvTranspose2dGeometry().dilation(2).output_padding(1)},
      {"groups 2", {2, 4, 3, 3}, {4, 3, 3, 3}, ConvTranspose2dGeometry().groups(2).stride(2)},
      {"depthwise", {1, 3, 3, 4}, {3, 1, 3, 3}, ConvTranspose2dGeometry().groups(3).padding(1)},
      {"1x1 stride 2", {1, 3, 3, 3}, {3, 2, 1, 1}, ConvTranspose2dGeometry().stride(2)},
  };
  for (const TCase& cs : cases) {
    INFO(cs.what);
    const Tensor<double> x = filled(cs.x, 0.37, 0.1), w = filled(cs.w, 0.91, 0.4);
    const Tensor<double> b = filled(Shape{cs.w[1] * cs.g.groups_}, 1.3, 0.2);
    {
      auto& tape = autograd::Tape<double>::current();
      tape.reset();
      check_close(
          conv_transpose2d(Var<double>::from(x), Var<double>::from(w), Var<double>::from(b), cs.g),
          convt_direct(x, w, &b, cs.g));
      check_close(conv_transpose2d(Var<double>::from(x), Var<double>::from(w), Var<double>(), cs.g),
                  convt_direct(x, w, nullptr, cs.g));
    }
    auto r = gradcheck<double>(
        [&](const std::vector<Var<double>>& v) {
          return weighted(conv_transpose2d(v[0], v[1], v[2], cs.g));
        },
        {x, w, b});
    INFO(r.message());
    CHECK(r.ok);
  }
}

TEST_CASE("conv_transpose2d is the input-gradient of conv2d", "[autograd][conv_transpose]") {
  struct Geo {
    Index s, p, d, g;
  };
  const Geo geos[] = {{1, 0, 1, 1}, {2, 1, 1, 1}, {2, 0, 2, 1}, {1, 1, 1, 2}, {3, 2, 1, 1}};
  for (const Geo& gg : geos) {
    INFO("stride " << gg.s << " padding " << gg.p << " dilation " << gg.d << " groups " << gg.g);
    auto& tape = autograd::Tape<double>::current();
    tape.reset();
    // conv2d: z [2, 4, 9, 8] -> [2, 6, HO, WO] with weight [6, 4/g, 3, 3].
    const Tensor<double> zt = filled({2, 4, 9, 8}, 0.21, 0.5);
    const Tensor<double> w = filled({6, 4 / gg.g, 3, 3}, 0.83, 0.1);
    const Var<double> z = Var<double>::variable(zt);
    const Var<double> y =
        conv2d(z, Var<double>::from(w), Var<double>(),
               Conv2dGeometry().stride(gg.s).padding(gg.p).dilation(gg.d).groups(gg.g));
    const Tensor<double> seed = filled(y.shape(), 1.7, 0.9);
    y.backward(seed);
    // The transposed convolution of the seed, padded back to z's size.
    const Index eh = gg.d * 2 + 1;
    const Index op_h = 9 - ((y.size(2) - 1) * gg.s - 2 * gg.p + eh);
    const Index op_w = 8 - ((y.size(3) - 1) * gg.s - 2 * gg.p + eh);
    const Var<double> t =
        conv_transpose2d(Var<double>::from(seed), Var<double>::from(w), Var<double>(),
                         ConvTranspose2dGeometry()
                             .stride(gg.s)
                             .padding(gg.p)
                             .dilation(gg.d)
                             .groups(gg.g)
                             .output_padding(op_h, op_w));
    check_close(t, z.grad(), 1e-13);
  }
}

TEST_CASE("conv_transpose2d rejects bad shapes and geometry, naming both shapes",
          "[autograd][conv_transpose][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  auto v = [](Shape s) { return Var<float>::from(Tensor<float>(s)); };
  using Catch::Contains;
  CHECK_THROWS_WITH(conv_transpose2d(v({2, 3, 5}), v({3, 4, 3, 3})), Contains("conv_transpose2d") &&
                                                                         Contains("[2, 3, 5]") &&
                                                                         Contains("[3, 4, 3, 3]"));
  CHECK_THROWS_WITH(conv_transpose2d(v({2, 3, 5, 5}), v({4, 2, 3, 3})),
                    Contains("conv_transpose2d") && Contains("[2, 3, 5, 5]") &&
                        Contains("[4, 2, 3, 3]") && Contains("groups = 1"));
  CHECK_THROWS_WITH(conv_transpose2d(v({1, 3, 5, 5}), v({3, 2, 3, 3}), Var<float>(),
                                     ConvTranspose2dGeometry().groups(2)),
                    Contains("groups = 2"));
  CHECK_THROWS_WITH(conv_transpose2d(v({1, 2, 5, 5}), v({2, 2, 3, 3}), v({3})),
                    Contains("bias of shape [3]") && Contains("expected [2]"));
  CHECK_THROWS_WITH(conv_transpose2d(v({1, 2, 5, 5}), v({2, 2, 3, 3}), Var<float>(),
                                     ConvTranspose2dGeometry().output_padding(1)),
                    Contains("output padding"));
  CHECK_THROWS_WITH(conv_transpose2d(v({1, 2, 1, 1}), v({2, 2, 1, 1}), Var<float>(),
                                     ConvTranspose2dGeometry().padding(1)),
                    Contains("padding too large") && Contains("[1, 2, 1, 1]"));
  CHECK_THROWS_WITH(conv_transpose2d(v({1, 2, 5, 5}), v({2, 2, 3, 3}), Var<float>(),
                                     ConvTranspose2dGeometry().stride(0)),
                    Contains("stride"));
}

}  // namespace test_autograd_vision_ops
