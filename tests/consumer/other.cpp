#include <cstring>
#include <onestone/onestone.hpp>

int other_translation_unit() { return std::strlen(onestone::version_string()) > 0 ? 42 : 0; }
