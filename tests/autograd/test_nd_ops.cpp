// Finite-difference checks (double) of every N-d operation: shapes of rank 1 to 4, every axis,
// NumPy broadcasting, keepdim, transposed and broadcast batched products.
#include <catch2/catch.hpp>

#include "onestone/autograd/autograd.hpp"
#include "onestone/autograd/gradcheck.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_nd_ops {

using namespace onestone;
using V = std::vector<Var<double>>;

namespace {
Tensor<double> rnd(const Shape& s, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Generator g(seed);
  Tensor<double> t(s);
  for (Index k = 0; k < t.numel(); ++k) t[k] = g.uniform(lo, hi);
  return t;
}
// Distinct values spaced apart, so max/min/clamp have no ties near the check point.
Tensor<double> spread(const Shape& s, std::uint64_t seed) {
  Tensor<double> t(s);
  std::vector<Index> perm(static_cast<std::size_t>(t.numel()));
  for (std::size_t k = 0; k < perm.size(); ++k) perm[k] = static_cast<Index>(k);
  Generator g(seed);
  g.shuffle(perm.begin(), perm.end());
  for (Index k = 0; k < t.numel(); ++k)
    t[k] = 0.1 * static_cast<double>(perm[static_cast<std::size_t>(k)]) - 1.0;
  return t;
}
// Weighted sum so that every output element gets a distinct upstream gradient.
Var<double> wsum(const Var<double>& y) {
  static std::vector<std::unique_ptr<Tensor<double>>> keep;
  keep.emplace_back(new Tensor<double>(rnd(y.shape(), 99 + static_cast<std::uint64_t>(y.numel()))));
  return sum(y * Var<double>::from(*keep.back()));
}
#define CHECK_GRAD(expr, ...)                                                     \
  do {                                                                            \
    auto r_ = gradcheck<double>([&](const V& v) { return expr; }, {__VA_ARGS__}); \
    INFO(#expr << ": " << r_.message());                                          \
    CHECK(r_.ok);                                                                 \
  } while (0)
}  // namespace

TEST_CASE("broadcast arithmetic: shapes aligned from the right", "[autograd][nd][gradcheck]") {
  const std::vector<std::pair<Shape, Shape>> pairs = {{{2, 3, 4, 5}, {2, 3, 4, 5}},
                                                      {{2, 3, 4, 5}, {5}},
                                                      {{2, 3, 4, 5}, {3, 1, 1}},
                                                      {{2, 3, 4, 5}, {1, 3, 1, 5}},
                                                      {{8, 1, 5}, {3, 1}},
                                                      {{4, 1}, {1, 3}},
                                                      {{3}, {2, 3}},
                                                      {{2, 1, 4}, {}},
                                                      {{}, {3, 2}},
                                                      {{1}, {2, 2, 2}},
                                                      {{2, 3, 1, 1}, {1, 1, 4, 5}}};
  std::uint64_t seed = 1;
  for (const auto& p : pairs) {
    auto a = rnd(p.first, seed++), b = rnd(p.second, seed++, 0.5, 2.0);
    Shape out;
    REQUIRE(broadcast_shapes(p.first, p.second, out));
    INFO(p.first.str() << " with " << p.second.str());
    CHECK((Var<double>::from(a) + Var<double>::from(b)).shape() == out);
    CHECK_GRAD(wsum(v[0] + v[1]), a, b);
    CHECK_GRAD(wsum(v[0] - v[1]), a, b);
    CHECK_GRAD(wsum(v[0] * v[1]), a, b);
    CHECK_GRAD(wsum(v[0] / v[1]), a, b);
    CHECK_GRAD(wsum(v[1] / (v[0] + 3.0)), a, b);
    auto sa = spread(p.first, seed), sb = spread(p.second, seed + 1);
    for (Index k = 0; k < sb.numel(); ++k) sb[k] += 0.05;  // no ties between a and b
    CHECK_GRAD(wsum(maximum(v[0], v[1])), sa, sb);
    CHECK_GRAD(wsum(minimum(v[0], v[1])), sa, sb);
  }
}

TEST_CASE("maximum and minimum split ties; clamp passes the inside", "[autograd][nd]") {
  auto a = Var<double>::variable(Tensor<double>::from({1, 2, 3}, {3}));
  auto b = Var<double>::variable(Tensor<double>::from({1, 5, 0}, {3}));
  auto y = sum(maximum(a, b));
  y.backward();
  CHECK(a.grad()[0] == 0.5);
  CHECK(b.grad()[0] == 0.5);
  CHECK(a.grad()[1] == 0.0);
  CHECK(b.grad()[1] == 1.0);
  CHECK(a.grad()[2] == 1.0);
  auto x = rnd({3, 4}, 5, -2, 2);
  CHECK_GRAD(wsum(clamp(v[0], -0.73, 0.61)), x);
  auto c = Var<double>::variable(Tensor<double>::from({-1, 0, 0.5, 2}, {4}));
  sum(clamp(c, 0.0, 1.0)).backward();
  CHECK(c.grad()[0] == 0.0);
  CHECK(c.grad()[1] == 1.0);  // at the bound, as PyTorch
  CHECK(c.grad()[2] == 1.0);
  CHECK(c.grad()[3] == 0.0);
}

TEST_CASE("where and masked_fill broadcast their masks", "[autograd][nd][gradcheck]") {
  auto a = rnd({2, 3, 4}, 11), b = rnd({3, 1}, 12), c = rnd({4}, 13);
  Mask cond({2, 1, 4});
  for (Index k = 0; k < cond.numel(); ++k) cond[k] = static_cast<std::uint8_t>(k % 3 == 0);
  CHECK_GRAD(wsum(where(cond, v[0], v[1])), a, b);
  CHECK_GRAD(wsum(where(cond, v[0], v[1])), b, c);
  Mask m({3, 1});
  m[1] = 1;
  CHECK_GRAD(wsum(masked_fill(v[0], m, -5.0)), a);
  auto y = masked_fill(Var<double>::from(a), m, -5.0);
  CHECK(y.data()[4] == -5.0);  // [0, 1, 0]
  CHECK(y.data()[0] == a[0]);
  // Reference: where(cond, a, b)[i, j, k] = cond[i, 0, k] ? a : b[j, 0].
  auto w = where(cond, Var<double>::from(a), Var<double>::from(b));
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < 3; ++j)
      for (Index k = 0; k < 4; ++k)
        CHECK(w.data()[(i * 3 + j) * 4 + k] == (cond[i * 4 + k] ? a[(i * 3 + j) * 4 + k] : b[j]));
}

TEST_CASE("unary functions on rank-4 tensors", "[autograd][nd][gradcheck]") {
  auto x = rnd({2, 3, 2, 2}, 21), p = rnd({2, 3, 2, 2}, 22, 0.2, 2.0);
  CHECK_GRAD(wsum(relu(v[0])), x);
  CHECK_GRAD(wsum(leaky_relu(v[0], 0.2)), x);
  CHECK_GRAD(wsum(gelu(v[0])), x);
  CHECK_GRAD(wsum(gelu(v[0], true)), x);
  CHECK_GRAD(wsum(silu(v[0])), x);
  CHECK_GRAD(wsum(sigmoid(v[0])), x);
  CHECK_GRAD(wsum(tanh(v[0])), x);
  CHECK_GRAD(wsum(softplus(v[0])), x);
  CHECK_GRAD(wsum(softplus(v[0], 0.3)), x);
  CHECK_GRAD(wsum(exp(v[0])), x);
  CHECK_GRAD(wsum(log(v[0])), p);
  CHECK_GRAD(wsum(sqrt(v[0])), p);
  CHECK_GRAD(wsum(pow(v[0], 1.7)), p);
  CHECK_GRAD(wsum(square(v[0])), x);
  CHECK_GRAD(wsum(abs(v[0])), x);
}

TEST_CASE("reductions along every axis, keepdim or not", "[autograd][nd][gradcheck]") {
  auto x = rnd({2, 3, 4, 5}, 31);
  auto s = spread({2, 3, 4, 5}, 32);
  for (int axis = -4; axis < 4; ++axis)
    for (bool keep : {false, true}) {
      INFO("axis " << axis << " keepdim " << keep);
      CHECK_GRAD(wsum(sum(v[0], axis, keep)), x);
      CHECK_GRAD(wsum(mean(v[0], axis, keep)), x);
      CHECK_GRAD(wsum(max(v[0], axis, keep)), s);
      CHECK_GRAD(wsum(min(v[0], axis, keep)), s);
      CHECK_GRAD(wsum(logsumexp(v[0], axis, keep)), x);
      auto y = sum(Var<double>::from(x), axis, keep);
      CHECK(y.shape().rank() == (keep ? 4 : 3));
    }
  CHECK_GRAD(sum(v[0]) * mean(v[0]), x);
  CHECK_GRAD(max(v[0]) + 2.0 * min(v[0]), s);
  auto r1 = rnd({7}, 33);
  CHECK_GRAD(sum(v[0], 0), r1);
  CHECK_GRAD(logsumexp(v[0], 0), r1);
}

TEST_CASE("reductions: values against direct loops", "[autograd][nd]") {
  auto x = rnd({3, 4, 5}, 34);
  auto X = Var<double>::from(x);
  auto m = max(X, 1), l = logsumexp(X, 1), s = sum(X, 2, true);
  Tensor<Index> am = argmax(X, 1);
  CHECK(s.shape() == Shape{3, 4, 1});
  for (Index i = 0; i < 3; ++i)
    for (Index k = 0; k < 5; ++k) {
      double best = -1e9, acc = 0;
      Index arg = 0;
      for (Index j = 0; j < 4; ++j) {
        const double v = x[(i * 4 + j) * 5 + k];
        if (v > best) best = v, arg = j;
      }
      for (Index j = 0; j < 4; ++j) acc += std::exp(x[(i * 4 + j) * 5 + k]);
      CHECK(m.data()[i * 5 + k] == best);
      CHECK(am[i * 5 + k] == arg);
      CHECK(l.data()[i * 5 + k] == Approx(std::log(acc)).epsilon(1e-13));
    }
  // logsumexp is exact for huge and for −∞ entries.
  auto big = Var<double>::from(Tensor<double>::from({1000, 1000, -1e308, -1e308}, {2, 2}));
  auto lb = logsumexp(big, 1);
  CHECK(lb.data()[0] == Approx(1000 + std::log(2.0)));
  auto ninf =
      Var<double>::from(Tensor<double>::full({1, 3}, -std::numeric_limits<double>::infinity()));
  CHECK(std::isinf(logsumexp(ninf, 1).data()[0]));
}

TEST_CASE("softmax and log_softmax along every axis", "[autograd][nd][gradcheck]") {
  auto x = rnd({2, 3, 4}, 41, -3, 3);
  for (int axis = -3; axis < 3; ++axis) {
    INFO("axis " << axis);
    CHECK_GRAD(wsum(softmax(v[0], axis)), x);
    CHECK_GRAD(wsum(log_softmax(v[0], axis)), x);
    auto y = softmax(Var<double>::from(x), axis);
    auto s = sum(y, axis);
    for (Index k = 0; k < s.numel(); ++k) CHECK(s.data()[k] == Approx(1.0).epsilon(1e-14));
  }
  // log_softmax keeps small values' digits: (x − m) − log Σ exp(x − m).
  auto z = Var<double>::from(Tensor<double>::from({40.0, 0.0}, {1, 2}));
  CHECK(log_softmax(z).data()[0] == Approx(-std::exp(-40.0)).epsilon(1e-10));
}

TEST_CASE("views: reshape, view, flatten, squeeze, unsqueeze", "[autograd][nd][gradcheck]") {
  auto x = rnd({2, 3, 4}, 51);
  CHECK_GRAD(wsum(reshape(v[0], Shape{4, 6})), x);
  CHECK_GRAD(wsum(reshape(v[0], {2, -1})), x);
  CHECK_GRAD(wsum(view(v[0], {-1})), x);
  CHECK_GRAD(wsum(flatten(v[0], 1)), x);
  CHECK_GRAD(wsum(flatten(v[0])), x);
  CHECK_GRAD(wsum(unsqueeze(v[0], 1)), x);
  CHECK_GRAD(wsum(squeeze(unsqueeze(v[0], -1), 3)), x);
  CHECK(reshape(Var<double>::from(x), {-1, 4}).shape() == Shape{6, 4});
  CHECK(flatten(Var<double>::from(x), 0, 1).shape() == Shape{6, 4});
  CHECK(unsqueeze(Var<double>::from(x), -1).shape() == Shape{2, 3, 4, 1});
  CHECK(unsqueeze(Var<double>::from(x), 0).shape() == Shape{1, 2, 3, 4});
  CHECK(squeeze(Var<double>::from(rnd({1, 3, 1}, 2))).shape() == Shape{3});
}

TEST_CASE("permute and transpose of any axes", "[autograd][nd][gradcheck]") {
  auto x = rnd({2, 3, 4, 5}, 61);
  const std::vector<std::array<int, 4>> perms = {
      {0, 2, 3, 1}, {3, 2, 1, 0}, {1, 0, 2, 3}, {0, 1, 3, 2}, {2, 0, 3, 1}};
  for (const auto& p : perms) {
    INFO(p[0] << p[1] << p[2] << p[3]);
    CHECK_GRAD(wsum(permute(v[0], {p[0], p[1], p[2], p[3]})), x);
    auto y = permute(Var<double>::from(x), {p[0], p[1], p[2], p[3]});
    const auto st = x.shape().strides();
    Index o = 0;
    bool same = true;
    for (Index i0 = 0; i0 < y.size(0); ++i0)
      for (Index i1 = 0; i1 < y.size(1); ++i1)
        for (Index i2 = 0; i2 < y.size(2); ++i2)
          for (Index i3 = 0; i3 < y.size(3); ++i3, ++o) {
            const Index idx[4] = {i0, i1, i2, i3};
            Index src = 0;
            for (int d = 0; d < 4; ++d)
              src += idx[d] * st[static_cast<std::size_t>(p[static_cast<std::size_t>(d)])];
            same = same && y.data()[o] == x[src];
          }
    CHECK(same);
  }
  auto m = rnd({3, 5}, 62);
  CHECK_GRAD(wsum(transpose(v[0], 0, 1)), m);
  CHECK_GRAD(wsum(transpose(v[0], -1, -3)), x);
  CHECK(transpose(Var<double>::from(x), 1, 3).shape() == Shape{2, 5, 4, 3});
}

TEST_CASE("narrow, cat, split, chunk and stack along any axis", "[autograd][nd][gradcheck]") {
  auto a = rnd({2, 3, 4}, 71), b = rnd({2, 3, 4}, 72), c = rnd({2, 5, 4}, 73);
  for (int axis = 0; axis < 3; ++axis) {
    INFO("axis " << axis);
    CHECK_GRAD(wsum(narrow(v[0], axis, 1, 1)), a);
    CHECK_GRAD(wsum(cat({v[0], v[1], v[0]}, axis)), a, b);
    CHECK_GRAD(wsum(stack({v[0], v[1]}, axis)), a, b);
    const Index n = a.shape()[axis];
    CHECK_GRAD(wsum(split(v[0], {1, n - 1}, axis)[1]) + wsum(split(v[0], {1, n - 1}, axis)[0]), a);
    CHECK_GRAD(wsum(chunk(v[0], 2, axis)[0]), a);
  }
  CHECK_GRAD(wsum(cat({v[0], v[1]}, 1)), a, c);
  CHECK_GRAD(wsum(stack({v[0], v[1]}, -1)), a, b);
  CHECK(stack({Var<double>::from(a), Var<double>::from(b)}, 3).shape() == Shape{2, 3, 4, 2});
  CHECK(cat({Var<double>::from(a), Var<double>::from(c)}, 1).shape() == Shape{2, 8, 4});
  auto parts = chunk(Var<double>::from(c), 2, 1);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].shape() == Shape{2, 3, 4});
  CHECK(parts[1].shape() == Shape{2, 2, 4});
  // Values: the middle window of axis 1.
  auto w = narrow(Var<double>::from(c), 1, 2, 2);
  CHECK(w.data()[0] == c[2 * 4]);
  CHECK(w.data()[w.numel() - 1] == c[c.numel() - 1 - 4]);
}

TEST_CASE("index_select, gather and expand along any axis", "[autograd][nd][gradcheck]") {
  auto x = rnd({3, 4, 5}, 81);
  Tensor<Index> idx = Tensor<Index>::from({2, 0, 2, 1}, {4});
  for (int axis = 0; axis < 3; ++axis) {
    INFO("axis " << axis);
    Tensor<Index> id = Tensor<Index>::from({std::min<Index>(2, x.shape()[axis] - 1), 0, 0, 1}, {4});
    CHECK_GRAD(wsum(index_select(v[0], axis, id)), x);
    Shape is = x.shape();
    is.set(axis, 2);
    Tensor<Index> gi(is);
    Generator g(static_cast<std::uint64_t>(axis) + 3);
    for (Index k = 0; k < gi.numel(); ++k)
      gi[k] = static_cast<Index>(g.below(static_cast<std::uint64_t>(x.shape()[axis])));
    CHECK_GRAD(wsum(gather(v[0], axis, gi)), x);
  }
  // gather values: out[i][j][k] = x[i][index[i][j][k]][k] for dim 1, index smaller than x.
  Tensor<Index> gi = Tensor<Index>::from({3, 0, 1, 2, 2, 2}, {2, 1, 3});
  auto y = gather(Var<double>::from(x), 1, gi);
  CHECK(y.shape() == Shape{2, 1, 3});
  for (Index i = 0; i < 2; ++i)
    for (Index k = 0; k < 3; ++k) CHECK(y.data()[i * 3 + k] == x[(i * 4 + gi[i * 3 + k]) * 5 + k]);
  auto col = rnd({3, 1}, 82);
  CHECK_GRAD(wsum(expand(v[0], Shape{2, 3, 4})), col);
  CHECK_GRAD(wsum(gather_rows(v[0], idx)), rnd({3, 2}, 83));
}

TEST_CASE("batched matmul with broadcasting and transposes", "[autograd][nd][gradcheck]") {
  struct Case {
    Shape a, b;
    Transpose t;
    Shape out;
  };
  const std::vector<Case> cases = {
      {{3, 4}, {4, 5}, Transpose::None, {3, 5}},
      {{2, 3, 4}, {4, 5}, Transpose::None, {2, 3, 5}},  // folded into one product
      {{2, 3, 4}, {2, 4, 5}, Transpose::None, {2, 3, 5}},
      {{3, 4}, {2, 4, 5}, Transpose::None, {2, 3, 5}},           // a shared across the batch
      {{2, 1, 3, 4}, {3, 4, 5}, Transpose::None, {2, 3, 3, 5}},  // both broadcast
      {{2, 3, 4}, {2, 5, 4}, Transpose::B, {2, 3, 5}},           // q·kᵀ
      {{2, 4, 3}, {2, 4, 5}, Transpose::A, {2, 3, 5}},
      {{2, 4, 3}, {5, 4}, Transpose::Both, {2, 3, 5}},
      {{2, 3, 4}, {5, 4}, Transpose::B, {2, 3, 5}},
      {{4}, {4, 5}, Transpose::None, {5}},
      {{2, 3, 4}, {4}, Transpose::None, {2, 3}},
      {{4}, {4}, Transpose::None, {}},
  };
  std::uint64_t seed = 90;
  for (const auto& c : cases) {
    INFO(c.a.str() << " x " << c.b.str() << " transpose " << static_cast<int>(c.t));
    auto a = rnd(c.a, seed++), b = rnd(c.b, seed++);
    auto y = matmul(Var<double>::from(a), Var<double>::from(b), c.t);
    CHECK(y.shape() == c.out);
    const Transpose t = c.t;
    CHECK_GRAD(wsum(matmul(v[0], v[1], t)), a, b);
  }
  // Against a direct triple loop: [2, 1, 3, 4] x [3, 4, 5] -> [2, 3, 3, 5].
  auto a = rnd({2, 1, 3, 4}, 7), b = rnd({3, 4, 5}, 8);
  auto y = matmul(Var<double>::from(a), Var<double>::from(b));
  for (Index i = 0; i < 2; ++i)
    for (Index j = 0; j < 3; ++j)
      for (Index m = 0; m < 3; ++m)
        for (Index n = 0; n < 5; ++n) {
          double s = 0;
          for (Index k = 0; k < 4; ++k) s += a[(i * 3 + m) * 4 + k] * b[(j * 4 + k) * 5 + n];
          CHECK(y.data()[((i * 3 + j) * 3 + m) * 5 + n] == Approx(s).epsilon(1e-13));
        }
}

TEST_CASE("N-d linear and layer_norm", "[autograd][nd][gradcheck]") {
  auto x = rnd({2, 3, 4}, 101), w = rnd({5, 4}, 102), b = rnd({5}, 103), g = rnd({4}, 104),
       be = rnd({4}, 105);
  CHECK_GRAD(wsum(linear(v[0], v[1], v[2])), x, w, b);
  CHECK_GRAD(wsum(layer_norm(v[0], v[1], v[2])), x, g, be);
  CHECK(linear(Var<double>::from(x), Var<double>::from(w)).shape() == Shape{2, 3, 5});
}

}  // namespace test_autograd_nd_ops
#undef CHECK_GRAD
