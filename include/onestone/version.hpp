#pragma once
/// @file version.hpp
/// The single source of onestone's version. CMake parses the three macros below.

#define ONESTONE_VERSION_MAJOR 0
#define ONESTONE_VERSION_MINOR 1
#define ONESTONE_VERSION_PATCH 0

namespace onestone {
/// The library version as "major.minor.patch", e.g. `std::cout << onestone::version_string();`.
inline constexpr const char* version_string() { return "0.1.0"; }
}  // namespace onestone
