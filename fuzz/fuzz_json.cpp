// libFuzzer target: the strict JSON parser and writer. Properties: see check_json in
// fuzz_properties.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz_properties.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  onestone_fuzz::check_json(data, size);
  return 0;
}
