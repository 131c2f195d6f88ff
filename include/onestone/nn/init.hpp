#pragma once
/// @file init.hpp
/// Seeded weight initializers (Xavier/Glorot and Kaiming/He, uniform and normal).

#include <cmath>
#include <stdexcept>

#include "onestone/config.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone {
namespace nn {

/// Initialisation schemes for weights of shape [fan_out, fan_in, ...].
enum class Init {
  Default,         ///< PyTorch's Linear default: U(−1/√fan_in, 1/√fan_in)
  XavierUniform,   ///< U(−a, a), a = gain·√(6 / (fan_in + fan_out))
  XavierNormal,    ///< N(0, gain²·2 / (fan_in + fan_out))
  KaimingUniform,  ///< U(−b, b), b = √2·√(3 / fan_in)   (ReLU gain)
  KaimingNormal,   ///< N(0, 2 / fan_in)                  (ReLU gain)
  Zeros
};

/// Functions that fill a tensor in place. Every draw comes from a `Generator`, so the same seed
/// gives the same numbers on every machine.
///
/// Example: `onestone::nn::init::xavier_uniform_(w, gen);`
namespace init {

/// fan_in and fan_out of a weight [out, in, k...] (receptive field multiplies both).
inline void fans(const Shape& s, double& fan_in, double& fan_out) {
  if (s.rank() < 2) {
    fan_in = fan_out = static_cast<double>(s.numel());
    return;
  }
  double receptive = 1;
  for (int i = 2; i < s.rank(); ++i) receptive *= static_cast<double>(s[i]);
  fan_in = static_cast<double>(s[1]) * receptive;
  fan_out = static_cast<double>(s[0]) * receptive;
}

template <typename T>
inline void uniform_(Tensor<T>& t, double lo, double hi, Generator& gen = default_generator()) {
  for (Index k = 0; k < t.numel(); ++k) t[k] = static_cast<T>(gen.uniform(lo, hi));
}
template <typename T>
inline void normal_(Tensor<T>& t, double mean, double stddev,
                    Generator& gen = default_generator()) {
  for (Index k = 0; k < t.numel(); ++k) t[k] = static_cast<T>(gen.normal(mean, stddev));
}
template <typename T>
inline void constant_(Tensor<T>& t, T v) {
  t.fill(v);
}
template <typename T>
inline void zeros_(Tensor<T>& t) {
  t.zero_();
}

template <typename T>
inline void xavier_uniform_(Tensor<T>& t, Generator& gen = default_generator(), double gain = 1.0) {
  double fi, fo;
  fans(t.shape(), fi, fo);
  const double a = gain * std::sqrt(6.0 / (fi + fo));
  uniform_(t, -a, a, gen);
}
template <typename T>
inline void xavier_normal_(Tensor<T>& t, Generator& gen = default_generator(), double gain = 1.0) {
  double fi, fo;
  fans(t.shape(), fi, fo);
  normal_(t, 0.0, gain * std::sqrt(2.0 / (fi + fo)), gen);
}
template <typename T>
inline void kaiming_uniform_(Tensor<T>& t, Generator& gen = default_generator(),
                             double gain = std::sqrt(2.0)) {
  double fi, fo;
  fans(t.shape(), fi, fo);
  const double b = gain * std::sqrt(3.0 / fi);
  uniform_(t, -b, b, gen);
}
template <typename T>
inline void kaiming_normal_(Tensor<T>& t, Generator& gen = default_generator(),
                            double gain = std::sqrt(2.0)) {
  double fi, fo;
  fans(t.shape(), fi, fo);
  normal_(t, 0.0, gain / std::sqrt(fi), gen);
}

/// Fills a weight tensor by scheme.
template <typename T>
void apply(Init scheme, Tensor<T>& w, Generator& gen) {
  double fi, fo;
  fans(w.shape(), fi, fo);
  switch (scheme) {
    case Init::Default:
      uniform_(w, -1.0 / std::sqrt(fi), 1.0 / std::sqrt(fi), gen);
      break;
    case Init::XavierUniform:
      xavier_uniform_(w, gen);
      break;
    case Init::XavierNormal:
      xavier_normal_(w, gen);
      break;
    case Init::KaimingUniform:
      kaiming_uniform_(w, gen);
      break;
    case Init::KaimingNormal:
      kaiming_normal_(w, gen);
      break;
    case Init::Zeros:
      zeros_(w);
      break;
  }
}
ONESTONE_EXPLICIT(NN_FLOAT, void apply<float>(Init, Tensor<float>&, Generator&))
ONESTONE_EXPLICIT(NN_DOUBLE, void apply<double>(Init, Tensor<double>&, Generator&))

}  // namespace init
}  // namespace nn
}  // namespace onestone
