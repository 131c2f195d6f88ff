#pragma once
/// @file upsample.hpp
/// Spatial resampling of NCHW tensors, nearest or bilinear, to a size or by a scale factor
/// (PyTorch's `torch.nn.functional.interpolate` / `nn.Upsample` with their source-index
/// formulas).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"

namespace onestone {
namespace autograd {

/// Interpolation of `upsample`: nearest neighbour (PyTorch's "nearest") or bilinear.
enum class UpsampleMode { Nearest, Bilinear };

/// What `upsample` produces: an output size or a scale factor (exactly one of them, per axis
/// height and width), the mode (nearest by default), and for bilinear whether the corner
/// pixels' centres are aligned (default false, as PyTorch).
///
/// Example: `UpsampleOptions().scale_factor(2).mode(UpsampleMode::Bilinear).align_corners(true)`
struct UpsampleOptions {
  UpsampleOptions& size(Index s) { return size(s, s); }
  UpsampleOptions& size(Index oh, Index ow) {
    oh_ = oh;
    ow_ = ow;
    has_size_ = true;
    return *this;
  }
  UpsampleOptions& scale_factor(double s) { return scale_factor(s, s); }
  UpsampleOptions& scale_factor(double sh, double sw) {
    sh_ = sh;
    sw_ = sw;
    has_scale_ = true;
    return *this;
  }
  UpsampleOptions& mode(UpsampleMode m) {
    mode_ = m;
    return *this;
  }
  /// Bilinear only (setting it with nearest is an error, as in PyTorch).
  UpsampleOptions& align_corners(bool on) {
    align_corners_ = on;
    has_align_corners_ = true;
    return *this;
  }
  Index oh_ = 0, ow_ = 0;
  double sh_ = 0, sw_ = 0;
  bool has_size_ = false, has_scale_ = false;
  UpsampleMode mode_ = UpsampleMode::Nearest;
  bool align_corners_ = false, has_align_corners_ = false;
};

namespace detail {

/// Source indices of one axis of input size `in` and output size `out` (PyTorch's
/// `nearest_idx`: floor(i·scale) in float, scale 1/scale_factor when given, else in/out).
inline void nearest_indices(Index in, Index out, double scale_factor, std::int32_t* idx) {
  const float scale = scale_factor > 0 ? static_cast<float>(1.0 / scale_factor)
                                       : static_cast<float>(in) / static_cast<float>(out);
  for (Index i = 0; i < out; ++i) {
    Index s;
    if (out == in)
      s = i;
    else if (out == 2 * in)
      s = i >> 1;
    else
      s = std::min(static_cast<Index>(std::floor(static_cast<float>(i) * scale)), in - 1);
    idx[i] = static_cast<std::int32_t>(s);
  }
}

/// Bilinear source rows i0[k], i1[k] = i0 + (i0 < in − 1) and the weight lam[k] of i1 for
/// each output k (PyTorch's `area_pixel_compute_source_index`: with align_corners
/// src = k·(in − 1)/(out − 1), else src = max(0, (k + ½)·scale − ½), scale = 1/scale_factor
/// when given, else in/out).
template <typename T>
void linear_indices(Index in, Index out, double scale_factor, bool align_corners, std::int32_t* i0,
                    std::int32_t* i1, T* lam) {
  T scale;
  if (align_corners)
    scale = out > 1 ? static_cast<T>(in - 1) / static_cast<T>(out - 1) : T(0);
  else
    scale = scale_factor > 0 ? static_cast<T>(1.0 / scale_factor)
                             : static_cast<T>(in) / static_cast<T>(out);
  for (Index k = 0; k < out; ++k) {
    if (in == out) {
      i0[k] = i1[k] = static_cast<std::int32_t>(k);
      lam[k] = T(0);
      continue;
    }
    T src =
        align_corners ? scale * static_cast<T>(k) : scale * (static_cast<T>(k) + T(0.5)) - T(0.5);
    if (src < T(0)) src = T(0);
    const Index a = static_cast<Index>(src);
    i0[k] = static_cast<std::int32_t>(a);
    i1[k] = static_cast<std::int32_t>(a + (a < in - 1 ? 1 : 0));
    lam[k] = std::min(std::max(src - static_cast<T>(a), T(0)), T(1));
  }
}

/// Saved state of upsample: the sizes, the mode and the per-axis source tables (arena):
/// nearest: iy [HO], ix [WO]; bilinear: iy [2·HO] (rows i0 then i1), ix [2·WO], ly [HO],
/// lx [WO] (weights of i1).
template <typename T>
struct UpsampleOp {
  Index NC, H, W, HO, WO;
  bool bilinear;
  const std::int32_t* iy;
  const std::int32_t* ix;
  const T* ly;
  const T* lx;
  const char* name() const { return "upsample"; }
  static Var<T> apply(const Var<T>& x, const UpsampleOptions& o);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
Var<T> UpsampleOp<T>::apply(const Var<T>& x, const UpsampleOptions& o) {
  Tape<T>& t = x.tape();
  const Shape& s = x.shape();
  if (s.rank() != 4)
    throw std::invalid_argument("upsample: expected input [N, C, H, W], got " + s.str());
  if (o.has_size_ == o.has_scale_)
    throw std::invalid_argument("upsample: give exactly one of size and scale_factor (input " +
                                s.str() + ")");
  if (o.has_align_corners_ && o.mode_ != UpsampleMode::Bilinear)
    throw std::invalid_argument(
        "upsample: align_corners can only be set with the bilinear mode (input " + s.str() + ")");
  UpsampleOp op;
  op.NC = s[0] * s[1];
  op.H = s[2];
  op.W = s[3];
  if (o.has_size_) {
    op.HO = o.oh_;
    op.WO = o.ow_;
  } else {
    if (!(o.sh_ > 0 && o.sw_ > 0))
      throw std::invalid_argument("upsample: scale factors must be positive (got " +
                                  std::to_string(o.sh_) + "x" + std::to_string(o.sw_) +
                                  ") for input " + s.str());
    op.HO = static_cast<Index>(std::floor(static_cast<double>(op.H) * o.sh_));
    op.WO = static_cast<Index>(std::floor(static_cast<double>(op.W) * o.sw_));
  }
  if (op.HO < 1 || op.WO < 1 || op.H < 1 || op.W < 1)
    throw std::invalid_argument("upsample: input " + s.str() + " and output size " +
                                std::to_string(op.HO) + "x" + std::to_string(op.WO) +
                                " must have positive spatial sizes");
  // PyTorch uses the given scale factors in the source-index formulas (not recomputed).
  const double fh = o.has_scale_ ? o.sh_ : 0.0, fw = o.has_scale_ ? o.sw_ : 0.0;
  op.bilinear = o.mode_ == UpsampleMode::Bilinear;
  Arena& a = t.arena();
  const int k = op.bilinear ? 2 : 1;
  std::int32_t* iy = a.template allocate<std::int32_t>(static_cast<std::size_t>(k * op.HO));
  std::int32_t* ix = a.template allocate<std::int32_t>(static_cast<std::size_t>(k * op.WO));
  T* ly = nullptr;
  T* lx = nullptr;
  if (op.bilinear) {
    ly = a.template allocate<T>(static_cast<std::size_t>(op.HO));
    lx = a.template allocate<T>(static_cast<std::size_t>(op.WO));
    linear_indices<T>(op.H, op.HO, fh, o.align_corners_, iy, iy + op.HO, ly);
    linear_indices<T>(op.W, op.WO, fw, o.align_corners_, ix, ix + op.WO, lx);
  } else {
    nearest_indices(op.H, op.HO, fh, iy);
    nearest_indices(op.W, op.WO, fw, ix);
  }
  op.iy = iy;
  op.ix = ix;
  op.ly = ly;
  op.lx = lx;
  const int out = make_output(t, Shape{s[0], s[1], op.HO, op.WO}, x.requires_grad());
  T* Y = t.value(out);
  const T* X = x.data();
  for (Index p = 0; p < op.NC; ++p) {
    const T* xp = X + p * op.H * op.W;
    T* yp = Y + p * op.HO * op.WO;
    for (Index oy = 0; oy < op.HO; ++oy) {
      T* yrow = yp + oy * op.WO;
      if (!op.bilinear) {
        const T* xrow = xp + iy[oy] * op.W;
        for (Index ox = 0; ox < op.WO; ++ox) yrow[ox] = xrow[ix[ox]];
        continue;
      }
      const T* r0 = xp + iy[oy] * op.W;
      const T* r1 = xp + iy[op.HO + oy] * op.W;
      const T b1 = ly[oy], b0 = T(1) - b1;
      for (Index ox = 0; ox < op.WO; ++ox) {
        const std::int32_t c0 = ix[ox], c1 = ix[op.WO + ox];
        const T a1 = lx[ox], a0 = T(1) - a1;
        yrow[ox] = b0 * (a0 * r0[c0] + a1 * r0[c1]) + b1 * (a0 * r1[c0] + a1 * r1[c1]);
      }
    }
  }
  return emit(t, out, op, {x.id()});
}

template <typename T>
void UpsampleOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gx = c.input_grad(0);
  if (!gx) return;
  gx.zero_if_fresh(NC * H * W);
  const T* G = c.grad_output();
  for (Index p = 0; p < NC; ++p) {
    T* dx = gx.ptr + p * H * W;
    const T* gp = G + p * HO * WO;
    for (Index oy = 0; oy < HO; ++oy) {
      const T* grow = gp + oy * WO;
      if (!bilinear) {
        T* drow = dx + iy[oy] * W;
        for (Index ox = 0; ox < WO; ++ox) drow[ix[ox]] += grow[ox];
        continue;
      }
      T* d0 = dx + iy[oy] * W;
      T* d1 = dx + iy[HO + oy] * W;
      const T b1 = ly[oy], b0 = T(1) - b1;
      for (Index ox = 0; ox < WO; ++ox) {
        const std::int32_t c0 = ix[ox], c1 = ix[WO + ox];
        const T a1 = lx[ox], a0 = T(1) - a1, g = grow[ox];
        d0[c0] += b0 * a0 * g;
        d0[c1] += b0 * a1 * g;
        d1[c0] += b1 * a0 * g;
        d1[c1] += b1 * a1 * g;
      }
    }
  }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, UpsampleOp)

}  // namespace detail

/// Resamples x [N, C, H, W] to [N, C, OH, OW], as PyTorch's `interpolate` (and `nn.Upsample`)
/// in the modes "nearest" and "bilinear": OH is the given size or ⌊H·scale_factor⌋; nearest
/// reads row min(⌊i·s⌋, H − 1) with s = 1/scale_factor (when given) or H/OH; bilinear reads
/// src = i·(H − 1)/(OH − 1) with align_corners, else max(0, (i + ½)·s − ½), between rows
/// ⌊src⌋ and ⌊src⌋ + 1 (clamped). Gradients scatter back with the same weights.
///
/// Example:
/// @code
/// auto y = upsample(x, UpsampleOptions().scale_factor(2));                     // nearest
/// auto z = upsample(x, UpsampleOptions().size(32, 32).mode(UpsampleMode::Bilinear));
/// @endcode
template <typename T>
inline Var<T> upsample(const Var<T>& x, const UpsampleOptions& options) {
  return detail::UpsampleOp<T>::apply(x, options);
}

}  // namespace autograd
using autograd::upsample;
using autograd::UpsampleMode;
using autograd::UpsampleOptions;
}  // namespace onestone
