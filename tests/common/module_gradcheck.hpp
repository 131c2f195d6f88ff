#pragma once
// Finite-difference check of every parameter gradient of a computation built from modules.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "onestone/onestone.hpp"

namespace testing {

/// f builds a scalar from the current parameter values; params are checked one element at a
/// time against central differences (double precision).
inline void check_parameter_gradients(
    const std::vector<std::pair<std::string, onestone::nn::Parameter<double>*>>& params,
    const std::function<onestone::Var<double>()>& f, double tol = 1e-5, int max_per_param = 12) {
  using namespace onestone;
  for (auto& np : params) np.second->zero_grad();
  {
    GraphScope<double> scope;
    f().backward();
  }
  for (auto& np : params) {
    Tensor<double>& v = np.second->value();
    const Index stride = std::max<Index>(1, v.numel() / max_per_param);
    for (Index k = 0; k < v.numel(); k += stride) {
      const double orig = v[k], eps = 1e-6;
      auto eval = [&] {
        GraphScope<double> scope;
        NoGradGuard ng;
        return f().item();
      };
      v[k] = orig + eps;
      const double fp = eval();
      v[k] = orig - eps;
      const double fm = eval();
      v[k] = orig;
      const double num = (fp - fm) / (2 * eps);
      INFO(np.first << "[" << k << "] analytic " << np.second->grad()[k] << " numeric " << num);
      CHECK(std::abs(np.second->grad()[k] - num) <= tol * std::max({1.0, std::abs(num)}));
    }
  }
}

}  // namespace testing
