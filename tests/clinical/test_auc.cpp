// BinaryAUC / binary_auc: values by hand, ties, [N, 2] logits, weights, one class → NaN.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "onestone/metrics/auc.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_clinical_auc {

using namespace onestone;

namespace {
data::Target<float> labels(const std::vector<std::int64_t>& y) {
  data::Target<float> t;
  t.name = "diagnosis";
  t.kind = data::TargetKind::Class;
  t.num_classes = 2;
  t.labels = Tensor<std::int64_t>::from(y, Shape{static_cast<Index>(y.size())});
  return t;
}
double auc_of(metrics::BinaryAUC<float>& m) {
  std::vector<metrics::MetricValue> v;
  m.values(v);
  REQUIRE(v.size() == 1);
  CHECK(v[0].name == "auc");
  CHECK(v[0].higher_is_better);
  return v[0].value;
}
}  // namespace

TEST_CASE("binary_auc: values by hand and ties", "[clinical][auc]") {
  const auto y = Tensor<std::int64_t>::from({0, 0, 1, 1}, {4});
  CHECK(metrics::binary_auc(Tensor<float>::from({0.1f, 0.4f, 0.35f, 0.8f}, {4}), y) ==
        Approx(0.75));  // the classic example: 3 of 4 pairs ordered
  CHECK(metrics::binary_auc(Tensor<float>::from({0, 0, 1, 1}, {4}), y) == 1.0);
  CHECK(metrics::binary_auc(Tensor<float>::from({1, 1, 0, 0}, {4}), y) == 0.0);
  CHECK(metrics::binary_auc(Tensor<float>::from({5, 5, 5, 5}, {4}), y) == 0.5);  // all tied
  // One tie between a positive and a negative: pairs (p=0.5 vs n=0.5) ½, others 1 → 3.5/4.
  CHECK(metrics::binary_auc(Tensor<float>::from({0.1f, 0.5f, 0.5f, 0.9f}, {4}), y) ==
        Approx(3.5 / 4));
  // Weights: sample 3 (positive, top) counts twice: (2·2 + 1·(1 + 0.5)) / (3·2).
  const auto w = Tensor<float>::from({1, 1, 1, 2}, {4});
  CHECK(metrics::binary_auc(Tensor<float>::from({0.1f, 0.5f, 0.5f, 0.9f}, {4}), y, &w) ==
        Approx((4.0 + 1.5) / 6));
  // One class only: AUC undefined → NaN.
  CHECK(std::isnan(metrics::binary_auc(Tensor<float>::from({1, 2}, {2}),
                                       Tensor<std::int64_t>::from({1, 1}, {2}))));
  CHECK_THROWS_WITH(metrics::binary_auc(Tensor<float>::from({1, 2}, {2}),
                                        Tensor<std::int64_t>::from({1, 2}, {2})),
                    Catch::Contains("label at position 1"));
}

TEST_CASE("BinaryAUC metric: [N], [N,1] and [N,2] predictions, batches, weight 0",
          "[clinical][auc]") {
  metrics::BinaryAUC<float> m;
  m.reset();
  m.update(Tensor<float>::from({0.1f, 0.4f}, {2}), labels({0, 0}));
  m.update(Tensor<float>::from({0.35f, 0.8f}, {2, 1}), labels({1, 1}));
  CHECK(auc_of(m) == Approx(0.75));
  // [N, 2]: score = z1 − z0 (−0.3, 0.3, 0.1, −0.1 → AUC 0.5: pairs (0.1>−0.3) (0.1<0.3)
  // (−0.1>−0.3) (−0.1<0.3)).
  m.reset();
  m.update(Tensor<float>::from({0.3f, 0.0f, 0.0f, 0.3f, 0.0f, 0.1f, 0.1f, 0.0f}, {4, 2}),
           labels({0, 0, 1, 1}));
  CHECK(auc_of(m) == Approx(0.5));
  // A sample of weight 0 is skipped.
  m.reset();
  auto t = labels({0, 1, 1});
  t.weight = Tensor<float>::from({1, 0, 1}, {3});
  m.update(Tensor<float>::from({0.5f, -9.0f, 0.7f}, {3}), t);
  CHECK(auc_of(m) == 1.0);
  // Only positives → NaN.
  m.reset();
  m.update(Tensor<float>::from({0.5f}, {1}), labels({1}));
  CHECK(std::isnan(auc_of(m)));
  CHECK_THROWS_WITH(m.update(Tensor<float>(Shape{2, 3}), labels({0, 1})),
                    Catch::Contains("BinaryAUC") && Catch::Contains("[2, 3]"));
  CHECK(m.clone()->name() == "auc");
}

}  // namespace test_clinical_auc
