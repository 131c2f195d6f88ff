#pragma once
/// @file conv.hpp
/// 2-D convolution (cross-correlation, as PyTorch's `conv2d`) on NCHW tensors with stride,
/// padding, dilation and groups, lowered onto onestone's GEMM kernels through im2col, by direct
/// kernels (first layers with few channels) or by Winograd's F(2x2, 3x3) (3x3, stride 1).

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "onestone/autograd/detail/conv_direct.hpp"
#include "onestone/autograd/detail/conv_winograd.hpp"
#include "onestone/autograd/detail/gemm.hpp"
#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/threads.hpp"

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

/// Whether the direct kernels (conv_direct.hpp) serve this convolution rather than im2col +
/// GEMM: few input channels per group (C/groups · KH · KW <= 64: a first layer on grey or RGB
/// images, where the im2col panel would be many times the input and the product very thin),
/// stride 1, no dilation, no padding, and onestone's own kernels in use (`ONESTONE_GEMM=eigen`
/// keeps im2col).
inline bool conv_direct_applies(const ConvDims& d) {
  return gemm_isa_setting() != GemmIsa::Eigen && d.sh == 1 && d.sw == 1 && d.dh == 1 && d.dw == 1 &&
         d.ph == 0 && d.pw == 0 && d.rows() <= 64;
}
/// Whether Winograd's F(2x2, 3x3) (conv_winograd.hpp) serves this convolution: 3x3 kernels,
/// stride 1, no dilation, one group, at least 8 input and 8 output channels (thinner products
/// gain little), onestone's own kernels in use and `conv_winograd_enabled()`.
inline bool conv_winograd_applies(const ConvDims& d) {
  return conv_winograd_enabled() && gemm_isa_setting() != GemmIsa::Eigen && d.KH == 3 &&
         d.KW == 3 && d.sh == 1 && d.sw == 1 && d.dh == 1 && d.dw == 1 && d.G == 1 && d.C >= 8 &&
         d.O >= 8;
}
/// The tiles of a Winograd convolution: TH x TW tiles (2x2 outputs each) per sample, taken in
/// blocks of `rb` tile rows whose transformed inputs and products (16·(C + O) values a tile)
/// fit in about 512 KB, so that a block's 16 products run from the core's cache.
struct WinoTiling {
  Index TH, TW, rb, blocks;
  /// Scratch of the tile kernels (see winograd_kernels.inc), enough for each of them.
  Index kernel_scratch() const { return (2 * rb + 2) * 2 * (TW + 1) + 16 * TW; }
  /// Values of one padded gradient plane (see `wino_input_grad_tiles`).
  Index plane() const { return (2 * TH + 2) * 2 * (TW + 1); }
};
inline WinoTiling wino_tiling(const ConvDims& d, std::size_t elem) {
  WinoTiling w;
  w.TH = (d.HO + 1) / 2;
  w.TW = (d.WO + 1) / 2;
  const Index per_row = 16 * (d.C + d.O) * w.TW;
  const Index budget = Index(512 * 1024) / static_cast<Index>(elem);
  w.rb = std::max<Index>(1, std::min(w.TH, budget / per_row));
  w.blocks = (w.TH + w.rb - 1) / w.rb;
  return w;
}
/// Samples per partial sum of the direct weight gradient: fixed, so that the sum's order (and
/// so its rounding) does not depend on the number of threads.
constexpr Index kConvDirectSamples = 8;

/// Convolutions whose im2col panel for one sample (C/groups·KH·KW rows by HO·WO columns) has
/// at most this many elements are lowered one sample at a time, samples across threads: each
/// thread lowers a sample into its own panel, which stays in its core's cache, multiplies it
/// into the output in place, and lowers it again in backward rather than keeping it (LeNet's
/// conv2: 250 x 64; the scene model's 3x3 convolutions up to 288 x 256). 2^17 elements (512 KB
/// of float, with its gradient panel the size of a 1 MB L2) measured 12% faster on the scene
/// model's step than 2^15 and 2^16. Larger panels go through the chunked path below. Tests set it
/// to 0 to exercise the chunked path on small shapes (not thread-safe to change).
inline Index& conv_sample_budget() {
  static Index budget = Index(1) << 17;
  return budget;
}

/// Threads for `tasks` independent tasks of `work` elements in all: one when the work is small
/// or the caller is already inside a parallel region.
inline int conv_slots(Index tasks, double work) {
  const int threads = get_num_threads();
#ifdef _OPENMP
  if (threads > 1 && tasks > 1 && work >= double(onestone::detail::kParallelElements) &&
      !omp_in_parallel())
    return static_cast<int>(std::min<Index>(threads, tasks));
#endif
  (void)tasks, (void)work, (void)threads;
  return 1;
}
/// Calls f(task, slot) for every task in [0, tasks) on `slots` threads (from `conv_slots`);
/// slot (< slots) names the calling thread's scratch. Every task must write only its own part.
template <typename F>
inline void for_tasks(Index tasks, int slots, F&& f) {
#ifdef _OPENMP
  if (slots > 1) {
#pragma omp parallel for num_threads(slots) schedule(static)
    for (std::int64_t q = 0; q < tasks; ++q) f(static_cast<Index>(q), omp_get_thread_num());
    return;
  }
#endif
  (void)slots;
  for (Index q = 0; q < tasks; ++q) f(q, 0);
}

/// Samples per im2col chunk: as many as keep the chunk's columns within ~8 MB of float, so that
/// one large matrix product (split across threads) serves many samples at once.
/// The budget in elements (tests lower it to exercise several chunks; not thread-safe to change).
inline Index& conv_chunk_budget() {
  static Index budget = Index(1) << 21;
  return budget;
}
/// Up to this many elements of im2col columns (64 MB of float) are kept from forward for the
/// weight's gradient; larger ones are recomputed in backward.
inline Index& conv_keep_budget() {
  static Index budget = Index(1) << 24;
  return budget;
}
inline Index conv_chunk(const ConvDims& d) {
  const Index per = std::max<Index>(1, d.rows() * d.cols());
  return std::max<Index>(1, std::min(d.N, conv_chunk_budget() / per));
}

/// Calls f(k, q) for each sample k of a chunk of m and each of its `parts` (channels), across
/// threads when the work (`per` elements a part) is large enough; every call writes only its own
/// sample's part.
template <typename F>
inline void for_parts(Index m, Index parts, Index per, F&& f) {
  onestone::detail::parallel_for(m * parts, per, [&](std::int64_t i) {
    f(static_cast<Index>(i / parts), static_cast<Index>(i % parts));
  });
}

/// col[(c·KH + i)·KW + j, oy·WO + ox] = x[c, oy·sh − ph + i·dh, ox·sw − pw + j·dw] (0 outside),
/// for the CG channels of one sample and group starting at x; rows of col are `ld` apart
/// (default: one sample's columns, L = HO·WO).
template <typename T>
#if defined(__GNUC__) && !defined(__clang__)
// Keeps GCC from turning the short row copies back into memcpy/memset calls.
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
void im2col(const ConvDims& d, const T* x, T* col, Index ld = -1, Index c0 = 0, Index c1 = -1) {
  const Index L = ld < 0 ? d.cols() : ld;
  if (d.dw == 1 &&
      im2col_kernel_isa<T>(gemm_isa_setting(), false, x, col, d.H, d.W, d.KH, d.KW, d.HO, d.WO,
                           d.sh, d.ph, d.pw, d.dh, c0, c1 < 0 ? d.CG : c1, L, d.sw))
    return;
  for (Index c = c0; c < (c1 < 0 ? d.CG : c1); ++c)
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
            // Plain loops: rows are short (a library call per row cost more than the copy).
            for (Index ox = 0; ox < lo; ++ox) row[ox] = T(0);
            const T* __restrict from = srow + x0;
            for (Index ox = lo; ox < hi; ++ox) row[ox] = from[ox];
            for (Index ox = hi; ox < d.WO; ++ox) row[ox] = T(0);
          } else {
            // Strided: output columns [lo, hi) read x0 + ox·sw inside [0, W); no test per element.
            const Index lo = std::min(d.WO, x0 >= 0 ? Index(0) : (-x0 + d.sw - 1) / d.sw);
            const Index hi = std::max(
                lo, std::min(d.WO, d.W - x0 > 0 ? (d.W - x0 + d.sw - 1) / d.sw : Index(0)));
            const Index sw = d.sw;
            for (Index ox = 0; ox < lo; ++ox) row[ox] = T(0);
            const T* __restrict from = srow + x0;
            for (Index ox = lo; ox < hi; ++ox) row[ox] = from[ox * sw];
            for (Index ox = hi; ox < d.WO; ++ox) row[ox] = T(0);
          }
        }
      }
}

/// The adjoint of im2col: dx[c, y, x] += Σ col entries that read it (rows of col `ld` apart).
template <typename T>
void col2im_add(const ConvDims& d, const T* col, T* dx, Index ld = -1, Index c0 = 0,
                Index c1 = -1) {
  const Index L = ld < 0 ? d.cols() : ld;
  if (d.dw == 1 &&
      im2col_kernel_isa<T>(gemm_isa_setting(), true, col, dx, d.H, d.W, d.KH, d.KW, d.HO, d.WO,
                           d.sh, d.ph, d.pw, d.dh, c0, c1 < 0 ? d.CG : c1, L, d.sw))
    return;
  for (Index c = c0; c < (c1 < 0 ? d.CG : c1); ++c)
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
          if (d.sw == 1) {
            // Contiguous run (vectorised): output columns [lo, hi) add into x0 + ox.
            const Index lo = std::min(d.WO, std::max<Index>(0, -x0));
            const Index hi = std::max(lo, std::min(d.WO, d.W - x0));
            T* __restrict out = drow + x0;
            const T* __restrict in = row;
            for (Index ox = lo; ox < hi; ++ox) out[ox] += in[ox];
          } else {
            // Strided: output columns [lo, hi) add into x0 + ox·sw inside [0, W).
            const Index lo = std::min(d.WO, x0 >= 0 ? Index(0) : (-x0 + d.sw - 1) / d.sw);
            const Index hi = std::max(
                lo, std::min(d.WO, d.W - x0 > 0 ? (d.W - x0 + d.sw - 1) / d.sw : Index(0)));
            const Index sw = d.sw;
            T* __restrict out = drow + x0;
            const T* __restrict in = row;
            for (Index ox = lo; ox < hi; ++ox) out[ox * sw] += in[ox];
          }
        }
      }
}

/// Saved state of conv2d: the sizes and whether there is a bias (inputs x, w[, b]).
template <typename T>
struct Conv2dOp {
  ConvDims d;
  bool has_bias;
  /// The forward's im2col columns, chunk after chunk per group (kept when the weight needs a
  /// gradient and they fit in `conv_keep_budget()`), or null: backward then recomputes them.
  const T* cols;
  /// The direct kernels computed the forward and compute the weight's gradient (see
  /// `conv_direct_applies`); the input's gradient still goes through GEMM and col2im.
  bool direct;
  /// Lowered one sample at a time (see `conv_sample_budget`); cols is null.
  bool per_sample;
  /// The instruction set of the direct kernels, fixed at forward (a later `set_gemm_isa`
  /// does not change how this node's backward runs).
  GemmIsa isa;
  /// Winograd's transformed kernels (u [16][O][C], then ut [16][C][O]) when F(2x2, 3x3)
  /// computed the forward (see `conv_winograd_applies`) and computes the gradients; else null.
  const T* wino = nullptr;
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
  const T* B = b.defined() ? b.data() : nullptr;
  if (conv_direct_applies(d)) {
    // Each task: one sample, one group, a block of output channels (blocks of equal size).
    const GemmIsa isa = gemm_isa_setting();
    const Index R = d.rows(), L = d.cols();
    const Index mb = conv_direct_forward_block<T>(isa);
    const Index nblk = (d.OG + mb - 1) / mb, ob = (d.OG + nblk - 1) / nblk;
    const int nv = d.WO > conv_direct_lanes<T>(isa) ? 2 : 1;
    const Index tasks = d.N * d.G * nblk;
    onestone::detail::parallel_for(tasks, ob * L * R, [&](std::int64_t q) {
      const Index n = static_cast<Index>(q) / (d.G * nblk),
                  rem = static_cast<Index>(q) % (d.G * nblk);
      const Index gi = rem / nblk, o0 = (rem % nblk) * ob;
      const int rows = static_cast<int>(std::min(ob, d.OG - o0));
      const Index oc = gi * d.OG + o0;
      conv_direct_forward_isa<T>(isa, rows, nv, X + (n * d.C + gi * d.CG) * d.H * d.W, d.CG, d.H,
                                 d.W, d.KH, d.KW, Wt + oc * R, R, B ? B + oc : nullptr,
                                 Y + (n * d.O + oc) * L, L, d.HO, d.WO);
    });
    if (b.defined())
      return emit(t, out, Conv2dOp{d, true, nullptr, true, false, isa}, {x.id(), w.id(), b.id()});
    return emit(t, out, Conv2dOp{d, false, nullptr, true, false, isa}, {x.id(), w.id()});
  }
  if (conv_winograd_applies(d)) {
    // Each task: one block of tile rows of one sample. Its inputs transformed (V [16][C][tb]),
    // 16 products M_ξ [O, tb] = U_ξ [O, C] · V_ξ [C, tb], outputs transformed back.
    const GemmIsa isa = gemm_isa_setting();
    const WinoTiling wt = wino_tiling(d, sizeof(T));
    const Index OC = d.O * d.C, tb_max = wt.rb * wt.TW, HW = d.H * d.W, L = d.cols();
    T* const u = t.arena().template allocate<T>(static_cast<std::size_t>(2 * 16 * OC));
    // Uᵀ only for the input's gradient.
    winograd_weights(Wt, d.O, d.C, u,
                     x.requires_grad() && is_grad_enabled() ? u + 16 * OC : nullptr);
    const Index per_slot = 16 * (d.C + d.O) * tb_max + wt.kernel_scratch();
    const Index tasks = d.N * wt.blocks;
    const int slots = conv_slots(tasks, 16.0 * double(d.N) * double(OC) * double(wt.TH * wt.TW));
    T* const scratch = t.arena().template allocate<T>(static_cast<std::size_t>(slots * per_slot));
    for_tasks(tasks, slots, [&](Index q, int slot) {
      const Index n = q / wt.blocks, ty0 = (q % wt.blocks) * wt.rb;
      const Index ty1 = std::min(wt.TH, ty0 + wt.rb), tb = (ty1 - ty0) * wt.TW;
      T* v = scratch + slot * per_slot;
      T* m = v + 16 * d.C * tb;
      T* ks = v + 16 * (d.C + d.O) * tb_max;
      for (Index ch = 0; ch < d.C; ++ch)
        wino_input_tiles_isa<T>(isa, X + (n * d.C + ch) * HW, d.H, d.W, d.ph, d.pw, wt.TW, ty0, ty1,
                                ks, v + ch * tb, d.C * tb);
      for (Index xi = 0; xi < 16; ++xi)
        gemm<T>(d.O, tb, d.C, u + xi * OC, d.C, false, v + xi * d.C * tb, tb, false,
                m + xi * d.O * tb, tb, false);
      for (Index o = 0; o < d.O; ++o)
        wino_output_tiles_isa<T>(isa, m + o * tb, d.O * tb, wt.TW, ty0, ty1, d.HO, d.WO,
                                 B ? B[o] : T(0), Y + (n * d.O + o) * L, ks);
    });
    if (b.defined())
      return emit(t, out, Conv2dOp{d, true, nullptr, false, false, isa, u},
                  {x.id(), w.id(), b.id()});
    return emit(t, out, Conv2dOp{d, false, nullptr, false, false, isa, u}, {x.id(), w.id()});
  }
  if (d.rows() * d.cols() <= conv_sample_budget()) {
    // One sample a task: its panel [R, L] per group, then Y_n,g [OG, L] = W_g · panel in place.
    const Index R = d.rows(), L = d.cols();
    const int slots = conv_slots(d.N, double(d.N) * double(d.O * R * L));
    T* const panels = t.arena().template allocate<T>(static_cast<std::size_t>(slots * R * L));
    for_tasks(d.N, slots, [&](Index n, int slot) {
      T* col = panels + slot * R * L;
      for (Index gi = 0; gi < d.G; ++gi) {
        im2col(d, X + (n * d.C + gi * d.CG) * d.H * d.W, col);
        T* yg = Y + (n * d.O + gi * d.OG) * L;
        gemm<T>(d.OG, L, R, Wt + gi * d.OG * R, R, false, col, L, false, yg, L, false);
        if (B)
          for (Index o = 0; o < d.OG; ++o) {
            const T bias = B[gi * d.OG + o];
            T* yo = yg + o * L;
            for (Index l = 0; l < L; ++l) yo[l] += bias;
          }
      }
    });
    if (b.defined())
      return emit(t, out, Conv2dOp{d, true, nullptr, false, true, GemmIsa::Eigen},
                  {x.id(), w.id(), b.id()});
    return emit(t, out, Conv2dOp{d, false, nullptr, false, true, GemmIsa::Eigen}, {x.id(), w.id()});
  }
  const Index R = d.rows(), L = d.cols(), nb = conv_chunk(d);
  const bool keep =
      w.requires_grad() && is_grad_enabled() && d.G * R * d.N * L <= conv_keep_budget();
  T* const cols = t.arena().template allocate<T>(
      static_cast<std::size_t>(keep ? d.G * R * d.N * L : R * nb * L));
  T* yc = t.arena().template allocate<T>(static_cast<std::size_t>(d.OG * nb * L));
  for (Index gi = 0; gi < d.G; ++gi)
    for (Index n0 = 0; n0 < d.N; n0 += nb) {
      const Index m = std::min(nb, d.N - n0), ld = m * L;
      T* col = keep ? cols + (gi * d.N + n0) * R * L : cols;
      // col [R, m·L] holds the chunk's samples side by side: one large product per chunk.
      for_parts(m, d.CG, d.KH * d.KW * L, [&](Index k, Index c) {
        im2col(d, X + ((n0 + k) * d.C + gi * d.CG) * d.H * d.W, col + k * L, ld, c, c + 1);
      });
      // yc [OG, m·L] = W_g [OG, R] · col [R, m·L]
      gemm<T>(d.OG, ld, R, Wt + gi * d.OG * R, R, false, col, ld, false, yc, ld, false);
      for_parts(m, d.OG, L, [&](Index k, Index o) {
        const T* src = yc + o * ld + k * L;
        T* dst = Y + ((n0 + k) * d.O + gi * d.OG + o) * L;
        const T bias = B ? B[gi * d.OG + o] : T(0);
        for (Index l = 0; l < L; ++l) dst[l] = src[l] + bias;
      });
    }
  const T* kept = keep ? cols : nullptr;
  if (b.defined())
    return emit(t, out, Conv2dOp{d, true, kept, false, false, GemmIsa::Eigen},
                {x.id(), w.id(), b.id()});
  return emit(t, out, Conv2dOp{d, false, kept, false, false, GemmIsa::Eigen}, {x.id(), w.id()});
}

template <typename T>
void Conv2dOp<T>::backward(const BackwardContext<T>& c) const {
  const T* dY = c.grad_output();
  const T* X = c.input(0);
  const T* Wt = c.input(1);
  const Index R = d.rows(), L = d.cols(), nb = conv_chunk(d);
  GradSink<T> gx = c.input_grad(0), gw = c.input_grad(1);
  if (has_bias) {
    GradSink<T> gb = c.input_grad(2);
    if (gb) {
      for (Index o = 0; o < d.O; ++o) {
        T s = 0;
        for (Index n = 0; n < d.N; ++n) s += ConstVectorMap<T>(dY + (n * d.O + o) * L, L).sum();
        gb.add(o, s);
      }
    }
  }
  if (wino && (gx || gw)) {
    // Fixed blocks of samples (the weight's gradient summed per block, then over blocks in
    // order: the same bits on any number of threads). Per block of tile rows: the output
    // gradient transformed (dM [16][O][tb]); dU_ξ [O, C] += dM_ξ · V_ξᵀ with the inputs
    // transformed again; dV_ξ [C, tb] = U_ξᵀ · dM_ξ, transformed back into the sample's padded
    // gradient planes, which are then added onto the input's gradient.
    const WinoTiling wt = wino_tiling(d, sizeof(T));
    const Index OC = d.O * d.C, tb_max = wt.rb * wt.TW, HW = d.H * d.W;
    const Index sb = kConvDirectSamples, blocks = (d.N + sb - 1) / sb, plane = wt.plane();
    const Index per_slot =
        16 * (d.C + d.O) * tb_max + wt.kernel_scratch() + (gx ? d.C * plane : Index(0));
    const int slots = conv_slots(
        blocks, 16.0 * double(d.N) * double(OC) * double(wt.TH * wt.TW) * (gw && gx ? 2 : 1));
    T* const scratch = c.template scratch<T>(static_cast<std::size_t>(slots * per_slot));
    T* const part =
        gw ? c.template scratch<T>(static_cast<std::size_t>(blocks * 16 * OC)) : nullptr;
    const T* const ut = wino + 16 * OC;
    if (gx) gx.zero_if_fresh(d.N * d.C * HW);
    for_tasks(blocks, slots, [&](Index q, int slot) {
      T* v = scratch + slot * per_slot;
      T* dm = v + 16 * d.C * tb_max;
      T* ks = dm + 16 * d.O * tb_max;
      T* planes = ks + wt.kernel_scratch();
      T* dpart = gw ? part + q * 16 * OC : nullptr;
      bool first = true;
      for (Index n = q * sb; n < std::min(d.N, (q + 1) * sb); ++n) {
        if (gx) std::fill(planes, planes + d.C * plane, T(0));
        for (Index blk = 0; blk < wt.blocks; ++blk) {
          const Index ty0 = blk * wt.rb, ty1 = std::min(wt.TH, ty0 + wt.rb);
          const Index tb = (ty1 - ty0) * wt.TW;
          for (Index o = 0; o < d.O; ++o)
            wino_grad_output_tiles_isa<T>(isa, dY + (n * d.O + o) * L, d.HO, d.WO, wt.TW, ty0, ty1,
                                          ks, dm + o * tb, d.O * tb);
          if (gw) {
            for (Index ch = 0; ch < d.C; ++ch)
              wino_input_tiles_isa<T>(isa, X + (n * d.C + ch) * HW, d.H, d.W, d.ph, d.pw, wt.TW,
                                      ty0, ty1, ks, v + ch * tb, d.C * tb);
            for (Index xi = 0; xi < 16; ++xi)
              gemm<T>(d.O, d.C, tb, dm + xi * d.O * tb, tb, false, v + xi * d.C * tb, tb, true,
                      dpart + xi * OC, d.C, !first);
            first = false;
          }
          if (gx) {
            for (Index xi = 0; xi < 16; ++xi)
              gemm<T>(d.C, tb, d.O, ut + xi * OC, d.O, false, dm + xi * d.O * tb, tb, false,
                      v + xi * d.C * tb, tb, false);
            for (Index ch = 0; ch < d.C; ++ch)
              wino_input_grad_tiles_isa<T>(isa, v + ch * tb, d.C * tb, wt.TW, ty0, ty1,
                                           planes + ch * plane, ks);
          }
        }
        if (gx)
          for (Index ch = 0; ch < d.C; ++ch)
            wino_plane_to_grad_isa<T>(isa, planes + ch * plane, wt.TW, d.H, d.W, d.ph, d.pw,
                                      gx.ptr + (n * d.C + ch) * HW);
      }
    });
    if (gw) {
      for (Index e = 0; e < 16 * OC; ++e) {
        T s = part[e];
        for (Index q = 1; q < blocks; ++q) s += part[q * 16 * OC + e];
        part[e] = s;
      }
      winograd_weights_grad<T>(part, d.O, d.C, [&](Index e, T val) { gw.add(e, val); });
    }
    return;
  }
  if (gw && direct) {
    // Partial sums over fixed blocks of samples (in parallel), then added in block order.
    const Index mb = conv_direct_wgrad_block<T>(isa);
    const Index nblk = (d.OG + mb - 1) / mb, ob = (d.OG + nblk - 1) / nblk;
    const Index sb = kConvDirectSamples, chunks = (d.N + sb - 1) / sb, OR = d.O * R;
    T* part = c.template scratch<T>(static_cast<std::size_t>(chunks * OR));
    onestone::detail::parallel_for(chunks, sb * d.O * R * L, [&](std::int64_t q) {
      const Index n0 = static_cast<Index>(q) * sb, ns = std::min(sb, d.N - n0);
      T* out = part + q * OR;
      for (Index gi = 0; gi < d.G; ++gi)
        for (Index o0 = 0; o0 < d.OG; o0 += ob) {
          const int rows = static_cast<int>(std::min(ob, d.OG - o0));
          const Index oc = gi * d.OG + o0;
          for (Index ch = 0; ch < d.CG; ++ch)
            for (Index i = 0; i < d.KH; ++i)
              for (Index j0 = 0; j0 < d.KW; j0 += kConvDirectCols) {
                const int cols = static_cast<int>(std::min<Index>(kConvDirectCols, d.KW - j0));
                conv_direct_weight_grad_isa<T>(
                    isa, rows, X + (n0 * d.C + gi * d.CG + ch) * d.H * d.W, d.C * d.H * d.W, d.W,
                    dY + (n0 * d.O + oc) * L, L, d.O * L, ns, d.HO, d.WO, i, j0, cols,
                    out + oc * R + (ch * d.KH + i) * d.KW + j0, R);
              }
        }
    });
    for (Index e = 0; e < OR; ++e) {
      T s = part[e];
      for (Index q = 1; q < chunks; ++q) s += part[q * OR + e];
      gw.add(e, s);
    }
    gw = GradSink<T>();  // done: the loop below computes only the input's gradient
  }
  if (per_sample && (gx || gw)) {
    // Fixed blocks of samples (the weight's gradient summed per block, then over blocks in
    // order: the same bits on any number of threads); each sample lowered again in its thread.
    const Index sb = kConvDirectSamples, blocks = (d.N + sb - 1) / sb, OR = d.O * R;
    const int slots = conv_slots(blocks, double(d.N) * double(d.O * R * L) * (gw && gx ? 2 : 1));
    T* const panels = c.template scratch<T>(static_cast<std::size_t>(slots * 2 * R * L));
    T* const part = gw ? c.template scratch<T>(static_cast<std::size_t>(blocks * OR)) : nullptr;
    if (gx) gx.zero_if_fresh(d.N * d.C * d.H * d.W);
    for_tasks(blocks, slots, [&](Index q, int slot) {
      T* col = panels + slot * 2 * R * L;
      T* dcol = col + R * L;
      for (Index n = q * sb; n < std::min(d.N, (q + 1) * sb); ++n)
        for (Index gi = 0; gi < d.G; ++gi) {
          const T* dyg = dY + (n * d.O + gi * d.OG) * L;
          if (gw) {
            // dW_g [OG, R] (+)= dY_n,g [OG, L] · panelᵀ [L, R]
            im2col(d, X + (n * d.C + gi * d.CG) * d.H * d.W, col);
            gemm<T>(d.OG, R, L, dyg, L, false, col, L, true, part + q * OR + gi * d.OG * R, R,
                    n != q * sb);
          }
          if (gx) {
            // dpanel [R, L] = W_gᵀ [R, OG] · dY_n,g [OG, L], scattered back onto the input.
            gemm<T>(R, L, d.OG, Wt + gi * d.OG * R, R, true, dyg, L, false, dcol, L, false);
            col2im_add(d, dcol, gx.ptr + (n * d.C + gi * d.CG) * d.H * d.W);
          }
        }
    });
    if (gw)
      for (Index e = 0; e < OR; ++e) {
        T s = part[e];
        for (Index q = 1; q < blocks; ++q) s += part[q * OR + e];
        gw.add(e, s);
      }
    return;
  }
  if (!gx && !gw) return;
  T* const scratch = c.template scratch<T>(static_cast<std::size_t>(R * nb * L));
  T* dyc = c.template scratch<T>(static_cast<std::size_t>(d.OG * nb * L));
  T* dwt = gw ? c.template scratch<T>(static_cast<std::size_t>(R * d.OG)) : nullptr;
  if (gw) gw.zero_if_fresh(d.O * R);
  if (gx) gx.zero_if_fresh(d.N * d.C * d.H * d.W);
  for (Index gi = 0; gi < d.G; ++gi)
    for (Index n0 = 0; n0 < d.N; n0 += nb) {
      const Index m = std::min(nb, d.N - n0), ld = m * L;
      // dyc [OG, m·L]: the chunk's output gradient of this group, samples side by side.
      for_parts(m, d.OG, L, [&](Index k, Index o) {
        std::copy(dY + ((n0 + k) * d.O + gi * d.OG + o) * L,
                  dY + ((n0 + k) * d.O + gi * d.OG + o + 1) * L, dyc + o * ld + k * L);
      });
      if (gw) {
        const T* col = cols ? cols + (gi * d.N + n0) * R * L : scratch;
        if (!cols)
          for_parts(m, d.CG, d.KH * d.KW * L, [&](Index k, Index ch) {
            im2col(d, X + ((n0 + k) * d.C + gi * d.CG) * d.H * d.W, scratch + k * L, ld, ch,
                   ch + 1);
          });
        // dW_gᵀ [R, OG] = col [R, m·L] · dycᵀ [m·L, OG] (the transposed operand is the small
        // one), added transposed into dW_g [OG, R].
        gemm<T>(R, d.OG, ld, col, ld, false, dyc, ld, true, dwt, d.OG, false);
        T* dw = gw.ptr + gi * d.OG * R;
        for (Index o = 0; o < d.OG; ++o)
          for (Index r = 0; r < R; ++r) dw[o * R + r] += dwt[r * d.OG + o];
      }
      if (gx) {
        T* col = scratch;
        // dcol [R, m·L] = W_gᵀ [R, OG] · dyc [OG, m·L], then scattered back onto the input.
        gemm<T>(R, ld, d.OG, Wt + gi * d.OG * R, R, true, dyc, ld, false, col, ld, false);
        for_parts(m, d.CG, d.KH * d.KW * L, [&](Index k, Index ch) {
          col2im_add(d, col + k * L, gx.ptr + ((n0 + k) * d.C + gi * d.CG) * d.H * d.W, ld, ch,
                     ch + 1);
        });
      }
    }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, Conv2dOp)

}  // namespace detail

/// 2-D convolution of x [N, C, H, W] with weight [O, C/groups, KH, KW] and an optional bias [O]
/// (pass an undefined Var for none), as PyTorch's `torch.nn.functional.conv2d`: the output is
/// [N, O, HO, WO] with HO = ⌊(H + 2·ph − dh·(KH − 1) − 1)/sh⌋ + 1 (and WO alike). Computed on
/// onestone's GEMM kernels by one of: Winograd's F(2x2, 3x3) for 3x3 kernels of stride 1 with at
/// least 8 input and output channels (2.25 times fewer multiply-adds; ONESTONE_CONV_WINOGRAD=0
/// turns it off); direct kernels for first layers with few input channels; im2col otherwise,
/// one sample at a time when its lowered panel is small, else several samples side by side per
/// product. Scratch in the tape's arena: no heap allocation in steady state; the same bits on any
/// number of threads.
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
