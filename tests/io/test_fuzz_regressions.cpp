// Replays inputs that once broke a fuzz target (tests/fixtures/fuzz_regressions/<target>/) and
// the fuzz seed corpora (fuzz/corpus/<target>/) through the same property checks the libFuzzer
// targets run (fuzz/fuzz_properties.hpp), so a fixed bug stays fixed without clang.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "../../fuzz/fuzz_csv_properties.hpp"
#include "../../fuzz/fuzz_properties.hpp"
#include "../../fuzz/fuzz_text_properties.hpp"
#include "io_test_util.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_io_fuzz_regressions {

namespace {

// Files of `dir` (none when it does not exist), sorted.
std::vector<std::string> files_in(const io_test::fs::path& dir) {
  std::vector<std::string> out;
  if (!io_test::fs::is_directory(dir)) return out;
  for (const auto& e : io_test::fs::directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> inputs(const std::string& target) {
  const io_test::fs::path fixtures = io_test::fixtures_dir();
  std::vector<std::string> out = files_in(fixtures / "fuzz_regressions" / target);
  for (const auto& f : files_in(fixtures / ".." / ".." / "fuzz" / "corpus" / target))
    out.push_back(f);
  return out;
}

}  // namespace

TEST_CASE("fuzz regressions and seeds: safetensors", "[io][fuzz]") {
  const auto files = inputs("safetensors");
  CHECK(files.size() >= 2);
  for (const auto& f : files) {
    INFO(f);
    const io_test::Bytes b = io_test::read_bytes(f);
    CHECK_NOTHROW(onestone_fuzz::check_safetensors(b.data(), b.size()));
  }
}

TEST_CASE("fuzz regressions and seeds: json", "[io][fuzz]") {
  const auto files = inputs("json");
  CHECK(!files.empty());
  for (const auto& f : files) {
    INFO(f);
    const io_test::Bytes b = io_test::read_bytes(f);
    CHECK_NOTHROW(onestone_fuzz::check_json(b.data(), b.size()));
  }
}

TEST_CASE("fuzz seeds: idx", "[io][fuzz]") {
  // Only the seeds: the known IDX reader issue (fuzz/known_issues/) allocates gigabytes.
  for (const auto& f : inputs("idx")) {
    INFO(f);
    CHECK_NOTHROW(onestone_fuzz::check_idx_file(f));
  }
}

TEST_CASE("fuzz regressions and seeds: text readers", "[io][fuzz]") {
  const auto files = inputs("text");
  CHECK(files.size() >= 2);
  for (const auto& f : files) {
    INFO(f);
    const io_test::Bytes b = io_test::read_bytes(f);
    CHECK_NOTHROW(onestone_fuzz::check_text(b.data(), b.size()));
  }
}

TEST_CASE("fuzz regressions and seeds: csv", "[io][fuzz]") {
  const auto files = inputs("csv");
  CHECK(files.size() >= 2);
  for (const auto& f : files) {
    INFO(f);
    const io_test::Bytes b = io_test::read_bytes(f);
    CHECK_NOTHROW(onestone_fuzz::check_csv(b.data(), b.size()));
  }
}

}  // namespace test_io_fuzz_regressions
