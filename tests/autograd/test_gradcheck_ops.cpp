#include <catch2/catch.hpp>

#include "onestone/autograd/autograd.hpp"
#include "onestone/autograd/gradcheck.hpp"
#include "onestone/losses/binary_cross_entropy.hpp"
#include "onestone/losses/cross_entropy.hpp"
#include "onestone/losses/regression.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_gradcheck_ops {

using namespace onestone;
using V = std::vector<Var<double>>;

namespace {
Tensor<double> rnd(const Shape& s, std::uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Generator g(seed);
  Tensor<double> t(s);
  for (Index k = 0; k < t.numel(); ++k) t[k] = g.uniform(lo, hi);
  return t;
}
// Weighted sum so that every output element gets a distinct upstream gradient.
Var<double> wsum(const Var<double>& y) {
  Tensor<double>* w = new Tensor<double>(rnd(y.shape(), 99));  // kept alive for the graph
  static std::vector<std::unique_ptr<Tensor<double>>> keep;
  keep.emplace_back(w);
  return sum(y * Var<double>::from(*w));
}
#define CHECK_GRAD(expr, ...)                                                    \
  do {                                                                           \
    auto r = gradcheck<double>([&](const V& v) { return expr; }, {__VA_ARGS__}); \
    INFO(r.message());                                                           \
    CHECK(r.ok);                                                                 \
  } while (0)
}  // namespace

TEST_CASE("matmul and linear gradients", "[autograd][gradcheck]") {
  auto a = rnd({4, 3}, 1), b = rnd({3, 5}, 2), w = rnd({5, 3}, 3), bias = rnd({5}, 4);
  CHECK_GRAD(wsum(matmul(v[0], v[1])), a, b);
  CHECK_GRAD(wsum(linear(v[0], v[1], v[2])), a, w, bias);
  CHECK_GRAD(wsum(linear(v[0], v[1])), a, w);
}

TEST_CASE("broadcast arithmetic gradients", "[autograd][gradcheck]") {
  auto a = rnd({4, 3}, 1), b = rnd({4, 3}, 2, 0.5, 2.0), row = rnd({3}, 3, 0.5, 2.0),
       col = rnd({4, 1}, 4, 0.5, 2.0), s = rnd({1}, 5, 0.5, 2.0);
  CHECK_GRAD(wsum(v[0] + v[1]), a, b);
  CHECK_GRAD(wsum(v[0] - v[1]), a, b);
  CHECK_GRAD(wsum(v[0] * v[1]), a, b);
  CHECK_GRAD(wsum(v[0] / v[1]), a, b);
  for (auto* other : {&row, &col, &s}) {
    CHECK_GRAD(wsum(v[0] + v[1]), a, *other);
    CHECK_GRAD(wsum(v[1] - v[0]), a, *other);
    CHECK_GRAD(wsum(v[0] - v[1]), a, *other);
    CHECK_GRAD(wsum(v[0] * v[1]), a, *other);
    CHECK_GRAD(wsum(v[1] * v[0]), a, *other);
    CHECK_GRAD(wsum(v[0] / v[1]), a, *other);
    CHECK_GRAD(wsum(v[1] / (v[0] + 3.0)), a, *other);
  }
  CHECK_GRAD(wsum(2.0 * v[0] - 1.0), a);
  CHECK_GRAD(wsum(3.0 - v[0] / 2.0), a);
  CHECK_GRAD(wsum(-v[0] + v[0] * v[0]), a);  // value used twice accumulates
}

TEST_CASE("unary gradients", "[autograd][gradcheck]") {
  auto a = rnd({3, 4}, 7, -2.0, 2.0), p = rnd({3, 4}, 8, 0.2, 3.0);
  CHECK_GRAD(wsum(relu(v[0])), a);
  CHECK_GRAD(wsum(leaky_relu(v[0], 0.1)), a);
  CHECK_GRAD(wsum(gelu(v[0])), a);
  CHECK_GRAD(wsum(gelu(v[0], true)), a);
  CHECK_GRAD(wsum(sigmoid(v[0])), a);
  CHECK_GRAD(wsum(tanh(v[0])), a);
  CHECK_GRAD(wsum(exp(v[0])), a);
  CHECK_GRAD(wsum(log(v[0])), p);
  CHECK_GRAD(wsum(sqrt(v[0])), p);
  CHECK_GRAD(wsum(pow(v[0], 2.5)), p);
  CHECK_GRAD(wsum(abs(v[0])), a);
  CHECK_GRAD(wsum(square(v[0])), a);
}

TEST_CASE("reduction, softmax and shape gradients", "[autograd][gradcheck]") {
  auto a = rnd({3, 4}, 11), b = rnd({3, 2}, 12), t3 = rnd({2, 3, 4}, 13);
  CHECK_GRAD(sum(v[0]) * sum(v[0]), a);
  CHECK_GRAD(mean(v[0]), a);
  CHECK_GRAD(wsum(sum(v[0], 0)), a);
  CHECK_GRAD(wsum(sum(v[0], 1)), a);
  CHECK_GRAD(wsum(mean(v[0], -1, true)), a);
  CHECK_GRAD(wsum(mean(v[0], 1)), t3);
  CHECK_GRAD(wsum(sum(v[0], 0)), t3);
  CHECK_GRAD(wsum(softmax(v[0])), a);
  CHECK_GRAD(wsum(log_softmax(v[0])), a);
  CHECK_GRAD(wsum(reshape(v[0], Shape{4, 3})), a);
  CHECK_GRAD(wsum(concat({v[0], v[1], v[0]})), a, b);
  CHECK_GRAD(wsum(narrow(v[0], -1, 1, 2)), a);
  CHECK_GRAD(wsum(split(v[0], {1, 3})[1]) + wsum(split(v[0], {1, 3})[0]), a);
  Tensor<Index> idx = Tensor<Index>::from({2, 0, 2, 1}, {4});
  CHECK_GRAD(wsum(gather_rows(v[0], idx)), a);
}

TEST_CASE("dropout and layer_norm gradients", "[autograd][gradcheck]") {
  auto a = rnd({3, 5}, 21), g = rnd({5}, 22), b = rnd({5}, 23);
  // Same seed at every evaluation gives the same mask, so the function is deterministic.
  CHECK_GRAD(([&] {
               Generator gen(5);
               return wsum(dropout(v[0], 0.4, true, gen));
             })(),
             a);
  CHECK_GRAD(wsum(layer_norm(v[0], v[1], v[2])), a, g, b);
  CHECK_GRAD(wsum(layer_norm(v[0])), a);
}

TEST_CASE("loss gradients", "[losses][gradcheck]") {
  auto logits = rnd({5, 4}, 31, -2, 2), target = rnd({5, 4}, 32, 0, 1), pred = rnd({5, 2}, 33),
       y = rnd({5, 2}, 34);
  Tensor<Index> labels = Tensor<Index>::from({0, 3, 1, -1, 2}, {5});
  Tensor<double> cw = Tensor<double>::from({1.0, 2.0, 0.5, 1.5}, {4});
  CHECK_GRAD(
      losses::cross_entropy(v[0], labels, losses::CrossEntropyOptions<double>().ignore_index(-1)),
      logits);
  CHECK_GRAD(losses::cross_entropy(
                 v[0], labels, losses::CrossEntropyOptions<double>().weight(cw).ignore_index(-1)),
             logits);
  CHECK_GRAD(losses::cross_entropy(v[0], labels,
                                   losses::CrossEntropyOptions<double>().ignore_index(-1).reduction(
                                       losses::Reduction::Sum)),
             logits);
  CHECK_GRAD(losses::binary_cross_entropy_with_logits(v[0], v[1]), logits, target);
  CHECK_GRAD(losses::mse_loss(v[0], v[1]), pred, y);
  CHECK_GRAD(losses::l1_loss(v[0], v[1]), pred, y);
  CHECK_GRAD(losses::huber_loss(v[0], v[1], 0.3), pred, y);
}

}  // namespace test_autograd_gradcheck_ops
#undef CHECK_GRAD
