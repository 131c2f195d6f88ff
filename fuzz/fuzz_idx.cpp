// libFuzzer target: the IDX reader (onestone/data/idx.hpp), raw or gzipped. read_idx only reads
// from a path, so each input is written to a per-process temporary file. Properties: see
// check_idx_file in fuzz_properties.hpp.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_properties.hpp"

namespace {

const std::string& temp_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/onestone_fuzz_idx_" +
           std::to_string(::getpid()) + ".idx";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(temp_path().c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  // Removed after each input (a crash leaves this one file behind; the reproducer is the
  // libFuzzer artifact, not this file).
  struct Remove {
    ~Remove() { std::remove(temp_path().c_str()); }
  } remove;
  onestone_fuzz::check_idx_file(temp_path());
  return 0;
}
