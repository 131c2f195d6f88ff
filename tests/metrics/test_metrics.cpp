// Tests for ConfusionMatrix and RegressionMeter against hand-computed values.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>

#include "onestone/metrics/classification.hpp"
#include "onestone/metrics/regression.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_metrics_metrics {

namespace {

using onestone::Tensor;
using Labels = Tensor<std::int64_t>;

// labels      0 0 0 1 1 2 2 2 2 0
// predictions 0 1 0 1 1 2 0 2 1 0
// confusion (rows true, columns predicted):
//   [3 1 0 0]
//   [0 2 0 0]
//   [1 1 2 0]
//   [0 0 0 0]   (class 3 never occurs)
// accuracy 7/10; class 0: P 3/4 R 3/4 F1 3/4; class 1: P 2/4 R 2/2 F1 2/3;
// class 2: P 2/2 R 2/4 F1 2/3; macro-F1 over classes 0..2 = (3/4 + 2/3 + 2/3) / 3 = 25/36.
const Labels kLabels = Labels::from({0, 0, 0, 1, 1, 2, 2, 2, 2, 0}, {10});
const Labels kPreds = Labels::from({0, 1, 0, 1, 1, 2, 0, 2, 1, 0}, {10});

void check_hand_values(const onestone::metrics::ConfusionMatrix& cm) {
  CHECK(cm.count() == 10);
  CHECK(cm.at(0, 0) == 3);
  CHECK(cm.at(0, 1) == 1);
  CHECK(cm.at(2, 0) == 1);
  CHECK(cm.at(2, 2) == 2);
  CHECK(cm.accuracy() == Approx(0.7));
  CHECK(cm.precision(0) == Approx(0.75));
  CHECK(cm.recall(0) == Approx(0.75));
  CHECK(cm.precision(1) == Approx(0.5));
  CHECK(cm.recall(1) == Approx(1.0));
  CHECK(cm.precision(2) == Approx(1.0));
  CHECK(cm.recall(2) == Approx(0.5));
  CHECK(cm.f1(1) == Approx(2.0 / 3.0));
  CHECK(cm.precision(3) == 0.0);
  CHECK(cm.recall(3) == 0.0);
  CHECK(cm.macro_f1() == Approx(25.0 / 36.0));
}

}  // namespace

TEST_CASE("ConfusionMatrix from predicted labels", "[metrics]") {
  onestone::metrics::ConfusionMatrix cm(4);
  cm.update_labels(kPreds, kLabels);
  check_hand_values(cm);
  cm.reset();
  CHECK(cm.count() == 0);
  CHECK(cm.accuracy() == 0.0);
  CHECK(cm.macro_f1() == 0.0);
}

TEST_CASE("ConfusionMatrix from logits via row argmax, across batches", "[metrics]") {
  Tensor<float> logits({10, 4});
  for (onestone::Index i = 0; i < 10; ++i) {
    for (onestone::Index c = 0; c < 4; ++c) logits.at(i, c) = -1.0f - float(c);
    logits.at(i, kPreds[i]) = 2.5f;
  }
  logits.at(0, 1) = 2.5f;  // tie between classes 0 and 1 in row 0: the first maximum wins
  onestone::metrics::ConfusionMatrix cm(4);
  // two batches: rows 0..5 and 6..9
  Tensor<float> first = Tensor<float>::copy_of(logits.data(), {6, 4});
  Tensor<float> second = Tensor<float>::copy_of(logits.data() + 24, {4, 4});
  cm.update(first, Labels::copy_of(kLabels.data(), {6}));
  cm.update(second, Labels::copy_of(kLabels.data() + 6, {4, 1}));
  check_hand_values(cm);
}

TEST_CASE("ConfusionMatrix rejects bad shapes and labels", "[metrics]") {
  using Catch::Contains;
  onestone::metrics::ConfusionMatrix cm(3);
  REQUIRE_THROWS_WITH(cm.update(Tensor<float>({5, 3}), Labels({4})),
                      Contains("[5, 3]") && Contains("[4]"));
  REQUIRE_THROWS_WITH(cm.update(Tensor<float>({4, 2}), Labels({4})),
                      Contains("[4, 2]") && Contains("[4]"));
  REQUIRE_THROWS_WITH(cm.update_labels(Labels({3}), Labels({2})),
                      Contains("[3]") && Contains("[2]"));
  REQUIRE_THROWS_WITH(cm.update_labels(Labels({2}), Labels::from({0, 3}, {2})),
                      Contains("index 1") && Contains("is 3"));
  REQUIRE_THROWS_AS(onestone::metrics::ConfusionMatrix(0), std::invalid_argument);
  CHECK(cm.count() == 0);
}

TEST_CASE("RegressionMeter MSE / MAE / RMSE", "[metrics]") {
  onestone::metrics::RegressionMeter meter;
  // errors 1, 0, -2, 3: SSE 14, SAE 6 over 4 values
  meter.update(Tensor<double>::from({1, 2, 3, 4}, {2, 2}),
               Tensor<double>::from({0, 2, 5, 1}, {2, 2}));
  CHECK(meter.count() == 4);
  CHECK(meter.mse() == Approx(3.5));
  CHECK(meter.mae() == Approx(1.5));
  CHECK(meter.rmse() == Approx(std::sqrt(3.5)));
  // [N] against [N, 1]: one more error of -1 -> SSE 15, SAE 7 over 5 values
  meter.update(Tensor<double>::from({1}, {1}), Tensor<double>::from({2}, {1, 1}));
  CHECK(meter.count() == 5);
  CHECK(meter.mse() == Approx(3.0));
  CHECK(meter.mae() == Approx(1.4));

  onestone::metrics::RegressionMeter f;
  f.update(Tensor<float>::from({0.5f, -0.5f}, {2, 1}), Tensor<float>::from({0.0f, 0.0f}, {2, 1}));
  CHECK(f.mse() == Approx(0.25));

  REQUIRE_THROWS_WITH(meter.update(Tensor<double>({3, 2}), Tensor<double>({2, 3})),
                      Catch::Contains("[3, 2]") && Catch::Contains("[2, 3]"));
  REQUIRE_THROWS_AS(meter.update(Tensor<double>({4}), Tensor<double>({4, 2})),
                    std::invalid_argument);
  CHECK(meter.count() == 5);
  meter.reset();
  CHECK(meter.count() == 0);
  CHECK(meter.mse() == 0.0);
}

}  // namespace test_metrics_metrics
