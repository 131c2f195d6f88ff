#pragma once
/// @file conv.hpp
/// 2-D convolution (cross-correlation, as PyTorch's `conv2d`) on NCHW tensors with stride,
/// padding, dilation and groups, lowered onto onestone's GEMM kernels through im2col.

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "onestone/autograd/detail/gemm.hpp"
#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"

namespace onestone {
namespace autograd {

/// Geometry of a 2-D convolution: stride, zero padding and dilation per spatial axis (height,
/// width), and the number of groups (groups = in channels = out channels: depthwise).
///
/// Example: `Conv2dGeometry().stride(2).padding(1)`
struct Conv2dGeometry {
  Conv2dGeometry& stride(Index s) { return stride(s, s); }
  Conv2dGeometry& stride(Index sh, Index sw) {
    sh_ = sh;
    sw_ = sw;
    return *this;
  }
  Conv2dGeometry& padding(Index p) { return padding(p, p); }
  Conv2dGeometry& padding(Index ph, Index pw) {
    ph_ = ph;
    pw_ = pw;
    return *this;
  }
  Conv2dGeometry& dilation(Index d) { return dilation(d, d); }
  Conv2dGeometry& dilation(Index dh, Index dw) {
    dh_ = dh;
    dw_ = dw;
    return *this;
  }
  Conv2dGeometry& groups(Index g) {
    groups_ = g;
    return *this;
  }
  Index sh_ = 1, sw_ = 1, ph_ = 0, pw_ = 0, dh_ = 1, dw_ = 1, groups_ = 1;
};

namespace detail {

/// The sizes of one convolution, derived once from the shapes and the geometry.
struct ConvDims {
  Index N, C, H, W, O, KH, KW, HO, WO, G, CG, OG;
  Index sh, sw, ph, pw, dh, dw;
  Index rows() const { return CG * KH * KW; }  // im2col rows per group
  Index cols() const { return HO * WO; }       // im2col columns
};

/// col[(c·KH + i)·KW + j, oy·WO + ox] = x[c, oy·sh − ph + i·dh, ox·sw − pw + j·dw] (0 outside),
/// for the CG channels of one sample and group starting at x.
template <typename T>
void im2col(const ConvDims& d, const T* x, T* col) {
  const Index L = d.cols();
  for (Index c = 0; c < d.CG; ++c)
    for (Index i = 0; i < d.KH; ++i)
      for (Index j = 0; j < d.KW; ++j) {
        T* dst = col + ((c * d.KH + i) * d.KW + j) * L;
        const T* src = x + c * d.H * d.W;
        for (Index oy = 0; oy < d.HO; ++oy) {
          const Index y = oy * d.sh - d.ph + i * d.dh;
          T* row = dst + oy * d.WO;
          if (y < 0 || y >= d.H) {
            std::fill(row, row + d.WO, T(0));
            continue;
          }
          const T* srow = src + y * d.W;
          const Index x0 = j * d.dw - d.pw;
          if (d.sw == 1) {
            // Contiguous run: the valid output columns read x0 + ox in [0, W).
            const Index lo = std::min(d.WO, std::max<Index>(0, -x0));
            const Index hi = std::max(lo, std::min(d.WO, d.W - x0));
            std::fill(row, row + lo, T(0));
            std::copy(srow + x0 + lo, srow + x0 + hi, row + lo);
            std::fill(row + hi, row + d.WO, T(0));
          } else {
            for (Index ox = 0; ox < d.WO; ++ox) {
              const Index xx = ox * d.sw + x0;
              row[ox] = xx >= 0 && xx < d.W ? srow[xx] : T(0);
            }
          }
        }
      }
}

/// The adjoint of im2col: dx[c, y, x] += Σ col entries that read it.
template <typename T>
void col2im_add(const ConvDims& d, const T* col, T* dx) {
  const Index L = d.cols();
  for (Index c = 0; c < d.CG; ++c)
    for (Index i = 0; i < d.KH; ++i)
      for (Index j = 0; j < d.KW; ++j) {
        const T* src = col + ((c * d.KH + i) * d.KW + j) * L;
        T* dst = dx + c * d.H * d.W;
        for (Index oy = 0; oy < d.HO; ++oy) {
          const Index y = oy * d.sh - d.ph + i * d.dh;
          if (y < 0 || y >= d.H) continue;
          T* drow = dst + y * d.W;
          const T* row = src + oy * d.WO;
          const Index x0 = j * d.dw - d.pw;
          for (Index ox = 0; ox < d.WO; ++ox) {
            const Index xx = ox * d.sw + x0;
            if (xx >= 0 && xx < d.W) drow[xx] += row[ox];
          }
        }
      }
}

/// Saved state of conv2d: the sizes and whether there is a bias (inputs x, w[, b]).
template <typename T>
struct Conv2dOp {
  ConvDims d;
  bool has_bias;
  const char* name() const { return "conv2d"; }
  static Var<T> apply(const Var<T>& x, const Var<T>& w, const Var<T>& b, const Conv2dGeometry& g);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
Var<T> Conv2dOp<T>::apply(const Var<T>& x, const Var<T>& w, const Var<T>& b,
                          const Conv2dGeometry& g) {
  Tape<T>& t = common_tape(x, w, "conv2d");
  const Shape& sx = x.shape();
  const Shape& sw = w.shape();
  if (sx.rank() != 4 || sw.rank() != 4)
    throw std::invalid_argument(shapes_msg(
        "conv2d", sx, sw, "expected input [N, C, H, W] and weight [O, C/groups, KH, KW]"));
  if (g.sh_ < 1 || g.sw_ < 1 || g.dh_ < 1 || g.dw_ < 1 || g.ph_ < 0 || g.pw_ < 0 || g.groups_ < 1)
    throw std::invalid_argument(
        "conv2d: stride and dilation must be >= 1, padding >= 0 and groups >= 1 (got stride " +
        std::to_string(g.sh_) + "x" + std::to_string(g.sw_) + ", padding " + std::to_string(g.ph_) +
        "x" + std::to_string(g.pw_) + ", dilation " + std::to_string(g.dh_) + "x" +
        std::to_string(g.dw_) + ", groups " + std::to_string(g.groups_) + ")");
  ConvDims d;
  d.N = sx[0];
  d.C = sx[1];
  d.H = sx[2];
  d.W = sx[3];
  d.O = sw[0];
  d.KH = sw[2];
  d.KW = sw[3];
  d.G = g.groups_;
  d.sh = g.sh_;
  d.sw = g.sw_;
  d.ph = g.ph_;
  d.pw = g.pw_;
  d.dh = g.dh_;
  d.dw = g.dw_;
  if (d.C % d.G != 0 || d.O % d.G != 0 || sw[1] * d.G != d.C) {
    const std::string why = "with groups = " + std::to_string(d.G) +
                            ", input channels and weight's output channels must divide by "
                            "groups and the weight's second dimension must be channels / groups";
    throw std::invalid_argument(shapes_msg("conv2d", sx, sw, why.c_str()));
  }
  d.CG = d.C / d.G;
  d.OG = d.O / d.G;
  const Index eh = d.dh * (d.KH - 1) + 1, ew = d.dw * (d.KW - 1) + 1;
  if (d.H + 2 * d.ph < eh || d.W + 2 * d.pw < ew) {
    const std::string why = "the (dilated) kernel " + std::to_string(eh) + "x" +
                            std::to_string(ew) + " is larger than the padded input " +
                            std::to_string(d.H + 2 * d.ph) + "x" + std::to_string(d.W + 2 * d.pw);
    throw std::invalid_argument(shapes_msg("conv2d", sx, sw, why.c_str()));
  }
  d.HO = (d.H + 2 * d.ph - eh) / d.sh + 1;
  d.WO = (d.W + 2 * d.pw - ew) / d.sw + 1;
  if (b.defined() && (b.numel() != d.O || &b.tape() != &t))
    throw std::invalid_argument("conv2d: bias of shape " + b.shape().str() + " for weight " +
                                sw.str() + " (expected [" + std::to_string(d.O) + "])");
  const bool rg = x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad());
  const int out = make_output(t, Shape{d.N, d.O, d.HO, d.WO}, rg);
  T* Y = t.value(out);
  const T* X = x.data();
  const T* Wt = w.data();
  const Index R = d.rows(), L = d.cols();
  const bool pointwise = d.KH == 1 && d.KW == 1 && d.sh == 1 && d.sw == 1 && d.ph == 0 && d.pw == 0;
  T* col = pointwise ? nullptr : t.arena().template allocate<T>(static_cast<std::size_t>(R * L));
  for (Index n = 0; n < d.N; ++n)
    for (Index gi = 0; gi < d.G; ++gi) {
      const T* xg = X + (n * d.C + gi * d.CG) * d.H * d.W;
      T* yg = Y + (n * d.O + gi * d.OG) * L;
      if (b.defined())
        for (Index o = 0; o < d.OG; ++o)
          std::fill(yg + o * L, yg + (o + 1) * L, b.data()[gi * d.OG + o]);
      const T* B = xg;
      if (!pointwise) {
        im2col(d, xg, col);
        B = col;
      }
      // Y_g [OG, L] (+)= W_g [OG, R] · col [R, L]
      gemm<T>(d.OG, L, R, Wt + gi * d.OG * R, R, false, B, L, false, yg, L, b.defined());
    }
  if (b.defined()) return emit(t, out, Conv2dOp{d, true}, {x.id(), w.id(), b.id()});
  return emit(t, out, Conv2dOp{d, false}, {x.id(), w.id()});
}

template <typename T>
void Conv2dOp<T>::backward(const BackwardContext<T>& c) const {
  const T* dY = c.grad_output();
  const T* X = c.input(0);
  const T* Wt = c.input(1);
  const Index R = d.rows(), L = d.cols();
  GradSink<T> gx = c.input_grad(0), gw = c.input_grad(1);
  const bool pointwise = d.KH == 1 && d.KW == 1 && d.sh == 1 && d.sw == 1 && d.ph == 0 && d.pw == 0;
  T* col =
      (!pointwise && (gx || gw)) ? c.template scratch<T>(static_cast<std::size_t>(R * L)) : nullptr;
  if (has_bias) {
    GradSink<T> gb = c.input_grad(2);
    if (gb) {
      for (Index o = 0; o < d.O; ++o) {
        T s = 0;
        for (Index n = 0; n < d.N; ++n) {
          const T* g = dY + (n * d.O + o) * L;
          for (Index k = 0; k < L; ++k) s += g[k];
        }
        gb.add(o, s);
      }
    }
  }
  if (gw) {
    gw.zero_if_fresh(d.O * R);
    for (Index n = 0; n < d.N; ++n)
      for (Index gi = 0; gi < d.G; ++gi) {
        const T* xg = X + (n * d.C + gi * d.CG) * d.H * d.W;
        const T* B = xg;
        if (!pointwise) {
          im2col(d, xg, col);
          B = col;
        }
        // dW_g [OG, R] += dY_g [OG, L] · colᵀ [L, R]
        gemm<T>(d.OG, R, L, dY + (n * d.O + gi * d.OG) * L, L, false, B, L, true,
                gw.ptr + gi * d.OG * R, R, true);
      }
  }
  if (gx) {
    gx.zero_if_fresh(d.N * d.C * d.H * d.W);
    for (Index n = 0; n < d.N; ++n)
      for (Index gi = 0; gi < d.G; ++gi) {
        T* dxg = gx.ptr + (n * d.C + gi * d.CG) * d.H * d.W;
        const T* dyg = dY + (n * d.O + gi * d.OG) * L;
        if (pointwise) {
          // dX_g [CG, L] += W_gᵀ [R = CG, OG] · dY_g [OG, L]
          gemm<T>(R, L, d.OG, Wt + gi * d.OG * R, R, true, dyg, L, false, dxg, L, true);
        } else {
          gemm<T>(R, L, d.OG, Wt + gi * d.OG * R, R, true, dyg, L, false, col, L, false);
          col2im_add(d, col, dxg);
        }
      }
  }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, Conv2dOp)

}  // namespace detail

/// 2-D convolution of x [N, C, H, W] with weight [O, C/groups, KH, KW] and an optional bias [O]
/// (pass an undefined Var for none), as PyTorch's `torch.nn.functional.conv2d`: the output is
/// [N, O, HO, WO] with HO = ⌊(H + 2·ph − dh·(KH − 1) − 1)/sh⌋ + 1 (and WO alike). Lowered onto
/// onestone's GEMM through im2col, one sample and group at a time (scratch in the tape's
/// arena: no heap allocation in steady state); 1×1 convolutions skip im2col.
///
/// Example: `auto y = conv2d(x, w, b, Conv2dGeometry().stride(2).padding(1));`
template <typename T>
inline Var<T> conv2d(const Var<T>& x, const Var<T>& w, const Var<T>& b = Var<T>(),
                     const Conv2dGeometry& g = Conv2dGeometry()) {
  return detail::Conv2dOp<T>::apply(x, w, b, g);
}

}  // namespace autograd
using autograd::conv2d;
using autograd::Conv2dGeometry;
}  // namespace onestone
