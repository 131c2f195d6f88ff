// libFuzzer target: the safetensors reader on arbitrary bytes (in memory), plus to_tensor and
// the writer round trip. Properties: see check_safetensors in fuzz_properties.hpp.
#include <cstddef>
#include <cstdint>

#include "fuzz_properties.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  onestone_fuzz::check_safetensors(data, size);
  return 0;
}
