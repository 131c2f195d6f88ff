// Tests for the MMoE synthetic regression generator.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>

#include "onestone/data/synthetic.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_data_synthetic {

namespace {

using onestone::Index;
using onestone::data::SyntheticOptions;

double pearson(const onestone::Tensor<double>& a, const onestone::Tensor<double>& b) {
  const auto x = a.vector().array() - a.vector().mean();
  const auto y = b.vector().array() - b.vector().mean();
  return (x * y).sum() / std::sqrt((x * x).sum() * (y * y).sum());
}

}  // namespace

TEST_CASE("MMoE synthetic: label correlation equals p", "[data][synthetic]") {
  for (double p : {0.5, 0.9, 1.0, -0.3}) {
    const auto ds = onestone::data::make_mmoe_synthetic<double>(
        SyntheticOptions().samples(200000).dim(16).correlation(p).sine_terms(0).noise_std(0.0).seed(
            42));
    REQUIRE(ds.num_tasks() == 2);
    const double r = pearson(ds.target("task0").values, ds.target("task1").values);
    INFO("p = " << p << ", measured r = " << r);
    CHECK(std::abs(r - p) < 0.01);
  }
}

TEST_CASE("MMoE synthetic: shapes, names, determinism", "[data][synthetic]") {
  const auto opts = SyntheticOptions().samples(500).dim(20).num_tasks(3).correlation(0.7).seed(9);
  const auto a = onestone::data::make_mmoe_synthetic<float>(opts);
  const auto b = onestone::data::make_mmoe_synthetic<float>(opts);
  const auto c = onestone::data::make_mmoe_synthetic<float>(SyntheticOptions(opts).seed(10));
  REQUIRE(a.inputs().shape() == onestone::Shape{500, 20});
  REQUIRE(a.num_tasks() == 3);
  for (Index k = 0; k < 3; ++k) {
    const auto& t = a.target(k);
    CHECK(t.name == "task" + std::to_string(k));
    CHECK(t.kind == onestone::data::TargetKind::Value);
    REQUIRE(t.values.shape() == onestone::Shape{500, 1});
    CHECK(t.values.vector().allFinite());
    CHECK(t.values.vector() == b.target(k).values.vector());
    CHECK(t.values.vector() != c.target(k).values.vector());
  }
  CHECK(a.inputs().vector() == b.inputs().vector());
  CHECK(a.inputs().vector() != c.inputs().vector());
  // inputs are standard normal
  CHECK(std::abs(a.inputs().vector().mean()) < 0.05f);

  // defaults: 10000 x 100, 2 tasks, m = 10, noise 0.1
  const auto d = onestone::data::make_mmoe_synthetic<float>();
  CHECK(d.inputs().shape() == onestone::Shape{10000, 100});
  CHECK(d.num_tasks() == 2);
}

TEST_CASE("MMoE synthetic: p = 1 with no noise gives identical tasks", "[data][synthetic]") {
  const auto ds = onestone::data::make_mmoe_synthetic<double>(
      SyntheticOptions().samples(100).dim(5).correlation(1.0).noise_std(0.0).seed(1));
  CHECK((ds.target(0).values.vector() - ds.target(1).values.vector()).cwiseAbs().maxCoeff() <
        1e-12);
}

TEST_CASE("MMoE synthetic: invalid options throw", "[data][synthetic]") {
  using Catch::Contains;
  using onestone::data::make_mmoe_synthetic;
  REQUIRE_THROWS_WITH(make_mmoe_synthetic<float>(SyntheticOptions().correlation(1.5)),
                      Contains("correlation"));
  REQUIRE_THROWS_WITH(make_mmoe_synthetic<float>(SyntheticOptions().correlation(-1.01)),
                      Contains("correlation"));
  REQUIRE_THROWS_WITH(make_mmoe_synthetic<float>(SyntheticOptions().correlation(std::nan(""))),
                      Contains("correlation"));
  REQUIRE_THROWS_WITH(make_mmoe_synthetic<float>(SyntheticOptions().dim(3).num_tasks(4)),
                      Contains("num_tasks"));
  REQUIRE_THROWS_AS(make_mmoe_synthetic<float>(SyntheticOptions().num_tasks(0)),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(make_mmoe_synthetic<float>(SyntheticOptions().samples(0)),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(make_mmoe_synthetic<float>(SyntheticOptions().dim(0)), std::invalid_argument);
  REQUIRE_THROWS_AS(make_mmoe_synthetic<float>(SyntheticOptions().sine_terms(-1)),
                    std::invalid_argument);
  REQUIRE_THROWS_WITH(make_mmoe_synthetic<float>(SyntheticOptions().noise_std(-0.1)),
                      Contains("noise_std"));
  REQUIRE_THROWS_AS(make_mmoe_synthetic<float>(SyntheticOptions().scale(INFINITY)),
                    std::invalid_argument);
}

}  // namespace test_data_synthetic
