// Downstream consumer: two translation units include the umbrella header (catches ODR /
// multiple-definition problems in header-only code), main prints the library version.
// With ONESTONE_CONSUMER_ONE_TU (the add_subdirectory and fetchcontent modes) this file is the
// only translation unit and includes other.cpp's one function itself.
#include <iostream>
#include <onestone/onestone.hpp>
#include <string>

#ifdef ONESTONE_CONSUMER_ONE_TU
#include "other.cpp"
#else
int other_translation_unit();
#endif

int main() {
  const std::string expected = std::to_string(ONESTONE_VERSION_MAJOR) + "." +
                               std::to_string(ONESTONE_VERSION_MINOR) + "." +
                               std::to_string(ONESTONE_VERSION_PATCH);
  std::cout << "onestone " << onestone::version_string() << "\n";
  if (expected != onestone::version_string()) {
    std::cerr << "version macros (" << expected << ") disagree with version_string()\n";
    return 1;
  }
  return other_translation_unit() == 42 ? 0 : 1;
}
