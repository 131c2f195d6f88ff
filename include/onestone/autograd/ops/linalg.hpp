#pragma once
/// @file linalg.hpp
/// Matrix products: batched `matmul` ([..., M, K] × [..., K, N] with broadcasting over the
/// leading axes, optional transposes) and the fused `linear` (x·Wᵀ + b), all on onestone's GEMM
/// kernels without per-batch allocation.

#include "onestone/autograd/detail/broadcast.hpp"
#include "onestone/autograd/detail/gemm.hpp"
#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {

/// Which operands of `matmul` enter transposed (their last two dimensions swapped).
enum class Transpose { None, A, B, Both };

namespace detail {

/// The batch layout of a matmul: `batches` products of [M, K]·[K, N]; product i reads A's
/// matrix a_index(i) and B's matrix b_index(i) through a broadcast plan over the batch shape.
struct MatmulGeometry {
  Index M, N, K, batches;
  bool ta, tb;
  bool a_shared, b_shared;  ///< operand broadcast across the batch (one matrix used by several)
  bool fold;                ///< A's batch folds into its rows: one product [batches·M, K]·[K, N]
  Plan plan;                ///< over the batch dimensions: operand 0 = A's, 1 = B's matrix index
};

/// Calls f(i, a_matrix, b_matrix) for every product of the batch.
template <typename F>
inline void for_batches(const MatmulGeometry& g, F&& f) {
  const Index len = g.plan.row_length();
  for_rows(g.plan, 0, g.plan.rows(), [&](Index row, const Index* off) {
    const Index sa = len == 1 ? 1 : g.plan.inner(0), sb = len == 1 ? 1 : g.plan.inner(1);
    for (Index i = 0; i < len; ++i) f(row * len + i, off[0] + i * sa, off[1] + i * sb);
  });
}

/// Runs f(i, am, bm) over the batch, on several threads when the products are small and
/// independent (`parallel`), otherwise on the calling thread (each product may then use threads).
template <typename F>
inline void run_batches(const MatmulGeometry& g, bool parallel, F&& f) {
#ifdef _OPENMP
  const int threads = get_num_threads();
  const double work =
      static_cast<double>(g.M) * static_cast<double>(g.N) * static_cast<double>(g.K);
  if (parallel && threads > 1 && g.batches >= threads && work < kGemmParallelWork &&
      work * static_cast<double>(g.batches) >= kGemmParallelWork && !omp_in_parallel()) {
    // Precompute the (a, b) matrix of each product so threads can take any range of them.
    const Index B = g.batches;
#pragma omp parallel num_threads(threads)
    {
      const Index nt = omp_get_num_threads(), tid = omp_get_thread_num();
      const Index lo = B * tid / nt, hi = B * (tid + 1) / nt;
      for_batches(g, [&](Index k, Index am, Index bm) {
        if (k >= lo && k < hi) f(k, am, bm);
      });
    }
    return;
  }
#endif
  (void)parallel;
  for_batches(g, f);
}

/// The batched matrix product as one operation: forward, saved geometry and backward (use
/// `matmul(a, b)`; this type is the operation's definition).
template <typename T>
struct MatmulOp {
  MatmulGeometry g;
  const char* name() const { return "matmul"; }
  static Var<T> apply(const Var<T>& a, const Var<T>& b, Transpose trans);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void MatmulOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> ga = c.input_grad(0), gb = c.input_grad(1);
  const T* G = c.grad_output();
  const T* A = c.input(0);
  const T* B = c.input(1);
  const Index M = g.M, N = g.N, K = g.K;
  const Index lda = g.ta ? M : K, ldb = g.tb ? K : N;
  if (g.fold) {
    const Index R = g.batches * M;
    // C[R, N] = A[R, K]·op(B): dA = G·op(B)ᵀ, d op(B) = Aᵀ·G.
    if (ga) gemm<T>(R, K, N, G, N, false, B, ldb, !g.tb, ga.ptr, K, !ga.fresh);
    if (gb) {
      if (!g.tb)
        gemm<T>(K, N, R, A, K, true, G, N, false, gb.ptr, N, !gb.fresh);
      else
        gemm<T>(N, K, R, G, N, true, A, K, false, gb.ptr, K, !gb.fresh);
    }
    return;
  }
  // dA = G·op(B)ᵀ (stored as op(A)'s layout), dB = op(A)ᵀ·G (op(B)'s layout).
  if (ga) {
    if (g.a_shared) ga.zero_if_fresh(c.input_shape(0).numel());
    const bool acc = !ga.fresh;
    run_batches(g, !g.a_shared, [&](Index i, Index am, Index bm) {
      const T* Gi = G + i * M * N;
      const T* Bi = B + bm * K * N;
      T* dA = ga.ptr + am * M * K;
      if (!g.ta)  // dA[M, K] = G[M, N]·op(B)ᵀ
        gemm<T>(M, K, N, Gi, N, false, Bi, ldb, !g.tb, dA, K, acc || g.a_shared);
      else  // A stored [K, M]: dA = op(B)·Gᵀ
        gemm<T>(K, M, N, Bi, ldb, g.tb, Gi, N, true, dA, M, acc || g.a_shared);
    });
  }
  if (gb) {
    if (g.b_shared) gb.zero_if_fresh(c.input_shape(1).numel());
    const bool acc = !gb.fresh;
    run_batches(g, !g.b_shared, [&](Index i, Index am, Index bm) {
      const T* Gi = G + i * M * N;
      const T* Ai = A + am * M * K;
      T* dB = gb.ptr + bm * K * N;
      if (!g.tb)  // dB[K, N] = op(A)ᵀ·G
        gemm<T>(K, N, M, Ai, lda, !g.ta, Gi, N, false, dB, N, acc || g.b_shared);
      else  // B stored [N, K]: dB = Gᵀ·op(A)
        gemm<T>(N, K, M, Gi, N, true, Ai, lda, g.ta, dB, K, acc || g.b_shared);
    });
  }
}

/// The fused linear layer x Wᵀ + b as one operation (use `linear(x, w, b)`).
template <typename T>
struct LinearOp {
  bool has_bias;
  const char* name() const { return "linear"; }
  static Var<T> apply(const Var<T>& x, const Var<T>& w, const Var<T>& b);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void LinearOp<T>::backward(const BackwardContext<T>& c) const {
  const Shape& sx = c.input_shape(0);
  const Index R = sx.rows(), K = sx.cols(), O = c.input_shape(1)[0];
  const T* G = c.grad_output();
  // dX = G·W, dW = Gᵀ·X, db = Σ rows of G
  if (auto gx = c.input_grad(0))
    gemm<T>(R, K, O, G, O, false, c.input(1), K, false, gx.ptr, K, !gx.fresh);
  if (auto gw = c.input_grad(1))
    gemm<T>(O, K, R, G, O, true, c.input(0), K, false, gw.ptr, K, !gw.fresh);
  if (has_bias) {
    if (auto gb = c.input_grad(2)) {
      Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>> GB(gb.ptr, O);
      ConstMatrixMap<T> Gm(G, R, O);
      if (gb.fresh)
        GB.noalias() = Gm.colwise().sum();
      else
        GB.noalias() += Gm.colwise().sum();
    }
  }
}
template <typename T>
Var<T> MatmulOp<T>::apply(const Var<T>& a, const Var<T>& b, Transpose trans) {
  Tape<T>& t = common_tape(a, b, "matmul");
  const bool ta = trans == Transpose::A || trans == Transpose::Both;
  const bool tb = trans == Transpose::B || trans == Transpose::Both;
  Shape sa = a.shape(), sb = b.shape();
  const Shape sa0 = sa, sb0 = sb;
  if (sa.rank() == 0 || sb.rank() == 0)
    throw std::invalid_argument(shapes_msg("matmul", sa, sb, "operands must have rank >= 1"));
  const bool a_vec = sa.rank() == 1, b_vec = sb.rank() == 1;
  if (a_vec) sa = Shape{1, sa[0]};
  if (b_vec) sb = Shape{sb[0], 1};
  const int ra = sa.rank(), rb = sb.rank();
  const Index M = ta ? sa.at(ra - 1) : sa.at(ra - 2), Ka = ta ? sa.at(ra - 2) : sa.at(ra - 1);
  const Index Kb = tb ? sb.at(rb - 1) : sb.at(rb - 2), N = tb ? sb.at(rb - 2) : sb.at(rb - 1);
  if (Ka != Kb)
    throw std::invalid_argument(shapes_msg(
        "matmul", sa0, sb0, "inner dimensions differ (expected [..., M, K] x [..., K, N])"));
  Shape ba, bb, batch;
  for (int d = 0; d + 2 < ra; ++d) ba.push_back(sa.at(d));
  for (int d = 0; d + 2 < rb; ++d) bb.push_back(sb.at(d));
  if (!broadcast_shapes(ba, bb, batch))
    throw std::invalid_argument(
        shapes_msg("matmul", sa0, sb0, "batch dimensions do not broadcast"));
  Shape so;
  for (int d = 0; d < batch.rank(); ++d) so.push_back(batch.at(d));
  if (!a_vec) so.push_back(M);
  if (!b_vec) so.push_back(N);
  if (so.rank() > Shape::kMaxRank)
    throw std::invalid_argument(shapes_msg("matmul", sa0, sb0, "result rank above 4"));
  MatmulGeometry g;
  g.M = M;
  g.N = N;
  g.K = Ka;
  g.ta = ta;
  g.tb = tb;
  g.batches = batch.numel();
  g.a_shared = ba.numel() != g.batches;
  g.b_shared = bb.numel() != g.batches;
  g.fold = !ta && bb.numel() == 1 && !g.a_shared;
  // Batch plans index matrices: shapes of the batch dimensions, strides counted in matrices.
  g.plan = broadcast_plan(batch.rank() ? batch : Shape{1}, {&ba, &bb});
  const int out = make_output(t, so, a.requires_grad() || b.requires_grad());
  const T* A = a.data();
  const T* B = b.data();
  T* C = t.value(out);
  const Index lda = ta ? M : Ka, ldb = tb ? Ka : N;
  if (so.numel() > 0) {
    if (g.fold) {
      gemm<T>(g.batches * M, N, Ka, A, Ka, false, B, ldb, tb, C, N, false);
    } else {
      run_batches(g, true, [&](Index i, Index am, Index bm) {
        gemm<T>(M, N, Ka, A + am * M * Ka, lda, ta, B + bm * Ka * N, ldb, tb, C + i * M * N, N,
                false);
      });
    }
  }
  return emit(t, out, MatmulOp{g}, {a.id(), b.id()});
}

template <typename T>
Var<T> LinearOp<T>::apply(const Var<T>& x, const Var<T>& w, const Var<T>& b) {
  Tape<T>& t = common_tape(x, w, "linear");
  const Shape& sx = x.shape();
  const Shape& sw = w.shape();
  if (sx.rank() < 1 || sw.rank() != 2 || sx.cols() != sw[1])
    throw std::invalid_argument(
        shapes_msg("linear", sx, sw, "input's last dimension must equal weight's columns"));
  const Index R = sx.rows(), O = sw[0];
  if (b.defined() && (b.numel() != O || &b.tape() != &t))
    throw std::invalid_argument("linear: bias of shape " + b.shape().str() + " for weight " +
                                sw.str());
  Shape so = sx.rank() == 1 ? Shape{O} : sx;
  if (sx.rank() > 1) so.set(so.rank() - 1, O);
  const bool rg = x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad());
  const int out = make_output(t, so, rg);
  MatrixMap<T> Y(t.value(out), R, O);
  if (b.defined()) Y.rowwise() = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(b.data(), O);
  gemm<T>(R, O, sx.cols(), x.data(), sx.cols(), false, w.data(), sx.cols(), true, Y.data(), O,
          b.defined());
  if (b.defined()) return emit(t, out, LinearOp{true}, {x.id(), w.id(), b.id()});
  return emit(t, out, LinearOp{false}, {x.id(), w.id()});
}

ONESTONE_EXTERN_CLASS(AUTOGRAD, MatmulOp)
ONESTONE_EXTERN_CLASS(AUTOGRAD, LinearOp)

}  // namespace detail

/// Matrix product with NumPy's matmul rules: a [..., M, K] and b [..., K, N] give [..., M, N],
/// the leading (batch) dimensions broadcast against each other; a 1-D a is a row [K] and a 1-D
/// b a column [K] (their dimension is dropped from the result). `trans` swaps the last two
/// dimensions of a, b or both first (without a copy), e.g. attention scores
/// `matmul(q, k, Transpose::B)` for q, k [B, H, T, D].
///
/// Example: `auto y = matmul(x, w);   // [32, 784] x [784, 256] -> [32, 256]`
template <typename T>
inline Var<T> matmul(const Var<T>& a, const Var<T>& b, Transpose trans = Transpose::None) {
  return detail::MatmulOp<T>::apply(a, b, trans);
}

/// Fused affine map y = x·Wᵀ + b for x [..., K], W [O, K], b [O] (optional: pass an undefined
/// Var for no bias). The output has x's leading dimensions and O columns.
///
/// Example: `auto y = onestone::linear(x, weight, bias);`
template <typename T>
inline Var<T> linear(const Var<T>& x, const Var<T>& w, const Var<T>& b = Var<T>()) {
  return detail::LinearOp<T>::apply(x, w, b);
}

}  // namespace autograd
using autograd::linear;
using autograd::matmul;
using autograd::Transpose;
}  // namespace onestone
