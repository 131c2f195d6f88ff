// Bad input to every N-d operation gives std::invalid_argument naming the operation and the
// axis or both shapes; anomaly mode names every operation family that produces a NaN.
#include <catch2/catch.hpp>
#include <functional>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_nd_errors {

using namespace onestone;
using Catch::Contains;

namespace {
Var<double> cv(const Shape& s, double v = 1.0) {
  static std::vector<std::unique_ptr<Tensor<double>>> keep;
  keep.emplace_back(new Tensor<double>(Tensor<double>::full(s, v)));
  return Var<double>::from(*keep.back());
}
template <typename F>
void expect_invalid(F&& f, const std::string& a, const std::string& b, const std::string& c = "") {
  try {
    f();
    FAIL("no exception; expected one naming " << a << ", " << b << " " << c);
  } catch (const std::invalid_argument& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.find(a) != std::string::npos);
    CHECK(m.find(b) != std::string::npos);
    if (!c.empty()) CHECK(m.find(c) != std::string::npos);
  }
}
}  // namespace

TEST_CASE("N-d operations reject bad axes and shapes", "[autograd][nd][errors]") {
  auto x = cv({2, 3, 4});
  auto y = cv({2, 5, 4});
  expect_invalid([&] { add(x, cv({3, 3})); }, "add", "[2, 3, 4]", "[3, 3]");
  expect_invalid([&] { maximum(x, cv({2, 2, 1})); }, "maximum", "[2, 3, 4]", "[2, 2, 1]");
  expect_invalid([&] { minimum(x, cv({5})); }, "minimum", "[5]");
  expect_invalid([&] { div(cv({4, 1}), cv({3, 2})); }, "div", "[4, 1]", "[3, 2]");
  expect_invalid([&] { where(Mask({3}), x, x); }, "where", "[3]", "[2, 3, 4]");
  expect_invalid([&] { where(Mask({4}), x, cv({2, 2})); }, "where", "[2, 2]");
  expect_invalid(
      [&] {
        masked_fill(cv({3, 1}), Mask({3, 4}), 0.0);
      },
      "masked_fill", "[3, 1]", "[3, 4]");
  expect_invalid([&] { clamp(x, 1.0, 0.0); }, "clamp", "bound");
  for (auto f : std::vector<std::function<void()>>{
           [&] { sum(x, 3); }, [&] { mean(x, -4); }, [&] { max(x, 3); }, [&] { min(x, 5); },
           [&] { logsumexp(x, 3); }, [&] { softmax(x, 3); }, [&] { log_softmax(x, -4); },
           [&] { argmax(x, 3); }})
    expect_invalid(f, "axis", "[2, 3, 4]");
  expect_invalid([&] { sum(x, 3); }, "sum", "axis 3");
  expect_invalid([&] { softmax(x, 3); }, "softmax", "axis 3");
  expect_invalid([&] { logsumexp(x, -4); }, "logsumexp", "axis -4");
  expect_invalid([&] { max(cv({0, 3}), 0); }, "max", "[0, 3]");
  expect_invalid([&] { reshape(x, Shape{5, 5}); }, "reshape", "[2, 3, 4]", "[5, 5]");
  expect_invalid([&] { reshape(x, {5, -1}); }, "reshape", "[2, 3, 4]");
  expect_invalid([&] { reshape(x, {-1, -1}); }, "reshape", "-1");
  expect_invalid([&] { flatten(x, 2, 1); }, "flatten", "[2, 3, 4]");
  expect_invalid([&] { flatten(x, 0, 3); }, "flatten", "axis 3");
  expect_invalid([&] { squeeze(x, 1); }, "squeeze", "axis 1", "[2, 3, 4]");
  expect_invalid([&] { unsqueeze(x, 4); }, "unsqueeze", "axis 4", "[2, 3, 4]");
  expect_invalid([&] { unsqueeze(cv({1, 2, 3, 4}), 0); }, "unsqueeze", "[1, 2, 3, 4]");
  expect_invalid([&] { permute(x, {0, 1}); }, "permute", "[2, 3, 4]");
  expect_invalid([&] { permute(x, {0, 1, 1}); }, "permute", "repeated", "[2, 3, 4]");
  expect_invalid([&] { permute(x, {0, 1, 3}); }, "permute", "axis 3", "[2, 3, 4]");
  expect_invalid([&] { transpose(x, 0, 3); }, "transpose", "axis 3", "[2, 3, 4]");
  expect_invalid([&] { narrow(x, 1, 2, 2); }, "narrow", "axis 1", "[2, 3, 4]");
  expect_invalid([&] { narrow(x, 3, 0, 1); }, "narrow", "axis 3", "[2, 3, 4]");
  expect_invalid([&] { cat({x, y}, 0); }, "cat", "[2, 3, 4]", "[2, 5, 4]");
  expect_invalid([&] { cat({x, y}, 4); }, "cat", "axis 4");
  expect_invalid([&] { cat({x, cv({2, 3})}, 0); }, "cat", "[2, 3]");
  expect_invalid([&] { stack({x, y}); }, "stack", "[1, 2, 3, 4]", "[1, 2, 5, 4]");
  expect_invalid([&] { stack({x, x}, 4); }, "stack", "axis 4");
  expect_invalid([&] { split(x, {1, 1}, 1); }, "split", "axis 1", "[2, 3, 4]");
  expect_invalid([&] { chunk(x, 2, 3); }, "chunk", "axis 3");
  expect_invalid([&] { expand(x, Shape{2, 4, 4}); }, "expand", "[2, 3, 4]", "[2, 4, 4]");
  expect_invalid(
      [&] {
        index_select(x, 1, Tensor<Index>::from({0, 3}, {2}));
      },
      "index_select", "index 3", "[2, 3, 4]");
  expect_invalid([&] { index_select(x, 3, Tensor<Index>({1})); }, "index_select", "axis 3");
  expect_invalid(
      [&] {
        index_select(x, 0, Tensor<Index>({2, 2}));
      },
      "index_select", "[2, 2]", "[2, 3, 4]");
  expect_invalid([&] { gather(x, 1, Tensor<Index>({2, 3})); }, "gather", "[2, 3, 4]", "[2, 3]");
  expect_invalid([&] { gather(x, 1, Tensor<Index>({3, 3, 4})); }, "gather", "[3, 3, 4]");
  expect_invalid(
      [&] {
        gather(x, 1, Tensor<Index>::full({1, 1, 1}, 7));
      },
      "gather", "index 7", "axis 1");
  expect_invalid([&] { matmul(x, cv({3, 5})); }, "matmul", "[2, 3, 4]", "[3, 5]");
  expect_invalid([&] { matmul(cv({2, 3, 4}), cv({3, 4, 5})); }, "matmul", "[2, 3, 4]", "[3, 4, 5]");
  expect_invalid([&] { matmul(x, cv({2, 5, 4}), Transpose::A); }, "matmul", "[2, 5, 4]");
  expect_invalid([&] { matmul(cv({}), x); }, "matmul", "rank");
  expect_invalid([&] { linear(x, cv({5, 3})); }, "linear", "[2, 3, 4]", "[5, 3]");
  expect_invalid([&] { layer_norm(x, cv({3})); }, "layer_norm", "[2, 3, 4]", "[3]");
}

TEST_CASE("anomaly mode names every operation family that produces a NaN", "[autograd][errors]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  tape.set_detect_anomaly(true);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto n = cv({2, 3}, nan);
  auto n4 = cv({1, 2, 2, 2}, nan);
  auto ok = cv({2, 3});
  Mask m({2, 3});
  Tensor<Index> idx = Tensor<Index>::from({0, 1}, {2});
  Tensor<Index> lab = Tensor<Index>::from({0, 1}, {2});
  Tensor<Index> gi({2, 3});
  Tensor<double> target = Tensor<double>::full({2, 3}, 0.5);
  Tensor<double> wts = Tensor<double>::full({2}, 1.0);
  Generator gen(1);
  const std::vector<std::pair<std::string, std::function<void()>>> families = {
      {"add", [&] { n + ok; }},
      {"sub", [&] { ok - n; }},
      {"mul", [&] { n* ok; }},
      {"div", [&] { ok / n; }},
      {"maximum", [&] { maximum(n, ok); }},
      {"minimum", [&] { minimum(ok, n); }},
      {"affine", [&] { n * 2.0; }},
      {"relu", [&] { relu(n); }},
      {"leaky_relu", [&] { leaky_relu(n); }},
      {"gelu", [&] { gelu(n); }},
      {"silu", [&] { silu(n); }},
      {"sigmoid", [&] { sigmoid(n); }},
      {"tanh", [&] { tanh(n); }},
      {"softplus", [&] { softplus(n); }},
      {"exp", [&] { exp(n); }},
      {"log", [&] { log(cv({2}, -1.0)); }},
      {"sqrt", [&] { sqrt(cv({2}, -1.0)); }},
      {"pow", [&] { pow(n, 2.0); }},
      {"square", [&] { square(n); }},
      {"abs", [&] { abs(n); }},
      {"clamp", [&] { clamp(n, 0.0, 1.0); }},
      {"sum", [&] { sum(n); }},
      {"mean", [&] { mean(n, 1); }},
      {"max", [&] { max(n, 1); }},
      {"min", [&] { min(n); }},
      {"logsumexp", [&] { logsumexp(n, 0); }},
      {"softmax", [&] { softmax(n, 0); }},
      {"log_softmax", [&] { log_softmax(n); }},
      {"reshape",
       [&] {
         reshape(n, Shape{3, 2});
       }},
      {"flatten", [&] { flatten(n4, 1); }},
      {"squeeze", [&] { squeeze(n4, 0); }},
      {"unsqueeze", [&] { unsqueeze(n, 0); }},
      {"permute",
       [&] {
         permute(n4, {0, 3, 1, 2});
       }},
      {"narrow", [&] { narrow(n, 1, 0, 2); }},
      {"cat",
       [&] {
         cat({ok, n}, 0);
       }},
      {"stack",
       [&] {
         stack({ok, n}, 1);
       }},
      {"expand",
       [&] {
         expand(n, Shape{2, 2, 3});
       }},
      {"index_select", [&] { index_select(n, 0, idx); }},
      {"gather", [&] { gather(n, 1, gi); }},
      {"where", [&] { where(m, ok, n); }},
      {"masked_fill", [&] { masked_fill(n, m, 0.0); }},
      {"matmul",
       [&] {
         matmul(n, cv({3, 2}));
       }},
      {"linear",
       [&] {
         linear(n, cv({4, 3}));
       }},
      {"layer_norm", [&] { layer_norm(n); }},
      {"dropout", [&] { dropout(n, 0.5, true, gen); }},
      {"weighted_sum",
       [&] {
         weighted_sum(std::vector<Var<double>>{ok, n}, cv({2}));
       }},
      {"mixture",
       [&] {
         mixture(std::vector<Var<double>>{ok, n}, cv({2, 2}));
       }},
      {"pairwise_distance_penalty",
       [&] {
         pairwise_distance_penalty(std::vector<Var<double>>{ok, n}, 1.0);
       }},
      {"cross_entropy", [&] { losses::cross_entropy(n, lab); }},
      {"binary_cross_entropy_with_logits",
       [&] { losses::binary_cross_entropy_with_logits(n, target); }},
      {"mse_loss", [&] { losses::mse_loss(n, target); }},
      {"l1_loss", [&] { losses::l1_loss(n, target); }},
      {"huber_loss", [&] { losses::huber_loss(n, target); }},
  };
  for (const auto& f : families) {
    INFO(f.first);
    CHECK_THROWS_WITH(f.second(), Contains("anomaly: " + f.first) && Contains("non-finite"));
  }
  // Backward: sqrt at 0 has an infinite derivative; anomaly mode names the operation.
  auto z = Var<double>::variable(Tensor<double>({2}));
  CHECK_THROWS_WITH(sum(sqrt(z)).backward(), Contains("backward of sqrt"));
  tape.set_detect_anomaly(false);
  tape.reset();
  (void)wts;
}

// The worked example of docs/autograd.md: an operation of one's own, in one definition.
namespace {
template <typename T>
struct Cube {
  const char* name() const { return "cube"; }
  void backward(const autograd::BackwardContext<T>& c) const {
    auto dx = c.input_grad(0);
    if (!dx) return;
    const T* x = c.input(0);
    const T* g = c.grad_output();
    for (Index k = 0; k < c.output_shape().numel(); ++k) dx.add(k, g[k] * T(3) * x[k] * x[k]);
  }
};
template <typename T>
Var<T> cube(const Var<T>& x) {
  Var<T> y = autograd::new_output(x.shape(), {x});
  T* out = y.mutable_data();
  for (Index k = 0; k < x.numel(); ++k) out[k] = x.data()[k] * x.data()[k] * x.data()[k];
  return autograd::record(y, Cube<T>{}, {x});
}
}  // namespace

TEST_CASE("a user-defined operation is gradient-checked and anomaly-checked", "[autograd]") {
  Tensor<double> x = Tensor<double>::from({0.5, -1.0, 2.0, 0.1, 0.0, -0.3}, {2, 3});
  auto r = gradcheck<double>(
      [](const std::vector<Var<double>>& v) { return sum(cube(v[0]) * v[0] + cube(v[0])); }, {x});
  INFO(r.message());
  CHECK(r.ok);
  auto& tape = autograd::Tape<double>::current();
  tape.set_detect_anomaly(true);
  CHECK_THROWS_WITH(cube(cv({2}, std::numeric_limits<double>::infinity())),
                    Contains("anomaly: cube"));
  tape.set_detect_anomaly(false);
}

}  // namespace test_autograd_nd_errors
