// libFuzzer target: the CSV reader and the tabular dataset builder; the properties are in
// fuzz_csv_properties.hpp (shared with tests/io/test_fuzz_regressions.cpp).
#include <cstddef>
#include <cstdint>

#include "fuzz_csv_properties.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  onestone_fuzz::check_csv(data, size);
  return 0;
}
