#pragma once
/// @file batch_norm.hpp
/// Batch normalisation over the channel axis 1 of [N, C], [N, C, L] or [N, C, H, W] inputs
/// (PyTorch's `torch.nn.functional.batch_norm`), with running statistics updated in place.

#include <cmath>
#include <stdexcept>
#include <string>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/tensor.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// Saved state of batch_norm: the sizes, per channel the mean and 1/√(var + eps) used in
/// forward (arena; the batch's in training, a copy of the running ones in eval), whether the
/// batch statistics were used, and which affine inputs exist (inputs: x, then weight and bias
/// when present).
template <typename T>
struct BatchNormOp {
  Index N, C, S;     ///< x viewed as [N, C, S]
  const T* stats;    ///< [2C]: means, then reciprocal standard deviations
  bool batch_stats;  ///< training: the statistics depend on x
  bool has_weight, has_bias;
  const char* name() const { return "batch_norm"; }
  static Var<T> apply(const Var<T>& x, Tensor<T>* running_mean, Tensor<T>* running_var,
                      const Var<T>& weight, const Var<T>& bias, bool training, double momentum,
                      double eps);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
Var<T> BatchNormOp<T>::apply(const Var<T>& x, Tensor<T>* running_mean, Tensor<T>* running_var,
                             const Var<T>& weight, const Var<T>& bias, bool training,
                             double momentum, double eps) {
  Tape<T>& t = x.tape();
  const Shape& s = x.shape();
  if (s.rank() < 2 || s.rank() > 4)
    throw std::invalid_argument(
        "batch_norm: expected input [N, C], [N, C, L] or [N, C, H, W], got " + s.str());
  const Index N = s[0], C = s[1], S = s.span(2, s.rank());
  if (C == 0) throw std::invalid_argument("batch_norm: no channels in input " + s.str());
  if ((running_mean == nullptr) != (running_var == nullptr))
    throw std::invalid_argument(
        "batch_norm: give both running_mean and running_var, or neither (input " + s.str() + ")");
  if (running_mean && (running_mean->numel() != C || running_var->numel() != C))
    throw std::invalid_argument(shapes_msg(
        "batch_norm", s, running_mean->numel() != C ? running_mean->shape() : running_var->shape(),
        "running statistics must hold one value per channel"));
  if (!training && !running_mean)
    throw std::invalid_argument(
        "batch_norm: evaluation mode needs running_mean and running_var (input " + s.str() + ")");
  if (weight.defined() && (weight.numel() != C || &weight.tape() != &t))
    throw std::invalid_argument(
        shapes_msg("batch_norm", s, weight.shape(), "weight must hold one value per channel"));
  if (bias.defined() && (bias.numel() != C || &bias.tape() != &t))
    throw std::invalid_argument(
        shapes_msg("batch_norm", s, bias.shape(), "bias must hold one value per channel"));
  if (!(eps >= 0.0) || !(momentum >= 0.0 && momentum <= 1.0))
    throw std::invalid_argument("batch_norm: eps must be >= 0 and momentum in [0, 1] (got eps " +
                                std::to_string(eps) + ", momentum " + std::to_string(momentum) +
                                ")");
  const Index M = N * S;  // values per channel
  if (training && M <= 1)
    throw std::invalid_argument(
        "batch_norm: expected more than 1 value per channel when training, got input " + s.str());
  const bool rg = x.requires_grad() || (weight.defined() && weight.requires_grad()) ||
                  (bias.defined() && bias.requires_grad());
  T* stats = t.arena().template allocate<T>(static_cast<std::size_t>(2 * C));
  T* mean = stats;
  T* rstd = stats + C;
  const T* X = x.data();
  const int out = make_output(t, s, rg);
  T* Y = t.value(out);
  const T* W = weight.defined() ? weight.data() : nullptr;
  const T* B = bias.defined() ? bias.data() : nullptr;
  // One channel a task (channels across threads: the same bits on any thread count); each
  // sample's S values of the channel are one contiguous, vectorised run.
  onestone::detail::parallel_for(C, 3 * M, [&](std::int64_t q) {
    const Index ch = static_cast<Index>(q);
    if (training) {
      T sum = 0;
      for (Index n = 0; n < N; ++n) sum += ConstVectorMap<T>(X + (n * C + ch) * S, S).sum();
      const T m = sum / static_cast<T>(M);
      T ss = 0;
      for (Index n = 0; n < N; ++n)
        ss += (ConstVectorMap<T>(X + (n * C + ch) * S, S).array() - m).square().sum();
      mean[ch] = m;
      rstd[ch] = T(1) / std::sqrt(ss / static_cast<T>(M) + static_cast<T>(eps));
      if (running_mean) {
        // PyTorch's update: the running variance takes the unbiased batch variance.
        const T mo = static_cast<T>(momentum);
        T& rm = (*running_mean)[ch];
        T& rv = (*running_var)[ch];
        rm = (T(1) - mo) * rm + mo * m;
        rv = (T(1) - mo) * rv + mo * (ss / static_cast<T>(M - 1));
      }
    } else {
      mean[ch] = (*running_mean)[ch];
      rstd[ch] = T(1) / std::sqrt((*running_var)[ch] + static_cast<T>(eps));
    }
    const T a = rstd[ch] * (W ? W[ch] : T(1));
    const T b = (B ? B[ch] : T(0)) - mean[ch] * a;
    for (Index n = 0; n < N; ++n)
      VectorMap<T>(Y + (n * C + ch) * S, S).array() =
          ConstVectorMap<T>(X + (n * C + ch) * S, S).array() * a + b;
  });
  int ids[3] = {x.id(), 0, 0};
  int n_in = 1;
  if (weight.defined()) ids[n_in++] = weight.id();
  if (bias.defined()) ids[n_in++] = bias.id();
  return emit(t, out, BatchNormOp<T>{N, C, S, stats, training, weight.defined(), bias.defined()},
              ids, n_in);
}

template <typename T>
void BatchNormOp<T>::backward(const BackwardContext<T>& c) const {
  const int wi = has_weight ? 1 : -1, bi = has_bias ? (has_weight ? 2 : 1) : -1;
  const T* G = c.grad_output();
  const T* X = c.input(0);
  const T* W = wi >= 0 ? c.input(wi) : nullptr;
  const T* mean = stats;
  const T* rstd = stats + C;
  const GradSink<T> gx = c.input_grad(0);
  const GradSink<T> gw = wi >= 0 ? c.input_grad(wi) : GradSink<T>{};
  const GradSink<T> gb = bi >= 0 ? c.input_grad(bi) : GradSink<T>{};
  const T inv_m = T(1) / static_cast<T>(N * S);
  // One channel a task, as in forward: every element of the channel's gradient written once.
  onestone::detail::parallel_for(C, 3 * N * S, [&](std::int64_t q) {
    const Index ch = static_cast<Index>(q);
    const T m = mean[ch], r = rstd[ch];
    // Σ g and Σ g·x̂ over the channel's values.
    T sg = 0, sgx = 0;
    for (Index n = 0; n < N; ++n) {
      ConstVectorMap<T> g(G + (n * C + ch) * S, S), p(X + (n * C + ch) * S, S);
      sg += g.sum();
      sgx += (g.array() * (p.array() - m)).sum();
    }
    sgx *= r;
    if (gw) gw.add(ch, sgx);
    if (gb) gb.add(ch, sg);
    if (!gx) return;
    const T a = (W ? W[ch] : T(1)) * r;
    // Training: dx = w·rstd·(g − mean(g) − x̂·mean(g·x̂)); eval: dx = w·rstd·g.
    const T mg = batch_stats ? sg * inv_m : T(0);
    const T mgx = batch_stats ? sgx * inv_m : T(0);
    for (Index n = 0; n < N; ++n) {
      ConstVectorMap<T> g(G + (n * C + ch) * S, S), p(X + (n * C + ch) * S, S);
      VectorMap<T> dx(gx.ptr + (n * C + ch) * S, S);
      accumulate(gx, dx.array(), a * (g.array() - mg - (p.array() - m) * (r * mgx)));
    }
  });
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, BatchNormOp)

}  // namespace detail

/// Batch normalisation of x [N, C], [N, C, L] or [N, C, H, W] over every axis but the channel
/// axis 1, as PyTorch's `torch.nn.functional.batch_norm`:
/// y = (x − mean) / √(var + eps) · weight + bias, weight and bias [C] optional (undefined Vars).
///
/// - training: mean and the biased variance of the batch; when `running_mean` and
///   `running_var` ([C], may be null) are given they are updated in place,
///   r ← (1 − momentum)·r + momentum·batch value, the variance with the unbiased (n − 1)
///   estimate, as PyTorch. Needs more than one value per channel.
/// - evaluation: the running statistics (required); the output is affine in x.
///
/// Example:
/// @code
/// Tensor<float> rm = Tensor<float>::zeros({16}), rv = Tensor<float>::ones({16});
/// auto y = batch_norm(x, &rm, &rv, gamma, beta, /*training=*/true);   // x: [N, 16, H, W]
/// @endcode
template <typename T>
inline Var<T> batch_norm(const Var<T>& x, Tensor<detail::type_identity_t<T>>* running_mean,
                         Tensor<detail::type_identity_t<T>>* running_var,
                         const Var<T>& weight = Var<T>(), const Var<T>& bias = Var<T>(),
                         bool training = false, double momentum = 0.1, double eps = 1e-5) {
  return detail::BatchNormOp<T>::apply(x, running_mean, running_var, weight, bias, training,
                                       momentum, eps);
}

}  // namespace autograd
using autograd::batch_norm;
}  // namespace onestone
