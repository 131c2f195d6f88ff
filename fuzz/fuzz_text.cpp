// libFuzzer target: the text readers and the text forms of Vocabulary / LabelSet; the
// properties are in fuzz_text_properties.hpp (shared with tests/io/test_fuzz_regressions.cpp).
#include <cstddef>
#include <cstdint>

#include "fuzz_text_properties.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  onestone_fuzz::check_text(data, size);
  return 0;
}
