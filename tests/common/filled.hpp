#pragma once
// A deterministic, non-symmetric test tensor: element k is sin(a·k + b).
#include <cmath>

#include "onestone/tensor/tensor.hpp"

namespace testing {
inline onestone::Tensor<double> filled(const onestone::Shape& s, double a, double b) {
  onestone::Tensor<double> t(s);
  for (onestone::Index k = 0; k < t.numel(); ++k) t[k] = std::sin(a * static_cast<double>(k) + b);
  return t;
}
}  // namespace testing
