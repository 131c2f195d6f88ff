#pragma once
/// @file gradcheck.hpp
/// Finite-difference gradient checking for any function built from onestone operations.

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "onestone/autograd/tape.hpp"
#include "onestone/autograd/var.hpp"

namespace onestone {
namespace autograd {

/// Outcome of `gradcheck`: the worst error seen and where.
struct GradCheckResult {
  bool ok = true;
  double max_error = 0.0;  ///< max |analytic − numeric| / max(1, |analytic|, |numeric|)
  std::size_t input = 0;   ///< input holding the worst element
  Index element = 0;       ///< its flat index
  double analytic = 0.0, numeric = 0.0;
  std::string message() const {
    return "gradcheck: max error " + std::to_string(max_error) + " at input " +
           std::to_string(input) + " element " + std::to_string(element) + " (analytic " +
           std::to_string(analytic) + ", numeric " + std::to_string(numeric) + ")";
  }
};

/// Compares the gradients of the scalar function `f(vars)` with central differences.
///
/// @param f       callable taking `const std::vector<Var<T>>&` and returning a one-element Var
/// @param inputs  the points to check at (one tensor per input of f)
/// @param eps     finite-difference step; @param tol tolerance on the scaled error
///
/// Use T = double. Example:
/// @code
/// auto r = onestone::gradcheck<double>([](const auto& v) { return sum(tanh(v[0])); }, {x});
/// REQUIRE(r.ok);
/// @endcode
template <typename T, typename F>
GradCheckResult gradcheck(F&& f, std::vector<Tensor<T>> inputs, double eps = 1e-6,
                          double tol = 1e-6) {
  Tape<T>& tape = Tape<T>::current();
  GradCheckResult res;
  std::vector<Tensor<T>> analytic;
  {
    GraphScope<T> scope(tape);
    std::vector<Var<T>> vars;
    for (auto& in : inputs) vars.push_back(Var<T>::variable(in, true, tape));
    Var<T> y = f(vars);
    y.backward();
    for (auto& v : vars) analytic.push_back(v.grad());
  }
  auto eval = [&]() {
    GraphScope<T> scope(tape);
    NoGradGuard ng;
    std::vector<Var<T>> vars;
    for (auto& in : inputs) vars.push_back(Var<T>::variable(in, false, tape));
    return static_cast<double>(f(vars).item());
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (Index k = 0; k < inputs[i].numel(); ++k) {
      const T orig = inputs[i][k];
      inputs[i][k] = orig + static_cast<T>(eps);
      const double fp = eval();
      inputs[i][k] = orig - static_cast<T>(eps);
      const double fm = eval();
      inputs[i][k] = orig;
      const double num = (fp - fm) / (2 * eps);
      const double an = static_cast<double>(analytic[i][k]);
      const double err = std::abs(an - num) / std::max({1.0, std::abs(an), std::abs(num)});
      if (err > res.max_error) {
        res.max_error = err;
        res.input = i;
        res.element = k;
        res.analytic = an;
        res.numeric = num;
      }
    }
  }
  res.ok = res.max_error <= tol;
  return res;
}

}  // namespace autograd
using autograd::gradcheck;
using autograd::GradCheckResult;
}  // namespace onestone
