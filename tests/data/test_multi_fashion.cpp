// Tests for MultiFashion (Sener & Koltun's MultiMNIST recipe on Fashion-MNIST).
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <set>

#include "onestone/data/multi_fashion.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_data_multi_fashion {

namespace {

using onestone::Index;
using onestone::Shape;
using onestone::Tensor;
using onestone::data::Dataset;
using onestone::data::MultiFashionOptions;

// Three 28x28 "images": image k is constant (k + 1) / 10 with one bright pixel 0.9 at (k, k).
Dataset<double> tiny_source() {
  Tensor<double> x(Shape{3, 784});
  for (Index k = 0; k < 3; ++k) {
    for (Index p = 0; p < 784; ++p) x[k * 784 + p] = (k + 1) / 10.0;
    x[k * 784 + k * 28 + k] = 0.9;
  }
  Dataset<double> ds(std::move(x));
  ds.add_classification("item", Tensor<std::int64_t>::from({4, 7, 2}, {3}), 10);
  return ds;
}

}  // namespace

TEST_CASE("MultiFashion: canvas layout, overlap by maximum, labels", "[data][multi_fashion]") {
  // Output at the canvas size (36) so that every canvas pixel can be checked.
  const auto src = tiny_source();
  const auto ds = onestone::data::make_multi_fashion(src, MultiFashionOptions().output_size(36));
  REQUIRE(ds.size() == 3);
  REQUIRE(ds.inputs().shape() == (Shape{3, 1, 36, 36}));
  const auto& left = ds.target("left").labels;
  const auto& right = ds.target("right").labels;
  const std::int64_t item[3] = {4, 7, 2};
  for (Index m = 0; m < 3; ++m) {
    CHECK(left[m] == item[m]);  // image m's left item is source image m
    // Its right item is another image: find which from the bottom-right corner's value.
    const double* img = ds.inputs().data() + m * 36 * 36;
    const double corner = img[33 * 36 + 33];  // inside the right item only
    Index b = -1;
    for (Index k = 0; k < 3; ++k)
      if (std::abs(corner - (k + 1) / 10.0) < 1e-12) b = k;
    REQUIRE(b >= 0);
    CHECK(b != m);
    CHECK(right[m] == item[b]);
    const double va = (m + 1) / 10.0, vb = (b + 1) / 10.0;
    for (Index r = 0; r < 36; ++r)
      for (Index c = 0; c < 36; ++c) {
        const bool in_a = r < 28 && c < 28, in_b = r >= 6 && c >= 6 && r < 34 && c < 34;
        double want = 0;
        if (in_a) want = (r == m && c == m) ? 0.9 : va;
        if (in_b) want = std::max(want, (r - 6 == b && c - 6 == b) ? 0.9 : vb);
        INFO("image " << m << " pixel (" << r << ", " << c << ")");
        REQUIRE(img[r * 36 + c] == want);
      }
  }
}

TEST_CASE("MultiFashion: nearest-neighbour resize, determinism, options", "[data][multi_fashion]") {
  const auto src = tiny_source();
  const auto big = onestone::data::make_multi_fashion(src, MultiFashionOptions().output_size(36));
  const auto small = onestone::data::make_multi_fashion(src, MultiFashionOptions());
  REQUIRE(small.inputs().shape() == (Shape{3, 1, 28, 28}));
  for (Index m = 0; m < 3; ++m)
    for (Index r = 0; r < 28; ++r)
      for (Index c = 0; c < 28; ++c)
        REQUIRE(small.inputs()[m * 784 + r * 28 + c] ==
                big.inputs()[m * 1296 + (r * 36 / 28) * 36 + c * 36 / 28]);
  // Same seed, same data; the flat layout holds the same pixels; more samples wrap around.
  const auto again = onestone::data::make_multi_fashion(src, MultiFashionOptions());
  CHECK((again.inputs().vector() - small.inputs().vector()).cwiseAbs().maxCoeff() == 0.0);
  const auto flat = onestone::data::make_multi_fashion(src, MultiFashionOptions().flat(true));
  CHECK(flat.inputs().shape() == (Shape{3, 784}));
  const auto many =
      onestone::data::make_multi_fashion(src, MultiFashionOptions().samples(300).seed(5));
  REQUIRE(many.size() == 300);
  std::set<std::pair<std::int64_t, std::int64_t>> pairs;
  for (Index m = 0; m < 300; ++m) {
    CHECK(many.target("left").labels[m] == tiny_source().target("item").labels[m % 3]);
    pairs.insert({many.target("left").labels[m], many.target("right").labels[m]});
  }
  CHECK(pairs.size() == 6);  // every ordered pair of distinct images occurs
}

TEST_CASE("MultiFashion: bad sources and geometry are rejected", "[data][multi_fashion]") {
  Dataset<double> not_images(Tensor<double>(Shape{4, 10}));
  not_images.add_classification("item", Tensor<std::int64_t>(Shape{4}), 10);
  CHECK_THROWS_WITH(onestone::data::make_multi_fashion(not_images),
                    Catch::Contains("28x28") && Catch::Contains("[10]"));
  Dataset<double> one(Tensor<double>(Shape{1, 784}));
  one.add_classification("item", Tensor<std::int64_t>(Shape{1}), 10);
  CHECK_THROWS_WITH(onestone::data::make_multi_fashion(one), Catch::Contains("at least 2"));
  CHECK_THROWS_AS(
      onestone::data::make_multi_fashion(tiny_source(), MultiFashionOptions().offset(9)),
      std::invalid_argument);
  Dataset<double> no_item(Tensor<double>(Shape{2, 784}));
  CHECK_THROWS(onestone::data::make_multi_fashion(no_item));
}

TEST_CASE("MultiFashion from Debian's Fashion-MNIST", "[data][multi_fashion]") {
  const std::string dir = onestone::data::default_fashion_mnist_dir();
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz") &&
      !std::filesystem::exists(dir + "/t10k-images-idx3-ubyte")) {
    WARN("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): skipped");
    return;
  }
  const auto ds =
      onestone::data::load_multi_fashion<float>(dir, false, 500, MultiFashionOptions().seed(3));
  REQUIRE(ds.size() == 500);
  float lo = 1, hi = 0;
  for (Index i = 0; i < ds.inputs().numel(); ++i) {
    lo = std::min(lo, ds.inputs()[i]);
    hi = std::max(hi, ds.inputs()[i]);
  }
  CHECK(lo >= 0.0f);
  CHECK(hi <= 1.0f);
  CHECK(hi > 0.5f);
  for (Index m = 0; m < 500; ++m) {
    CHECK(ds.target("left").labels[m] >= 0);
    CHECK(ds.target("right").labels[m] < 10);
  }
}

}  // namespace test_data_multi_fashion
