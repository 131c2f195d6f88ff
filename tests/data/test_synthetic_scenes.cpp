// Synthetic scenes: shapes, determinism, and agreement of the three tasks (class, box, mask).
#include <catch2/catch.hpp>
#include <cstdint>

#include "onestone/data/synthetic_scenes.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_data_synthetic_scenes {

using onestone::Index;
using onestone::Shape;
using onestone::data::SceneOptions;

TEST_CASE("synthetic scenes: shapes, ranges, determinism", "[data][scenes]") {
  const auto a = onestone::data::make_synthetic_scenes<float>(SceneOptions().samples(50).seed(4));
  const auto b = onestone::data::make_synthetic_scenes<float>(SceneOptions().samples(50).seed(4));
  const auto c = onestone::data::make_synthetic_scenes<float>(SceneOptions().samples(50).seed(5));
  REQUIRE(a.inputs().shape() == (Shape{50, 3, 32, 32}));
  REQUIRE(a.target("scene").labels.shape() == (Shape{50}));
  REQUIRE(a.target("box").values.shape() == (Shape{50, 4}));
  REQUIRE(a.target("mask").labels.shape() == (Shape{50, 32, 32}));
  CHECK((a.inputs().vector() - b.inputs().vector()).cwiseAbs().maxCoeff() == 0.0f);
  CHECK((a.inputs().vector() - c.inputs().vector()).cwiseAbs().maxCoeff() > 0.1f);
  CHECK(a.inputs().vector().minCoeff() >= 0.0f);
  CHECK(a.inputs().vector().maxCoeff() <= 1.0f);
  int kinds[3] = {0, 0, 0};
  for (Index n = 0; n < 50; ++n) ++kinds[a.target("scene").labels[n]];
  for (int k : kinds) CHECK(k > 5);  // every class occurs
}

TEST_CASE("synthetic scenes: the box and the mask agree with the class", "[data][scenes]") {
  const auto ds =
      onestone::data::make_synthetic_scenes<double>(SceneOptions().samples(200).noise(0.0).seed(7));
  const Index S = 32;
  for (Index n = 0; n < 200; ++n) {
    const std::int64_t kind = ds.target("scene").labels[n];
    const double* bx = ds.target("box").values.data() + 4 * n;
    REQUIRE(bx[0] < bx[2]);
    REQUIRE(bx[1] < bx[3]);
    REQUIRE(bx[0] >= 0.0);
    REQUIRE(bx[3] <= 1.0);
    const Index x0 = static_cast<Index>(std::lround(bx[0] * S)),
                y0 = static_cast<Index>(std::lround(bx[1] * S)),
                x1 = static_cast<Index>(std::lround(bx[2] * S)),
                y1 = static_cast<Index>(std::lround(bx[3] * S));
    // The largest shape is drawn last: every mask pixel inside its shape has its label, and its
    // centre pixel (inside a square, disc and triangle alike) carries 1 + kind.
    const std::int64_t* m = ds.target("mask").labels.data() + n * S * S;
    const Index cy = (y0 + y1) / 2 + 1, cx = (x0 + x1) / 2;
    INFO("sample " << n << " kind " << kind << " box " << x0 << "," << y0 << "," << x1 << ","
                   << y1);
    CHECK(m[cy * S + cx] == 1 + kind);
    // Outside every shape the mask is 0; the labelled area inside the box covers at least the
    // triangle's half of it.
    Index inside = 0;
    for (Index r = y0; r < y1; ++r)
      for (Index q = x0; q < x1; ++q) inside += m[r * S + q] == 1 + kind;
    CHECK(static_cast<double>(inside) >= 0.45 * static_cast<double>((x1 - x0) * (y1 - y0)));
  }
}

TEST_CASE("synthetic scenes: bad options are rejected", "[data][scenes]") {
  CHECK_THROWS_WITH(onestone::data::make_synthetic_scenes<float>(SceneOptions().size(4)),
                    Catch::Contains("size >= 8"));
  CHECK_THROWS_AS(onestone::data::make_synthetic_scenes<float>(SceneOptions().extent(10, 40)),
                  std::invalid_argument);
  CHECK_THROWS_AS(onestone::data::make_synthetic_scenes<float>(SceneOptions().max_objects(0)),
                  std::invalid_argument);
}

}  // namespace test_data_synthetic_scenes
