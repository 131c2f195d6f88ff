#include <catch2/catch.hpp>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_op_errors {

using namespace onestone;

TEST_CASE("operations reject bad shapes with clear messages", "[autograd][errors]") {
  Tensor<float> a({3, 4}), b({4, 3}), c({2, 4}), labels_t({3});
  auto A = Var<float>::from(a), B = Var<float>::from(b), C = Var<float>::from(c);
  CHECK_THROWS_WITH(matmul(A, A),
                    Catch::Contains("matmul") && Catch::Contains("[3, 4] and [3, 4]"));
  CHECK_THROWS_WITH(A + C, Catch::Contains("add") && Catch::Contains("do not broadcast"));
  CHECK_THROWS_WITH(A * B, Catch::Contains("mul"));
  CHECK_THROWS_WITH(reshape(A, Shape{5, 2}), Catch::Contains("reshape"));
  CHECK_THROWS_WITH(concat({A, B}), Catch::Contains("cat"));
  CHECK_THROWS_WITH(narrow(A, -1, 3, 2), Catch::Contains("narrow"));
  CHECK_THROWS_WITH(sum(A, 2), Catch::Contains("axis 2"));
  CHECK_THROWS_WITH(split(A, {1, 2}), Catch::Contains("split"));
  CHECK_THROWS_WITH(gather_rows(A, Tensor<Index>::from({0, 3}, {2})), Catch::Contains("index 3"));
  CHECK_THROWS_WITH(dropout(A, 1.5f, true), Catch::Contains("dropout"));
  CHECK_THROWS_WITH(A / 0.0f, Catch::Contains("division"));
  CHECK_THROWS_WITH(losses::cross_entropy(A, Tensor<Index>({2})),
                    Catch::Contains("cross_entropy") && Catch::Contains("[3, 4]"));
  CHECK_THROWS_WITH(losses::mse_loss(A, C), Catch::Contains("mse_loss"));
  CHECK_THROWS_WITH(losses::binary_cross_entropy_with_logits(A, C),
                    Catch::Contains("binary_cross_entropy"));
  CHECK_THROWS_WITH(losses::huber_loss(A, A, -1.0f), Catch::Contains("delta"));
  CHECK_THROWS_WITH(A.item(), Catch::Contains("not one element"));
  CHECK_THROWS_WITH(Var<float>().shape(), Catch::Contains("undefined"));
}

TEST_CASE("losses: values against hand computation", "[losses]") {
  // logits [[0, ln 3]] -> p = [1/4, 3/4]; label 1 -> −ln(3/4)
  Tensor<double> logits = Tensor<double>::from({0.0, std::log(3.0), 0.0, 0.0}, {2, 2});
  Tensor<Index> labels = Tensor<Index>::from({1, 0}, {2});
  auto L = Var<double>::from(logits);
  CHECK(losses::cross_entropy(L, labels).item() == Approx((-std::log(0.75) - std::log(0.5)) / 2));
  Tensor<double> w = Tensor<double>::from({1.0, 3.0}, {2});
  CHECK(losses::cross_entropy(L, labels, losses::CrossEntropyOptions<double>().weight(w)).item() ==
        Approx((3 * -std::log(0.75) + 1 * -std::log(0.5)) / 4));
  Tensor<Index> ign = Tensor<Index>::from({1, -100}, {2});
  CHECK(losses::cross_entropy(L, ign).item() == Approx(-std::log(0.75)));
  Tensor<double> p = Tensor<double>::from({1.0, 3.0}, {2, 1}),
                 y = Tensor<double>::from({0.0, 0.5}, {2, 1});
  auto P = Var<double>::from(p);
  CHECK(losses::mse_loss(P, y).item() == Approx((1.0 + 6.25) / 2));
  CHECK(losses::l1_loss(P, y).item() == Approx((1.0 + 2.5) / 2));
  CHECK(losses::huber_loss(P, y, 1.0).item() == Approx((0.5 + (2.5 - 0.5)) / 2));
  Tensor<double> t = Tensor<double>::from({1.0, 0.0}, {2, 1});
  CHECK(losses::binary_cross_entropy_with_logits(P, t).item() ==
        Approx((std::log(1 + std::exp(-1.0)) + std::log(1 + std::exp(3.0))) / 2));
  // Stable for large logits.
  Tensor<double> big = Tensor<double>::from({1000.0, -1000.0}, {2, 1});
  CHECK(std::isfinite(losses::binary_cross_entropy_with_logits(Var<double>::from(big), t).item()));
}

TEST_CASE("anomaly mode names the operation producing NaN", "[autograd][errors]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  tape.set_detect_anomaly(true);
  Tensor<double> neg = Tensor<double>::from({-1.0}, {1});
  CHECK_THROWS_WITH(log(Var<double>::from(neg)), Catch::Contains("anomaly: log"));
  tape.set_detect_anomaly(false);
}

}  // namespace test_autograd_op_errors
