#include <catch2/catch.hpp>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_tape {

using namespace onestone;

TEST_CASE("tape: gradients accumulate where a value is used twice", "[autograd]") {
  auto x = Var<double>::variable(Tensor<double>::from({1.0, 2.0, 3.0}, {3}));
  auto y = sum(x * x + x);  // d/dx = 2x + 1
  y.backward();
  auto g = x.grad();
  CHECK(g[0] == 3.0);
  CHECK(g[1] == 5.0);
  CHECK(g[2] == 7.0);
}

TEST_CASE("tape: backward from several roots and the gradient of an intermediate", "[autograd]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  nn::Parameter<double> w(Tensor<double>::from({0.5, -1.0, 2.0, 1.5}, {2, 2}));
  auto x = Var<double>::from(Tensor<double>::from({1.0, 2.0}, {1, 2}));
  auto z = linear(x, w.var());  // shared representation [1, 2]
  auto l1 = sum(z * z);         // task 1
  auto l2 = sum(z * 3.0);       // task 2
  l1.backward();
  Tensor<double> g1 = z.grad();  // 2z
  CHECK(g1[0] == Approx(2 * z.data()[0]));
  CHECK(g1[1] == Approx(2 * z.data()[1]));
  l2.backward();                 // graph kept: second root
  Tensor<double> g2 = z.grad();  // 3 (intermediate gradients restart per pass)
  CHECK(g2[0] == 3.0);
  CHECK(g2[1] == 3.0);
  // Parameter gradients accumulate over both passes: dW = (2z + 3) xᵀ.
  CHECK(w.grad().at(0, 1) == Approx((2 * z.data()[0] + 3) * 2.0));
  // Backward from the representation with an explicit gradient (representation mode).
  w.zero_grad();
  Tensor<double> seed = Tensor<double>::from({1.0, 0.0}, {1, 2});
  z.backward(seed);
  CHECK(w.grad().at(0, 0) == 1.0);
  CHECK(w.grad().at(0, 1) == 2.0);
  CHECK(w.grad().at(1, 0) == 0.0);
}

TEST_CASE("tape: no_grad records nothing; stale handles are rejected", "[autograd]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  nn::Parameter<float> w(Tensor<float>::ones(Shape{2, 2}));
  Var<float> y;
  {
    NoGradGuard ng;
    y = sum(linear(Var<float>::from(Tensor<float>::ones(Shape{1, 2})), w.var()));
    CHECK(tape.num_nodes() == 0);
    CHECK_FALSE(y.requires_grad());
  }
  CHECK(y.item() == 4.0f);
  CHECK_THROWS_WITH(y.backward(), Catch::Contains("does not require grad"));
  tape.reset();
  CHECK_THROWS_WITH(y.item(), Catch::Contains("reset"));
  // An optimizer step defers the reset: results stay readable until the next operation.
  optim::SGD<float> opt({&w}, optim::SGDOptions(0.1));
  Tensor<float> in = Tensor<float>::ones(Shape{1, 2});
  auto loss = sum(linear(Var<float>::from(in), w.var()));
  loss.backward();
  opt.step();
  CHECK(loss.item() == 4.0f);
  auto next = Var<float>::from(in);
  (void)next;
  CHECK_THROWS_AS(loss.item(), std::logic_error);
}

TEST_CASE("tape: GraphScope releases memory and keeps capacity", "[autograd]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  Tensor<double> big = Tensor<double>::ones(Shape{64, 64});
  auto keep = Var<double>::from(big);
  const auto before = tape.num_vars();
  for (int i = 0; i < 100; ++i) {
    GraphScope<double> scope;
    auto y = sum(tanh(Var<double>::from(big)) * 2.0);
    CHECK(y.item() == Approx(64 * 64 * 2 * std::tanh(1.0)));
  }
  CHECK(tape.num_vars() == before);
  CHECK(tape.arena().num_blocks() == 1);
  CHECK(keep.numel() == 64 * 64);
}

}  // namespace test_autograd_tape
