// Tests for the vision metrics (mIoU, pixel accuracy, box IoU) and Δm, against hand-computed
// values.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>

#include "onestone/metrics/box.hpp"
#include "onestone/metrics/delta_m.hpp"
#include "onestone/metrics/segmentation.hpp"
#include "onestone/model/delta_m.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_metrics_vision_metrics {

namespace {

using onestone::Index;
using onestone::Shape;
using onestone::Tensor;
using onestone::data::Target;

// Scores [1, 3, 2, 3] whose argmax per pixel is `pred` (row-major over the 2x3 pixels).
Tensor<double> scores_for(const std::array<int, 6>& pred) {
  Tensor<double> s(Shape{1, 3, 2, 3});
  for (Index i = 0; i < 6; ++i) s[pred[static_cast<std::size_t>(i)] * 6 + i] = 1.0;
  return s;
}

}  // namespace

TEST_CASE("SegmentationMetrics: mIoU and pixel accuracy by hand", "[metrics][segmentation]") {
  // truth  0 0 1 / 1 2 -1(ignored)      pred  0 1 1 / 2 2 0
  // class 0: TP 1, FP 0, FN 1 -> IoU 1/2; class 1: TP 1, FP 1, FN 1 -> 1/3;
  // class 2: TP 1, FP 1, FN 0 -> 1/2. mIoU = (1/2 + 1/3 + 1/2) / 3 = 4/9; pixel acc 3/5.
  Target<double> t;
  t.labels = Tensor<std::int64_t>::from({0, 0, 1, 1, 2, -100}, {1, 2, 3});
  onestone::metrics::SegmentationMetrics<double> m;
  m.update(scores_for({0, 1, 1, 2, 2, 0}), t);
  CHECK(m.iou(0) == Approx(0.5));
  CHECK(m.iou(1) == Approx(1.0 / 3));
  CHECK(m.iou(2) == Approx(0.5));
  std::vector<onestone::metrics::MetricValue> v;
  m.values(v);
  REQUIRE(v.size() == 2);
  CHECK(v[0].name == "miou");
  CHECK(v[0].value == Approx(4.0 / 9));
  CHECK(v[1].name == "pixel_accuracy");
  CHECK(v[1].value == Approx(0.6));
  // A sample of weight 0 adds nothing; reset clears.
  t.weight = Tensor<double>::from({0.0}, {1});
  m.update(scores_for({2, 2, 2, 2, 2, 2}), t);
  v.clear();
  m.values(v);
  CHECK(v[0].value == Approx(4.0 / 9));
  m.reset();
  CHECK(m.miou() == 0.0);
  // A class absent from labels and predictions does not count in the mean.
  Target<double> u;
  u.labels = Tensor<std::int64_t>::from({0, 0, 0, 1, 1, 1}, {1, 2, 3});
  m.update(scores_for({0, 0, 0, 1, 1, 1}), u);
  CHECK(m.miou() == Approx(1.0));
  // Wrong shapes and labels out of range are rejected.
  Target<double> bad;
  bad.labels = Tensor<std::int64_t>::from({0, 0}, {1, 2});
  CHECK_THROWS_WITH(m.update(scores_for({0, 0, 0, 0, 0, 0}), bad), Catch::Contains("[1, 3, 2, 3]"));
  Target<double> out_of_range;
  out_of_range.labels = Tensor<std::int64_t>::from({0, 0, 0, 0, 0, 3}, {1, 2, 3});
  CHECK_THROWS_WITH(m.update(scores_for({0, 0, 0, 0, 0, 0}), out_of_range),
                    Catch::Contains("label 3"));
}

TEST_CASE("box IoU and BoxMetrics by hand", "[metrics][box]") {
  const std::array<double, 4> a{0, 0, 2, 2}, b{1, 1, 3, 3}, c{2, 2, 4, 4}, d{0, 0, 2, 1};
  CHECK(onestone::metrics::box_iou(a.data(), b.data()) == Approx(1.0 / 7));
  CHECK(onestone::metrics::box_iou(a.data(), c.data()) == 0.0);  // touching corners
  CHECK(onestone::metrics::box_iou(a.data(), a.data()) == 1.0);
  CHECK(onestone::metrics::box_iou(a.data(), d.data()) == Approx(0.5));
  Target<double> t;
  t.values = Tensor<double>::from({0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2}, {3, 4});
  const auto p = Tensor<double>::from({1, 1, 3, 3, 0, 0, 2, 1, 0, 0, 2, 2}, {3, 4});
  onestone::metrics::BoxMetrics<double> m;
  m.update(p, t);
  std::vector<onestone::metrics::MetricValue> v;
  m.values(v);
  CHECK(v[0].name == "box_iou");
  CHECK(v[0].value == Approx((1.0 / 7 + 0.5 + 1.0) / 3));
  CHECK(v[1].name == "box_hit");
  CHECK(v[1].value == Approx(2.0 / 3));  // IoU >= 0.5 for two of three
  CHECK_THROWS_WITH(m.update(Tensor<double>(Shape{3, 5}), t), Catch::Contains("[3, 5]"));
}

TEST_CASE("delta_m: signs, averaging and report matching", "[metrics][delta_m]") {
  CHECK(onestone::metrics::relative_gain(0.9, 0.8, true) == Approx(12.5));
  CHECK(onestone::metrics::relative_gain(0.5, 0.4, false) == Approx(-25.0));
  CHECK_THROWS_WITH(onestone::metrics::relative_gain(1.0, 0.0, true), Catch::Contains("baseline"));
  using onestone::model::EvalReport;
  using onestone::model::TaskMetrics;
  auto task = [](const char* name, double acc, double mae) {
    TaskMetrics t;
    t.task = name;
    t.add("accuracy", acc, true);
    t.add("mae", mae, false);
    return t;
  };
  EvalReport mtl, single_a, single_b;
  mtl.tasks = {task("a", 0.9, 2.0), task("b", 0.6, 1.0)};
  single_a.tasks = {task("a", 0.8, 2.5)};
  single_b.tasks = {task("b", 0.75, 0.8)};
  const auto single = onestone::model::merge_reports({single_a, single_b});
  // Primary metric (accuracy): (+12.5 + (−20)) / 2 = −3.75.
  CHECK(onestone::model::delta_m(mtl, single) == Approx(-3.75));
  // All metrics: (+12.5, +20 (mae 2.5 -> 2.0), −20, −25 (mae 0.8 -> 1.0)) / 4 = −3.125.
  CHECK(onestone::model::delta_m(mtl, single, onestone::model::DeltaMTerms::AllMetrics) ==
        Approx(-3.125));
  // The primary metric can be chosen per task.
  mtl.tasks[1].primary = "mae";
  CHECK(onestone::model::delta_m(mtl, single) == Approx((12.5 - 25.0) / 2));
  EvalReport missing;
  missing.tasks = {task("a", 0.8, 2.5)};
  CHECK_THROWS_WITH(onestone::model::delta_m(mtl, missing), Catch::Contains("no task 'b'"));
}

}  // namespace test_metrics_vision_metrics
