#pragma once
/// @file norm.hpp
/// `layer_norm` over the last dimension with optional affine parameters.

#include <cmath>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// Saved state of layer_norm: per-row mean and 1/std (arena), and which affine inputs exist
/// (inputs: x, then gamma and beta when present).
template <typename T>
struct LayerNormOp {
  static Var<T> apply(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, T eps);
  const T* stats;  ///< [2R]: means, then reciprocal standard deviations
  bool has_gamma, has_beta;
  const char* name() const { return "layer_norm"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void LayerNormOp<T>::backward(const BackwardContext<T>& c) const {
  const int gamma = has_gamma ? 1 : -1, beta = has_beta ? (has_gamma ? 2 : 1) : -1;
  const Shape& s = c.input_shape(0);
  const Index R = s.rows(), C = s.cols();
  const T* mean = stats;
  const T* rstd = mean + R;
  ConstMatrixMap<T> X(c.input(0), R, C);
  ConstMatrixMap<T> G(c.grad_output(), R, C);
  const GradSink<T> gx = c.input_grad(0);
  const GradSink<T> gg = gamma >= 0 ? c.input_grad(gamma) : GradSink<T>{};
  const GradSink<T> gb = beta >= 0 ? c.input_grad(beta) : GradSink<T>{};
  using RowA = Eigen::Array<T, 1, Eigen::Dynamic>;
  Eigen::Map<const RowA> gam(gamma >= 0 ? c.input(gamma) : nullptr, gamma >= 0 ? C : 0);
  Eigen::Map<RowA> xhat(c.template scratch<T>(static_cast<std::size_t>(C)), C);
  for (Index r = 0; r < R; ++r) {
    xhat = (X.row(r).array() - mean[r]) * rstd[r];
    if (gg) {
      Eigen::Map<RowA> d(gg.ptr, C);
      if (gg.fresh && r == 0)
        d = G.row(r).array() * xhat;
      else
        d += G.row(r).array() * xhat;
    }
    if (gb) {
      Eigen::Map<RowA> d(gb.ptr, C);
      if (gb.fresh && r == 0)
        d = G.row(r).array();
      else
        d += G.row(r).array();
    }
    if (gx) {
      const T inv_c = T(1) / static_cast<T>(C);
      T m1, m2;
      if (gamma >= 0) {
        m1 = (G.row(r).array() * gam).sum() * inv_c;
        m2 = (G.row(r).array() * gam * xhat).sum() * inv_c;
        Eigen::Map<RowA> d(gx.ptr + r * C, C);
        if (gx.fresh)
          d = rstd[r] * (G.row(r).array() * gam - m1 - xhat * m2);
        else
          d += rstd[r] * (G.row(r).array() * gam - m1 - xhat * m2);
      } else {
        m1 = G.row(r).sum() * inv_c;
        m2 = (G.row(r).array() * xhat).sum() * inv_c;
        Eigen::Map<RowA> d(gx.ptr + r * C, C);
        if (gx.fresh)
          d = rstd[r] * (G.row(r).array() - m1 - xhat * m2);
        else
          d += rstd[r] * (G.row(r).array() - m1 - xhat * m2);
      }
    }
  }
}

template <typename T>
Var<T> LayerNormOp<T>::apply(const Var<T>& x, const Var<T>& gamma, const Var<T>& beta, T eps) {
  Tape<T>& t = x.tape();
  const Shape& s = x.shape();
  const Index R = s.rows(), C = s.cols();
  if (s.rank() < 1 || C == 0)
    throw std::invalid_argument("layer_norm: empty last dimension in " + s.str());
  if (gamma.defined() && gamma.numel() != C)
    throw std::invalid_argument(
        shapes_msg("layer_norm", s, gamma.shape(), "gamma must have the last dimension's size"));
  if (beta.defined() && beta.numel() != C)
    throw std::invalid_argument(
        shapes_msg("layer_norm", s, beta.shape(), "beta must have the last dimension's size"));
  const bool rg = x.requires_grad() || (gamma.defined() && gamma.requires_grad()) ||
                  (beta.defined() && beta.requires_grad());
  T* stats = t.arena().template allocate<T>(static_cast<std::size_t>(2 * R));
  const int out = make_output(t, s, rg);
  ConstMatrixMap<T> X = cmat(t, x.id());
  MatrixMap<T> Y = mmat(t, out);
  using RowA = Eigen::Array<T, 1, Eigen::Dynamic>;
  for (Index r = 0; r < R; ++r) {
    const T m = X.row(r).mean();
    const T var = (X.row(r).array() - m).square().mean();
    const T rs = T(1) / std::sqrt(var + eps);
    stats[r] = m;
    stats[R + r] = rs;
    Y.row(r).array() = (X.row(r).array() - m) * rs;
  }
  if (gamma.defined()) Y.array().rowwise() *= Eigen::Map<const RowA>(gamma.data(), C);
  if (beta.defined()) Y.array().rowwise() += Eigen::Map<const RowA>(beta.data(), C);
  int ids[3] = {x.id(), 0, 0};
  int n = 1;
  if (gamma.defined()) ids[n++] = gamma.id();
  if (beta.defined()) ids[n++] = beta.id();
  return emit(t, out, LayerNormOp<T>{stats, gamma.defined(), beta.defined()}, ids, n);
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, LayerNormOp)

}  // namespace detail

/// Layer normalisation over the last dimension: (x − mean) / sqrt(var + eps) · gamma + beta,
/// with the biased variance. gamma and beta ([C]) are optional (pass undefined Vars).
///
/// Example: `auto y = layer_norm(x, gamma, beta, 1e-5f);`
template <typename T>
inline Var<T> layer_norm(const Var<T>& x, const Var<T>& gamma = Var<T>(),
                         const Var<T>& beta = Var<T>(), detail::type_identity_t<T> eps = T(1e-5)) {
  return detail::LayerNormOp<T>::apply(x, gamma, beta, eps);
}

}  // namespace autograd
using autograd::layer_norm;
}  // namespace onestone
