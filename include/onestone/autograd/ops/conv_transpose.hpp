#pragma once
/// @file conv_transpose.hpp
/// 2-D transposed convolution (PyTorch's `conv_transpose2d`) on NCHW tensors: the adjoint of
/// `conv2d` with respect to its input, lowered onto onestone's GEMM and col2im / im2col.

#include <algorithm>
#include <stdexcept>
#include <string>

#include "onestone/autograd/detail/gemm.hpp"
#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/autograd/ops/conv.hpp"
#include "onestone/config.hpp"

namespace onestone {
namespace autograd {

/// Geometry of a 2-D transposed convolution: stride, padding, output padding (extra rows and
/// columns on the bottom and right, smaller than the stride or the dilation) and dilation per
/// axis (height, width), and groups.
///
/// Example: `ConvTranspose2dGeometry().stride(2).padding(1).output_padding(1)`
struct ConvTranspose2dGeometry {
  ConvTranspose2dGeometry& stride(Index s) { return stride(s, s); }
  ConvTranspose2dGeometry& stride(Index sh, Index sw) {
    sh_ = sh;
    sw_ = sw;
    return *this;
  }
  ConvTranspose2dGeometry& padding(Index p) { return padding(p, p); }
  ConvTranspose2dGeometry& padding(Index ph, Index pw) {
    ph_ = ph;
    pw_ = pw;
    return *this;
  }
  ConvTranspose2dGeometry& output_padding(Index p) { return output_padding(p, p); }
  ConvTranspose2dGeometry& output_padding(Index oh, Index ow) {
    oph_ = oh;
    opw_ = ow;
    return *this;
  }
  ConvTranspose2dGeometry& dilation(Index d) { return dilation(d, d); }
  ConvTranspose2dGeometry& dilation(Index dh, Index dw) {
    dh_ = dh;
    dw_ = dw;
    return *this;
  }
  ConvTranspose2dGeometry& groups(Index g) {
    groups_ = g;
    return *this;
  }
  Index sh_ = 1, sw_ = 1, ph_ = 0, pw_ = 0, oph_ = 0, opw_ = 0, dh_ = 1, dw_ = 1, groups_ = 1;
};

namespace detail {

/// Saved state of conv_transpose2d (inputs x, w[, b]). `d` describes the convolution whose
/// input-gradient this is: its input is our output [N, C_out, HO', WO'] (d.C, d.H, d.W), its
/// output our input [N, C_in, H, W] (d.O, d.HO, d.WO), its weight ours, [C_in, C_out/g, KH, KW].
template <typename T>
struct ConvTranspose2dOp {
  ConvDims d;
  bool has_bias;
  const char* name() const { return "conv_transpose2d"; }
  static Var<T> apply(const Var<T>& x, const Var<T>& w, const Var<T>& b,
                      const ConvTranspose2dGeometry& g);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
Var<T> ConvTranspose2dOp<T>::apply(const Var<T>& x, const Var<T>& w, const Var<T>& b,
                                   const ConvTranspose2dGeometry& g) {
  Tape<T>& t = common_tape(x, w, "conv_transpose2d");
  const Shape& sx = x.shape();
  const Shape& sw = w.shape();
  if (sx.rank() != 4 || sw.rank() != 4)
    throw std::invalid_argument(
        shapes_msg("conv_transpose2d", sx, sw,
                   "expected input [N, C_in, H, W] and weight [C_in, C_out/groups, KH, KW]"));
  if (g.sh_ < 1 || g.sw_ < 1 || g.dh_ < 1 || g.dw_ < 1 || g.ph_ < 0 || g.pw_ < 0 || g.groups_ < 1 ||
      g.oph_ < 0 || g.opw_ < 0 || (g.oph_ >= g.sh_ && g.oph_ >= g.dh_) ||
      (g.opw_ >= g.sw_ && g.opw_ >= g.dw_))
    throw std::invalid_argument(
        "conv_transpose2d: stride and dilation must be >= 1, padding >= 0, groups >= 1 and "
        "output padding >= 0 and smaller than the stride or the dilation (got stride " +
        std::to_string(g.sh_) + "x" + std::to_string(g.sw_) + ", padding " + std::to_string(g.ph_) +
        "x" + std::to_string(g.pw_) + ", output padding " + std::to_string(g.oph_) + "x" +
        std::to_string(g.opw_) + ", dilation " + std::to_string(g.dh_) + "x" +
        std::to_string(g.dw_) + ", groups " + std::to_string(g.groups_) + ")");
  ConvDims d;
  d.N = sx[0];
  d.O = sx[1];  // the adjoint convolution's output channels: our input channels
  d.HO = sx[2];
  d.WO = sx[3];
  d.G = g.groups_;
  d.KH = sw[2];
  d.KW = sw[3];
  d.sh = g.sh_;
  d.sw = g.sw_;
  d.ph = g.ph_;
  d.pw = g.pw_;
  d.dh = g.dh_;
  d.dw = g.dw_;
  if (d.O % d.G != 0 || sw[0] != d.O) {
    const std::string why = "with groups = " + std::to_string(d.G) +
                            ", the weight's first dimension must be the input channels and "
                            "divide by groups";
    throw std::invalid_argument(shapes_msg("conv_transpose2d", sx, sw, why.c_str()));
  }
  d.OG = d.O / d.G;
  d.CG = sw[1];
  d.C = d.CG * d.G;  // output channels
  const Index eh = d.dh * (d.KH - 1) + 1, ew = d.dw * (d.KW - 1) + 1;
  d.H = (d.HO - 1) * d.sh - 2 * d.ph + eh + g.oph_;
  d.W = (d.WO - 1) * d.sw - 2 * d.pw + ew + g.opw_;
  if (d.H < 1 || d.W < 1 || d.HO < 1 || d.WO < 1) {
    const std::string why = "the output would be " + std::to_string(d.H) + "x" +
                            std::to_string(d.W) + " (padding too large for the input)";
    throw std::invalid_argument(shapes_msg("conv_transpose2d", sx, sw, why.c_str()));
  }
  if (b.defined() && (b.numel() != d.C || &b.tape() != &t))
    throw std::invalid_argument("conv_transpose2d: bias of shape " + b.shape().str() +
                                " for weight " + sw.str() + " (expected [" + std::to_string(d.C) +
                                "])");
  const bool rg = x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad());
  const int out = make_output(t, Shape{d.N, d.C, d.H, d.W}, rg);
  T* Y = t.value(out);
  const T* X = x.data();
  const T* Wt = w.data();
  const Index R = d.rows(), L = d.cols();  // R = C_out/g·KH·KW, L = H·W of the input
  const Index plane = d.H * d.W;
  T* col = t.arena().template allocate<T>(static_cast<std::size_t>(R * L > 0 ? R * L : 1));
  for (Index n = 0; n < d.N; ++n)
    for (Index gi = 0; gi < d.G; ++gi) {
      T* yg = Y + (n * d.C + gi * d.CG) * plane;
      if (b.defined())
        for (Index o = 0; o < d.CG; ++o)
          std::fill(yg + o * plane, yg + (o + 1) * plane, b.data()[gi * d.CG + o]);
      else
        std::fill(yg, yg + d.CG * plane, T(0));
      // col [R, L] = W_gᵀ [R, OG] · X_g [OG, L]; then scattered onto the output planes.
      gemm<T>(R, L, d.OG, Wt + gi * d.OG * R, R, true, X + (n * d.O + gi * d.OG) * L, L, false, col,
              L, false);
      col2im_add(d, col, yg);
    }
  if (b.defined()) return emit(t, out, ConvTranspose2dOp{d, true}, {x.id(), w.id(), b.id()});
  return emit(t, out, ConvTranspose2dOp{d, false}, {x.id(), w.id()});
}

template <typename T>
void ConvTranspose2dOp<T>::backward(const BackwardContext<T>& c) const {
  const T* dY = c.grad_output();
  const T* X = c.input(0);
  const T* Wt = c.input(1);
  const Index R = d.rows(), L = d.cols(), plane = d.H * d.W;
  GradSink<T> gx = c.input_grad(0), gw = c.input_grad(1);
  if (has_bias) {
    GradSink<T> gb = c.input_grad(2);
    if (gb)
      for (Index o = 0; o < d.C; ++o) {
        T s = 0;
        for (Index n = 0; n < d.N; ++n) {
          const T* g = dY + (n * d.C + o) * plane;
          for (Index k = 0; k < plane; ++k) s += g[k];
        }
        gb.add(o, s);
      }
  }
  if (!gx && !gw) return;
  T* col = c.template scratch<T>(static_cast<std::size_t>(R * L));
  if (gx) gx.zero_if_fresh(d.N * d.O * L);
  if (gw) gw.zero_if_fresh(d.O * R);
  for (Index n = 0; n < d.N; ++n)
    for (Index gi = 0; gi < d.G; ++gi) {
      // The output gradient read as the adjoint convolution's input: im2col of dY_g.
      im2col(d, dY + (n * d.C + gi * d.CG) * plane, col);
      // dX_g [OG, L] += W_g [OG, R] · col [R, L]   (a conv2d of dY)
      if (gx)
        gemm<T>(d.OG, L, R, Wt + gi * d.OG * R, R, false, col, L, false,
                gx.ptr + (n * d.O + gi * d.OG) * L, L, true);
      // dW_g [OG, R] += X_g [OG, L] · colᵀ [L, R]
      if (gw)
        gemm<T>(d.OG, R, L, X + (n * d.O + gi * d.OG) * L, L, false, col, L, true,
                gw.ptr + gi * d.OG * R, R, true);
    }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, ConvTranspose2dOp)

}  // namespace detail

/// 2-D transposed convolution of x [N, C_in, H, W] with weight [C_in, C_out/groups, KH, KW]
/// and an optional bias [C_out] (an undefined Var for none), as PyTorch's
/// `torch.nn.functional.conv_transpose2d`: the output is [N, C_out, HO, WO] with
/// HO = (H − 1)·sh − 2·ph + dh·(KH − 1) + output_padding_h + 1 (and WO alike). It is the
/// gradient of `conv2d` (same weight and geometry) with respect to its input: GEMM then
/// col2im per sample and group (scratch in the tape's arena: no heap allocation in steady
/// state).
///
/// Example: `auto y = conv_transpose2d(x, w, b, ConvTranspose2dGeometry().stride(2));`
template <typename T>
inline Var<T> conv_transpose2d(const Var<T>& x, const Var<T>& w, const Var<T>& b = Var<T>(),
                               const ConvTranspose2dGeometry& g = ConvTranspose2dGeometry()) {
  return detail::ConvTranspose2dOp<T>::apply(x, w, b, g);
}

}  // namespace autograd
using autograd::conv_transpose2d;
using autograd::ConvTranspose2dGeometry;
}  // namespace onestone
