#pragma once
/// @file pool.hpp
/// 2-D max, average and adaptive average pooling on NCHW tensors (PyTorch's `max_pool2d`,
/// `avg_pool2d`, `adaptive_avg_pool2d`).

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/autograd/detail/pool_simd.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {

/// Window of a 2-D pooling: kernel, stride (default: the kernel) and zero padding per axis.
///
/// Example: `Pool2dGeometry(3).stride(2).padding(1)`
struct Pool2dGeometry {
  explicit Pool2dGeometry(Index k) : kh_(k), kw_(k), sh_(k), sw_(k) {}
  Pool2dGeometry(Index kh, Index kw) : kh_(kh), kw_(kw), sh_(kh), sw_(kw) {}
  Pool2dGeometry& stride(Index s) { return stride(s, s); }
  Pool2dGeometry& stride(Index sh, Index sw) {
    sh_ = sh;
    sw_ = sw;
    return *this;
  }
  Pool2dGeometry& padding(Index p) { return padding(p, p); }
  Pool2dGeometry& padding(Index ph, Index pw) {
    ph_ = ph;
    pw_ = pw;
    return *this;
  }
  /// Average pooling: divide by the whole window, padding included (default, as PyTorch), or by
  /// the input elements the window covers.
  Pool2dGeometry& count_include_pad(bool on) {
    count_include_pad_ = on;
    return *this;
  }
  Index kh_, kw_, sh_, sw_, ph_ = 0, pw_ = 0;
  bool count_include_pad_ = true;
};

namespace detail {

/// Sizes of one pooling.
struct PoolDims {
  Index NC, H, W, HO, WO, kh, kw, sh, sw, ph, pw;
  bool include_pad;
  /// The input rows [i0, i1) and columns [j0, j1) that output (oy, ox)'s window covers.
  struct Window {
    Index i0, i1, j0, j1;
  };
  Window window(Index oy, Index ox) const {
    const Index y0 = oy * sh - ph, x0 = ox * sw - pw;
    return {std::max<Index>(0, y0), std::min(H, y0 + kh), std::max<Index>(0, x0),
            std::min(W, x0 + kw)};
  }
};

inline PoolDims pool_dims(const char* op, const Shape& s, const Pool2dGeometry& g) {
  if (s.rank() != 4)
    throw std::invalid_argument(std::string(op) + ": expected input [N, C, H, W], got " + s.str());
  if (g.kh_ < 1 || g.kw_ < 1 || g.sh_ < 1 || g.sw_ < 1 || g.ph_ < 0 || g.pw_ < 0 ||
      2 * g.ph_ > g.kh_ || 2 * g.pw_ > g.kw_)
    throw std::invalid_argument(
        std::string(op) + ": kernel and stride must be >= 1 and padding at most half the kernel " +
        "(got kernel " + std::to_string(g.kh_) + "x" + std::to_string(g.kw_) + ", stride " +
        std::to_string(g.sh_) + "x" + std::to_string(g.sw_) + ", padding " + std::to_string(g.ph_) +
        "x" + std::to_string(g.pw_) + ") for input " + s.str());
  PoolDims d;
  d.NC = s[0] * s[1];
  d.H = s[2];
  d.W = s[3];
  d.kh = g.kh_;
  d.kw = g.kw_;
  d.sh = g.sh_;
  d.sw = g.sw_;
  d.ph = g.ph_;
  d.pw = g.pw_;
  d.include_pad = g.count_include_pad_;
  if (d.H + 2 * d.ph < d.kh || d.W + 2 * d.pw < d.kw)
    throw std::invalid_argument(std::string(op) + ": kernel " + std::to_string(d.kh) + "x" +
                                std::to_string(d.kw) + " is larger than the padded input " +
                                s.str());
  d.HO = (d.H + 2 * d.ph - d.kh) / d.sh + 1;
  d.WO = (d.W + 2 * d.pw - d.kw) / d.sw + 1;
  return d;
}

/// Saved state of max_pool2d: the sizes and, per output, the flat index of its maximum within
/// its (n, c) plane (in the tape's arena).
template <typename T>
struct MaxPool2dOp {
  PoolDims d;
  const std::int32_t* argmax;
  const char* name() const { return "max_pool2d"; }
  static Var<T> apply(const Var<T>& x, const Pool2dGeometry& g) {
    Tape<T>& t = x.tape();
    const PoolDims d = pool_dims("max_pool2d", x.shape(), g);
    const Shape& s = x.shape();
    const int out = make_output(t, Shape{s[0], s[1], d.HO, d.WO}, x.requires_grad());
    T* y = t.value(out);
    const Index per = d.HO * d.WO;
    std::int32_t* am = t.arena().template allocate<std::int32_t>(
        static_cast<std::size_t>(d.NC * per > 0 ? d.NC * per : 1));
    const T* X = x.data();
    if (d.kh == 2 && d.kw == 2 && d.sh == 2 && d.sw == 2 && d.ph == 0 && d.pw == 0) {
      // The common 2x2 window, stride 2: four candidates, first maximum wins, NaN propagates.
      const bool simd = pool_simd_enabled();
      onestone::detail::parallel_for(d.NC, d.H * d.W, [&](std::int64_t p) {
        const T* xp = X + p * d.H * d.W;
        for (Index oy = 0; oy < d.HO; ++oy) {
          const T* r0 = xp + 2 * oy * d.W;
          const T* r1 = r0 + d.W;
          T* yo = y + p * per + oy * d.WO;
          std::int32_t* ao = am + p * per + oy * d.WO;
          const std::int32_t base = static_cast<std::int32_t>(2 * oy * d.W);
          const std::int32_t w1 = static_cast<std::int32_t>(d.W);
#ifdef ONESTONE_HAVE_GEMM_SIMD
          if (simd) {
            avx512::maxpool2x2_row(r0, r1, d.WO, yo, ao, base, w1);
            continue;
          }
#endif
          // Branch-free (the compiler vectorises it): a candidate replaces the running maximum
          // when larger, or when it is NaN and the maximum is not.
          for (Index ox = 0; ox < d.WO; ++ox) {
            const Index c = 2 * ox;
            const std::int32_t at = base + static_cast<std::int32_t>(c);
            T m = r0[c];
            std::int32_t a = at;
            const T v1 = r0[c + 1], v2 = r1[c], v3 = r1[c + 1];
            bool u = (v1 > m) | ((v1 != v1) & (m == m));
            m = u ? v1 : m;
            a = u ? at + 1 : a;
            u = (v2 > m) | ((v2 != v2) & (m == m));
            m = u ? v2 : m;
            a = u ? at + w1 : a;
            u = (v3 > m) | ((v3 != v3) & (m == m));
            m = u ? v3 : m;
            a = u ? at + w1 + 1 : a;
            yo[ox] = m;
            ao[ox] = a;
          }
        }
      });
      return emit(t, out, MaxPool2dOp{d, am}, {x.id()});
    }
    onestone::detail::parallel_for(d.NC, d.H * d.W, [&](std::int64_t p) {
      const T* xp = X + p * d.H * d.W;
      for (Index oy = 0; oy < d.HO; ++oy)
        for (Index ox = 0; ox < d.WO; ++ox) {
          const PoolDims::Window win = d.window(oy, ox);
          T best = -std::numeric_limits<T>::infinity();
          Index arg = -1;
          for (Index i = win.i0; i < win.i1; ++i)
            for (Index j = win.j0; j < win.j1; ++j) {
              const T v = xp[i * d.W + j];
              // NaN propagates, as PyTorch: a NaN is the maximum.
              if (arg < 0 || v > best || v != v) {
                best = v;
                arg = i * d.W + j;
                if (v != v) break;
              }
            }
          const Index o = p * per + oy * d.WO + ox;
          y[o] = best;
          am[o] = static_cast<std::int32_t>(arg);
        }
    });
    return emit(t, out, MaxPool2dOp{d, am}, {x.id()});
  }
  void backward(const BackwardContext<T>& c) const {
    GradSink<T> gx = c.input_grad(0);
    if (!gx) return;
    const T* g = c.grad_output();
    const Index per = d.HO * d.WO;
    if (gx.fresh && d.kh == d.sh && d.kw == d.sw && d.ph == 0 && d.pw == 0) {
      // Windows that tile the input without overlap (2x2 stride 2): one pass writes every input
      // element (its window's gradient at the maximum, 0 elsewhere and outside every window)
      // instead of zeroing the whole input gradient and then scattering into it.
      const bool simd = d.kh == 2 && d.kw == 2 && pool_simd_enabled();
      onestone::detail::parallel_for(d.NC, d.H * d.W, [&](std::int64_t p) {
        T* dp = gx.ptr + p * d.H * d.W;
        const T* gp = g + p * per;
        const std::int32_t* ap = argmax + p * per;
#ifdef ONESTONE_HAVE_GEMM_SIMD
        if (simd) {
          const std::int32_t w1 = static_cast<std::int32_t>(d.W);
          for (Index oy = 0; oy < d.HO; ++oy) {
            T* d0 = dp + 2 * oy * d.W;
            T* d1 = d0 + d.W;
            avx512::maxpool2x2_row_backward(gp + oy * d.WO, ap + oy * d.WO, d.WO, d0, d1,
                                            static_cast<std::int32_t>(2 * oy * d.W), w1);
            std::fill(d0 + 2 * d.WO, d0 + d.W, T(0));
            std::fill(d1 + 2 * d.WO, d1 + d.W, T(0));
          }
          std::fill(dp + 2 * d.HO * d.W, dp + d.H * d.W, T(0));
          return;
        }
#endif
        for (Index y = 0; y < d.H; ++y) {
          T* row = dp + y * d.W;
          const Index oy = y / d.kh;
          if (oy >= d.HO) {
            std::fill(row, row + d.W, T(0));
            continue;
          }
          for (Index ox = 0; ox < d.WO; ++ox) {
            const std::int32_t a = ap[oy * d.WO + ox];
            const T v = gp[oy * d.WO + ox];
            const Index x0 = ox * d.kw;
            for (Index j = 0; j < d.kw; ++j)
              row[x0 + j] = a == static_cast<std::int32_t>(y * d.W + x0 + j) ? v : T(0);
          }
          std::fill(row + d.WO * d.kw, row + d.W, T(0));
        }
      });
      gx.fresh = false;
      return;
    }
    gx.zero_if_fresh(d.NC * d.H * d.W);
    onestone::detail::parallel_for(d.NC, d.H * d.W, [&](std::int64_t p) {
      for (Index k = 0; k < per; ++k) gx.ptr[p * d.H * d.W + argmax[p * per + k]] += g[p * per + k];
    });
  }
};

/// y[p, oy, ox] = Σ of x[p] over `dims.window(oy, ox)` / divisor(oy, ox), for every plane p of
/// [NC, H, W] (planes split across threads). `Dims` has NC, H, W, HO, WO and window(oy, ox).
template <typename T, typename Dims, typename Div>
void average_windows(const Dims& d, const T* x, T* y, Div&& divisor) {
  onestone::detail::parallel_for(d.NC, d.H * d.W, [&](std::int64_t p) {
    const T* xp = x + p * d.H * d.W;
    for (Index oy = 0; oy < d.HO; ++oy)
      for (Index ox = 0; ox < d.WO; ++ox) {
        const PoolDims::Window win = d.window(oy, ox);
        T sum = 0;
        for (Index i = win.i0; i < win.i1; ++i)
          for (Index j = win.j0; j < win.j1; ++j) sum += xp[i * d.W + j];
        y[(p * d.HO + oy) * d.WO + ox] = sum / divisor(oy, ox);
      }
  });
}

/// The adjoint of `average_windows`: dx[p] += g[p, oy, ox] / divisor(oy, ox) over each window.
template <typename T, typename Dims, typename Div>
void spread_windows(const Dims& d, const T* g, T* dx, Div&& divisor) {
  onestone::detail::parallel_for(d.NC, d.H * d.W, [&](std::int64_t p) {
    T* dp = dx + p * d.H * d.W;
    for (Index oy = 0; oy < d.HO; ++oy)
      for (Index ox = 0; ox < d.WO; ++ox) {
        const PoolDims::Window win = d.window(oy, ox);
        const T v = g[(p * d.HO + oy) * d.WO + ox] / divisor(oy, ox);
        for (Index i = win.i0; i < win.i1; ++i)
          for (Index j = win.j0; j < win.j1; ++j) dp[i * d.W + j] += v;
      }
  });
}

/// Saved state of avg_pool2d: the sizes.
template <typename T>
struct AvgPool2dOp {
  PoolDims d;
  const char* name() const { return "avg_pool2d"; }
  // The divisor of output (oy, ox).
  T divisor(Index oy, Index ox) const {
    if (d.include_pad) return static_cast<T>(d.kh * d.kw);
    const PoolDims::Window win = d.window(oy, ox);
    return static_cast<T>((win.i1 - win.i0) * (win.j1 - win.j0));
  }
  static Var<T> apply(const Var<T>& x, const Pool2dGeometry& g) {
    Tape<T>& t = x.tape();
    const PoolDims d = pool_dims("avg_pool2d", x.shape(), g);
    const Shape& s = x.shape();
    const int out = make_output(t, Shape{s[0], s[1], d.HO, d.WO}, x.requires_grad());
    const AvgPool2dOp op{d};
    T* y = t.value(out);
    average_windows(d, x.data(), y, [&](Index oy, Index ox) { return op.divisor(oy, ox); });
    return emit(t, out, op, {x.id()});
  }
  void backward(const BackwardContext<T>& c) const {
    GradSink<T> gx = c.input_grad(0);
    if (!gx) return;
    gx.zero_if_fresh(d.NC * d.H * d.W);
    spread_windows(d, c.grad_output(), gx.ptr, [&](Index oy, Index ox) { return divisor(oy, ox); });
  }
};

/// Sizes of an adaptive pooling: output (oy, ox) averages input rows
/// [⌊oy·H/OH⌋, ⌈(oy + 1)·H/OH⌉) and columns alike, as PyTorch's `adaptive_avg_pool2d`.
struct AdaptivePoolDims {
  Index NC, H, W, HO, WO;
  PoolDims::Window window(Index oy, Index ox) const {
    return {oy * H / HO, ((oy + 1) * H + HO - 1) / HO, ox * W / WO, ((ox + 1) * W + WO - 1) / WO};
  }
  /// The number of inputs output (oy, ox) averages.
  double count(Index oy, Index ox) const {
    const PoolDims::Window w = window(oy, ox);
    return static_cast<double>((w.i1 - w.i0) * (w.j1 - w.j0));
  }
};

/// Saved state of adaptive_avg_pool2d: the sizes.
template <typename T>
struct AdaptiveAvgPool2dOp {
  AdaptivePoolDims d;
  const char* name() const { return "adaptive_avg_pool2d"; }
  static Var<T> apply(const Var<T>& x, Index oh, Index ow) {
    Tape<T>& t = x.tape();
    const Shape& s = x.shape();
    if (s.rank() != 4)
      throw std::invalid_argument("adaptive_avg_pool2d: expected input [N, C, H, W], got " +
                                  s.str());
    if (oh < 1 || ow < 1 || s[2] < 1 || s[3] < 1)
      throw std::invalid_argument(
          "adaptive_avg_pool2d: output size " + std::to_string(oh) + "x" + std::to_string(ow) +
          " and the input's spatial sizes must be >= 1 (input " + s.str() + ")");
    const AdaptivePoolDims d{s[0] * s[1], s[2], s[3], oh, ow};
    const int out = make_output(t, Shape{s[0], s[1], oh, ow}, x.requires_grad());
    T* y = t.value(out);
    average_windows(d, x.data(), y,
                    [&](Index oy, Index ox) { return static_cast<T>(d.count(oy, ox)); });
    return emit(t, out, AdaptiveAvgPool2dOp{d}, {x.id()});
  }
  void backward(const BackwardContext<T>& c) const {
    GradSink<T> gx = c.input_grad(0);
    if (!gx) return;
    gx.zero_if_fresh(d.NC * d.H * d.W);
    spread_windows(d, c.grad_output(), gx.ptr,
                   [&](Index oy, Index ox) { return static_cast<T>(d.count(oy, ox)); });
  }
};
ONESTONE_EXTERN_CLASS(AUTOGRAD, AdaptiveAvgPool2dOp)

}  // namespace detail

/// Max pooling of x [N, C, H, W] over windows of `g` (padding counts as −∞): [N, C, HO, WO]
/// with HO = ⌊(H + 2·ph − kh)/sh⌋ + 1. The gradient goes to each window's (first) maximum; a
/// NaN in a window is its maximum, as in PyTorch.
///
/// Example: `auto y = max_pool2d(x, Pool2dGeometry(2));   // [N, C, 28, 28] -> [N, C, 14, 14]`
template <typename T>
inline Var<T> max_pool2d(const Var<T>& x, const Pool2dGeometry& g) {
  return detail::MaxPool2dOp<T>::apply(x, g);
}

/// Average pooling of x [N, C, H, W] over windows of `g`; the divisor is the window size
/// (`count_include_pad`, default, as PyTorch) or the number of input elements it covers.
/// Global average pooling is `adaptive_avg_pool2d(x, {1, 1})` (or `mean` over axes 2 and 3).
///
/// Example: `auto y = avg_pool2d(x, Pool2dGeometry(3).stride(1).padding(1));`
template <typename T>
inline Var<T> avg_pool2d(const Var<T>& x, const Pool2dGeometry& g) {
  return detail::AvgPool2dOp<T>::apply(x, g);
}

/// Adaptive average pooling of x [N, C, H, W] to [N, C, OH, OW], as PyTorch's
/// `adaptive_avg_pool2d`: output (i, j) averages input rows ⌊i·H/OH⌋ .. ⌈(i + 1)·H/OH⌉ − 1 and
/// columns alike (windows may overlap when H is not a multiple of OH). `{1, 1}` is global
/// average pooling.
///
/// Example: `auto y = adaptive_avg_pool2d(x, {1, 1});   // [N, C, 7, 7] -> [N, C, 1, 1]`
template <typename T>
inline Var<T> adaptive_avg_pool2d(const Var<T>& x, const std::array<Index, 2>& output_size) {
  return detail::AdaptiveAvgPool2dOp<T>::apply(x, output_size[0], output_size[1]);
}

}  // namespace autograd
using autograd::adaptive_avg_pool2d;
using autograd::avg_pool2d;
using autograd::max_pool2d;
using autograd::Pool2dGeometry;
}  // namespace onestone
