#pragma once
/// @file onestone.hpp
/// Umbrella header (minimal stub; replaced by the full umbrella later).

#include "onestone/version.hpp"
