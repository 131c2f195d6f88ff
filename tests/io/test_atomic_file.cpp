// Tests for atomic file replacement: success paths, simulated failures midway (the previous
// file stays byte-identical and no temporary file remains), and real I/O errors.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "onestone/io/atomic_file.hpp"
#include "onestone/io/safetensors.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_io_atomic_file {

using namespace onestone;
using Catch::Matchers::Contains;
using io_test::Bytes;

namespace {

Bytes pattern(std::size_t n, unsigned char seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(seed + i * 7);
  return b;
}

}  // namespace

TEST_CASE("atomic write creates and replaces files", "[io][atomic]") {
  io_test::TempDir dir;
  const std::string path = dir.file("data.bin");
  io::write_file_atomic(path, pattern(1000, 1));
  CHECK(io_test::read_bytes(path) == pattern(1000, 1));
  io::write_file_atomic(path, pattern(10, 2));
  CHECK(io_test::read_bytes(path) == pattern(10, 2));
  io::write_file_atomic(path, Bytes{});
  CHECK(io_test::read_bytes(path).empty());
  CHECK(dir.entries() == std::vector<std::string>{"data.bin"});

  // Mode 0666 minus the umask, like a file created by fopen.
  const mode_t mask = ::umask(022);
  ::umask(mask);
  struct stat sb;
  REQUIRE(::stat(path.c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == (0666 & ~mask));

  // Relative paths (temporary file in the working folder).
  io::AtomicWriteOptions fast;
  fast.durable = false;
  const std::string cwd = io_test::fs::current_path().string();
  io_test::fs::current_path(dir.path);
  io::write_file_atomic("relative.bin", pattern(3, 3), fast);
  io_test::fs::current_path(cwd);
  CHECK(io_test::read_bytes(dir.file("relative.bin")) == pattern(3, 3));
}

TEST_CASE("a failure midway leaves the old file intact and no temporary file", "[io][atomic]") {
  io_test::TempDir dir;
  const std::string path = dir.file("model.bin");
  const Bytes old = pattern(500, 9);
  io::write_file_atomic(path, old);
  for (std::int64_t fail_at : {0, 1, 100, 4095, 4096, 9999}) {
    io::AtomicWriteOptions opts;
    opts.fail_after_bytes = fail_at;
    std::string msg;
    try {
      io::write_file_atomic(path, pattern(10000, 5), opts);
    } catch (const std::runtime_error& e) {
      msg = e.what();
    }
    CHECK_THAT(msg, Contains("atomic write of '" + path + "'"));
    CHECK_THAT(msg, Contains("failed at byte offset " + std::to_string(fail_at)));
    CHECK_THAT(msg, Contains("No space left on device"));
    CHECK(io_test::read_bytes(path) == old);
    CHECK(dir.entries() == std::vector<std::string>{"model.bin"});
  }
  // A limit larger than the data does not trigger.
  io::AtomicWriteOptions opts;
  opts.fail_after_bytes = 10000;
  io::write_file_atomic(path, pattern(10000, 5), opts);
  CHECK(io_test::read_bytes(path) == pattern(10000, 5));

  // Several writes through one AtomicFile, failing in the second.
  {
    io::AtomicWriteOptions o2;
    o2.fail_after_bytes = 15;
    io::AtomicFile f(path, o2);
    f.write(pattern(10, 1));
    CHECK(f.bytes_written() == 10);
    CHECK(io_test::fs::exists(f.temp_path()));
    CHECK_THROWS_AS(f.write(pattern(10, 1)), std::runtime_error);
    CHECK_THROWS_AS(f.commit(), std::logic_error);  // already discarded
  }
  CHECK(io_test::read_bytes(path) == pattern(10000, 5));
  CHECK(dir.entries() == std::vector<std::string>{"model.bin"});
}

TEST_CASE("an AtomicFile destroyed without commit changes nothing", "[io][atomic]") {
  io_test::TempDir dir;
  const std::string path = dir.file("x.bin");
  {
    io::AtomicFile f(path);
    f.write(std::string("partial"));
    CHECK(dir.entries().size() == 1);  // only the temporary file
    CHECK(dir.entries()[0].rfind(".x.bin.tmp.", 0) == 0);
  }
  CHECK(dir.entries().empty());
  io::write_file_atomic(path, pattern(4, 4));
  {
    io::AtomicFile f(path);
    f.write(std::string("abandoned"));
  }
  CHECK(io_test::read_bytes(path) == pattern(4, 4));
  CHECK(dir.entries() == std::vector<std::string>{"x.bin"});
}

TEST_CASE("atomic write reports real I/O errors with the path and errno text", "[io][atomic]") {
  io_test::TempDir dir;
  CHECK_THROWS_WITH(io::write_file_atomic(dir.file("missing/sub/f.bin"), pattern(3, 1)),
                    Contains("atomic write of '" + dir.file("missing/sub/f.bin") +
                             "': cannot create temporary file") &&
                        Contains("No such file or directory"));
  // Renaming over a non-empty folder fails; the temporary file is removed.
  io_test::fs::create_directories(dir.path / "folder" / "inner");
  CHECK_THROWS_WITH(io::write_file_atomic(dir.file("folder"), pattern(3, 1)),
                    Contains("rename of") && Contains("failed"));
  CHECK(dir.entries() == std::vector<std::string>{"folder"});
  CHECK_THROWS_AS(io::write_file_atomic("", pattern(1, 1)), std::invalid_argument);
  CHECK_THROWS_AS(io::write_file_atomic(dir.file("f") + "/", pattern(1, 1)), std::invalid_argument);
}

TEST_CASE("write_safetensors is atomic", "[io][atomic]") {
  io_test::TempDir dir;
  const std::string path = dir.file("w.safetensors");
  std::map<std::string, io::SafeTensor> m{
      {"w", io::to_safetensor(Tensor<float>::full({64, 64}, 1.0f))}};
  io::write_safetensors(path, m);
  const Bytes old = io_test::read_bytes(path);
  m["w"] = io::to_safetensor(Tensor<float>::full({64, 64}, 2.0f));
  io::AtomicWriteOptions opts;
  opts.fail_after_bytes = 1000;  // inside the data section
  CHECK_THROWS_WITH(io::write_safetensors(path, m, {}, opts), Contains("No space left on device"));
  CHECK(io_test::read_bytes(path) == old);
  CHECK(dir.entries() == std::vector<std::string>{"w.safetensors"});
  CHECK(io::to_tensor<float>(io::read_safetensors(path).at("w"))[0] == 1.0f);
}

}  // namespace test_io_atomic_file
