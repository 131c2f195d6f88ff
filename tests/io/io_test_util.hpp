#pragma once
/// @file io_test_util.hpp
/// Helpers shared by the tests in tests/io: temporary folders, whole-file reads and writes,
/// the fixtures folder, and building raw safetensors files by hand.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace io_test {

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

/// A fresh temporary folder per use, removed (with its content) at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("onestone_io_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  /// Names of the entries in the folder (temporary files included), sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

inline Bytes read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const Bytes& b) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

/// The folder of committed test data: ONESTONE_TEST_FIXTURES_DIR (set by the test CMake), else
/// tests/fixtures next to this source file, else relative to the working directory.
inline std::string fixtures_dir() {
#ifdef ONESTONE_TEST_FIXTURES_DIR
  if (fs::is_directory(ONESTONE_TEST_FIXTURES_DIR)) return ONESTONE_TEST_FIXTURES_DIR;
#endif
  const fs::path here = fs::path(__FILE__).parent_path();
  for (const fs::path& p : {here / ".." / "fixtures", fs::path("tests/fixtures"),
                            fs::path("../tests/fixtures"), fs::path("../../tests/fixtures")})
    if (fs::is_directory(p)) return p.string();
  return "tests/fixtures";
}

/// A safetensors file from a header text (padded with spaces to a multiple of 8) and data.
inline Bytes make_file(const std::string& header, const Bytes& data = {}, bool pad = true) {
  std::string h = header;
  if (pad) h.append((8 - h.size() % 8) % 8, ' ');
  Bytes out(8);
  std::uint64_t n = h.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<unsigned char>(n >> (8 * i));
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

/// `n` bytes of value `v`.
inline Bytes filled(std::size_t n, unsigned char v = 0) { return Bytes(n, v); }

}  // namespace io_test
