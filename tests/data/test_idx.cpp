// Tests for the IDX reader (raw and gzipped) and the Fashion-MNIST loader.
#include <unistd.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "onestone/data/fashion_mnist.hpp"
#include "onestone/data/idx.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_data_idx {

namespace {

namespace fs = std::filesystem;
using onestone::Index;
using Bytes = std::vector<std::uint8_t>;

// A fresh temp folder per test case, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("onestone_idx_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void put_be(Bytes& b, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

Bytes idx_header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
  Bytes b{0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (auto d : dims) put_be(b, d, 4);
  return b;
}

void write_raw(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!b.empty()) REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == int(b.size()));
  gzclose(f);
}

// u8 images [3, 2, 2] with pixel value 10 * image + pixel.
Bytes small_images() {
  Bytes b = idx_header(0x08, {3, 2, 2});
  for (int i = 0; i < 3; ++i)
    for (int p = 0; p < 4; ++p) b.push_back(static_cast<std::uint8_t>(10 * i + p));
  return b;
}

}  // namespace

TEST_CASE("read_idx reads raw and gzipped u8 images", "[data][idx]") {
  TempDir dir;
  const Bytes b = small_images();
  write_raw(dir.file("img-raw"), b);
  write_gz(dir.file("img.gz"), b);
  for (const std::string& path : {dir.file("img-raw"), dir.file("img.gz")}) {
    const auto a = onestone::data::read_idx(path);
    CHECK(a.type == onestone::data::kIdxU8);
    REQUIRE(a.dims == std::vector<Index>{3, 2, 2});
    CHECK(a.numel() == 12);
    CHECK(a.value(5) == 11.0);

    const auto x = onestone::data::read_idx_images<float>(path, /*scale_to_unit=*/false);
    REQUIRE(x.shape() == onestone::Shape{3, 4});
    CHECK(x.at(2, 3) == 23.0f);

    const auto xs = onestone::data::read_idx_images<double>(path);
    CHECK(xs.at(1, 2) == Approx(12.0 / 255.0));

    const auto lim = onestone::data::read_idx_images<float>(path, false, /*limit=*/2);
    REQUIRE(lim.shape() == onestone::Shape{2, 4});
    CHECK(lim.at(1, 0) == 10.0f);
  }
}

TEST_CASE("read_idx decodes big-endian i8, i16, i32, f32, f64", "[data][idx]") {
  TempDir dir;
  {
    Bytes b = idx_header(0x09, {2});
    b.push_back(0xFF);  // -1
    b.push_back(0x7F);  // 127
    write_gz(dir.file("i8.gz"), b);
    const auto t = onestone::data::read_idx_labels(dir.file("i8.gz"));
    CHECK(t[0] == -1);
    CHECK(t[1] == 127);
  }
  {
    Bytes b = idx_header(0x0B, {3});
    put_be(b, 0x0102, 2);
    put_be(b, 0xFFFE, 2);  // -2
    put_be(b, 0x7FFF, 2);
    write_raw(dir.file("i16"), b);
    const auto t = onestone::data::read_idx_labels(dir.file("i16"));
    CHECK(t[0] == 258);
    CHECK(t[1] == -2);
    CHECK(t[2] == 32767);
  }
  {
    Bytes b = idx_header(0x0C, {2});
    put_be(b, 70000, 4);
    put_be(b, 0xFFFFFFFFu, 4);  // -1
    write_raw(dir.file("i32"), b);
    const auto t = onestone::data::read_idx_labels(dir.file("i32"));
    CHECK(t[0] == 70000);
    CHECK(t[1] == -1);
  }
  {
    Bytes b = idx_header(0x0D, {1, 2});
    for (float f : {1.5f, -0.25f}) {
      std::uint32_t bits;
      std::memcpy(&bits, &f, 4);
      put_be(b, bits, 4);
    }
    write_gz(dir.file("f32.gz"), b);
    const auto t = onestone::data::read_idx_images<float>(dir.file("f32.gz"));  // no scaling
    CHECK(t.at(0, 0) == 1.5f);
    CHECK(t.at(0, 1) == -0.25f);
    REQUIRE_THROWS_WITH(onestone::data::read_idx_labels(dir.file("f32.gz")),
                        Catch::Contains("f32.gz"));
  }
  {
    Bytes b = idx_header(0x0E, {2, 1, 1, 1});
    for (double v : {3.25, -1e300}) {
      std::uint64_t bits;
      std::memcpy(&bits, &v, 8);
      put_be(b, bits, 8);
    }
    write_raw(dir.file("f64"), b);
    const auto a = onestone::data::read_idx(dir.file("f64"));
    const auto t = a.to_tensor<double>();
    REQUIRE(t.shape() == onestone::Shape{2, 1, 1, 1});
    CHECK(t[0] == 3.25);
    CHECK(t[1] == -1e300);
  }
}

TEST_CASE("read_idx reports bad files with path and byte offset", "[data][idx]") {
  TempDir dir;
  using Catch::Contains;
  using onestone::data::read_idx;

  const std::string missing = dir.file("no-such-file.gz");
  REQUIRE_THROWS_AS(read_idx(missing), std::runtime_error);
  REQUIRE_THROWS_WITH(read_idx(missing), Contains(missing));

  Bytes full = small_images();
  Bytes cut(full.begin(), full.end() - 3);
  write_raw(dir.file("cut"), cut);
  REQUIRE_THROWS_WITH(read_idx(dir.file("cut")),
                      Contains(dir.file("cut")) &&
                          Contains("truncated at byte offset 25, expected 12 bytes of data"));
  write_gz(dir.file("cut.gz"), cut);
  REQUIRE_THROWS_WITH(read_idx(dir.file("cut.gz")),
                      Contains("cut.gz: truncated at byte offset 25, expected 12 bytes of data"));

  // a gzip stream that itself is cut short
  write_gz(dir.file("full.gz"), full);
  {
    std::ifstream in(dir.file("full.gz"), std::ios::binary);
    std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir.file("cutgz.gz"), std::ios::binary) << gz.substr(0, gz.size() - 10);
  }
  REQUIRE_THROWS_WITH(read_idx(dir.file("cutgz.gz")), Contains("cutgz.gz"));

  Bytes header_only{0, 0};
  write_raw(dir.file("short"), header_only);
  REQUIRE_THROWS_WITH(read_idx(dir.file("short")), Contains("short: truncated at byte offset 2"));

  Bytes dims_cut = idx_header(0x08, {3, 2, 2});
  dims_cut.resize(10);
  write_raw(dir.file("dims"), dims_cut);
  REQUIRE_THROWS_WITH(read_idx(dir.file("dims")), Contains("truncated at byte offset 10"));

  Bytes magic = full;
  magic[0] = 0x1F;
  write_raw(dir.file("magic"), magic);
  REQUIRE_THROWS_WITH(read_idx(dir.file("magic")),
                      Contains(dir.file("magic")) && Contains("magic at byte offset 0"));
  magic[0] = 0;
  magic[1] = 0x08;
  write_gz(dir.file("magic1.gz"), magic);
  REQUIRE_THROWS_WITH(read_idx(dir.file("magic1.gz")), Contains("magic at byte offset 1"));

  Bytes type = full;
  type[2] = 0x0A;
  write_raw(dir.file("type"), type);
  REQUIRE_THROWS_WITH(read_idx(dir.file("type")), Contains("type code 0x0a at byte offset 2"));

  Bytes rank0{0, 0, 0x08, 0};
  write_raw(dir.file("rank0"), rank0);
  REQUIRE_THROWS_WITH(read_idx(dir.file("rank0")), Contains("rank 0 at byte offset 3"));
  Bytes rank5 = idx_header(0x08, {1, 1, 1, 1, 1});
  rank5.push_back(7);
  write_raw(dir.file("rank5"), rank5);
  REQUIRE_THROWS_WITH(read_idx(dir.file("rank5")), Contains("rank 5 at byte offset 3"));

  Bytes trailing = full;
  trailing.push_back(0);
  write_gz(dir.file("trailing.gz"), trailing);
  REQUIRE_THROWS_WITH(read_idx(dir.file("trailing.gz")),
                      Contains("trailing.gz") && Contains("trailing data at byte offset 28"));

  // 65536 * 65536 elements: refused before any allocation
  Bytes huge = idx_header(0x08, {65536, 65536});
  write_raw(dir.file("huge"), huge);
  REQUIRE_THROWS_WITH(read_idx(dir.file("huge")), Contains("huge") && Contains("2^31"));
  Bytes overflow = idx_header(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu});
  write_raw(dir.file("overflow"), overflow);
  REQUIRE_THROWS_WITH(read_idx(dir.file("overflow")), Contains("2^31"));

  // wrong rank for the typed helpers
  write_raw(dir.file("img"), full);
  REQUIRE_THROWS_WITH(onestone::data::read_idx_labels(dir.file("img")),
                      Contains("img") && Contains("[3, 2, 2]"));
}

TEST_CASE("Fashion-MNIST group mapping and missing-file message", "[data][fashion]") {
  using onestone::data::fashion_mnist_group_of;
  const int expected[10] = {0, 1, 0, 1, 0, 2, 0, 2, 3, 2};
  for (int i = 0; i < 10; ++i) CHECK(fashion_mnist_group_of(i) == expected[i]);
  CHECK_THROWS_AS(fashion_mnist_group_of(10), std::invalid_argument);
  CHECK(onestone::data::fashion_mnist_item_names().size() == 10);
  CHECK(onestone::data::fashion_mnist_item_names()[9] == "Ankle boot");
  CHECK(onestone::data::fashion_mnist_group_names().size() == 4);

  TempDir dir;
  REQUIRE_THROWS_WITH(onestone::data::load_fashion_mnist<float>(dir.path.string(), false),
                      Catch::Contains("t10k-images-idx3-ubyte") &&
                          Catch::Contains("apt-get install dataset-fashion-mnist") &&
                          Catch::Contains("--data DIR"));
}

TEST_CASE("Fashion-MNIST t10k set from the installed package", "[data][fashion]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(dir)) {
    WARN("Fashion-MNIST not installed at " << dir << "; skipping");
    return;
  }
  const std::string base = dir + "/t10k-images-idx3-ubyte";
  const std::string images = fs::exists(base + ".gz") ? base + ".gz" : base;
  const auto x = onestone::data::read_idx_images<float>(images);
  REQUIRE(x.shape() == onestone::Shape{10000, 784});
  CHECK(x.vector().minCoeff() >= 0.0f);
  CHECK(x.vector().maxCoeff() <= 1.0f);

  const auto ds = onestone::data::load_fashion_mnist<float>(dir, /*train=*/false);
  REQUIRE(ds.size() == 10000);
  REQUIRE(ds.num_tasks() == 2);
  const auto& item = ds.target("item");
  const auto& group = ds.target("group");
  CHECK(item.num_classes == 10);
  CHECK(group.num_classes == 4);
  int per_class[10] = {};
  for (Index i = 0; i < ds.size(); ++i) {
    REQUIRE(item.labels[i] >= 0);
    REQUIRE(item.labels[i] <= 9);
    ++per_class[item.labels[i]];
    REQUIRE(group.labels[i] == onestone::data::fashion_mnist_group_of(int(item.labels[i])));
  }
  for (int c = 0; c < 10; ++c) CHECK(per_class[c] == 1000);

  const auto small = onestone::data::load_fashion_mnist<double>(dir, false, /*limit=*/50);
  CHECK(small.size() == 50);
  CHECK(small.inputs().shape() == onestone::Shape{50, 784});
  CHECK(small.target(0).labels[7] == item.labels[7]);
}

TEST_CASE("IDX reader: fuzzer-found inputs fail cleanly", "[data][idx][fuzz]") {
#ifdef ONESTONE_TEST_FIXTURES_DIR
  const std::string dir = std::string(ONESTONE_TEST_FIXTURES_DIR) + "/fuzz_regressions/";
#else
  const std::string dir = "tests/fixtures/fuzz_regressions/";
#endif
  // A 28-byte file declaring ~3.9 GB of data: truncation is reported without allocating it.
  REQUIRE_THROWS_WITH(onestone::data::read_idx(dir + "idx-oom-3.9GB-before-reading-data.idx"),
                      Catch::Contains("truncated at byte offset"));
  // Zero images but huge image dimensions: rejected, not an integer overflow.
  REQUIRE_THROWS_AS(
      onestone::data::read_idx_images<float>(dir + "idx-images-features-overflow.idx"),
      std::runtime_error);
}

}  // namespace test_data_idx
