#pragma once
/// @file shape_ops.hpp
/// Shape operations on tensors of rank ≤ 4: views without copy (`reshape`/`view`, `flatten`,
/// `squeeze`, `unsqueeze`), `permute` / `transpose`, `narrow`, `cat` / `concat`, `split`,
/// `chunk`, `stack` along any axis, `expand` (broadcast to a shape), `index_select`,
/// `gather_rows` and `gather` along an axis.

#include <cstring>
#include <initializer_list>
#include <vector>

#include "onestone/autograd/detail/broadcast.hpp"
#include "onestone/autograd/detail/op_common.hpp"
#include "onestone/autograd/var_list.hpp"
#include "onestone/config.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// Copies along a strided plan: operand 0 is contiguous (at c), operand 1 strided (at s).
/// `into_strided` copies c → s, otherwise s → c; `add` accumulates instead of assigning.
template <typename T>
inline void strided_copy(const Plan& p, T* c, T* s, bool into_strided, bool add) {
  const Index len = p.row_length();
  const Index is = p.inner(1);
  using Strided = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>, 0, Eigen::InnerStride<>>;
  for_rows(p, 0, p.rows(), [&](Index row, const Index* off) {
    FlatArray<T> cont(c + off[0], len);
    Strided str(s + off[1], len, Eigen::InnerStride<>(is == 0 ? 1 : is));
    if (into_strided) {
      if (add)
        str += cont;
      else
        str = cont;
    } else {
      if (add)
        cont += str;
      else
        cont = str;
    }
    (void)row;
  });
}

/// Saved state of a view (reshape, flatten, squeeze, unsqueeze, view): the gradient is the
/// output's gradient, unchanged in memory order.
template <typename T>
struct ViewOp {
  const char* op_name;
  const char* name() const { return op_name; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void ViewOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  add_to(gs, c.grad_output(), c.output_shape().numel());
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, ViewOp)

template <typename T>
inline Var<T> make_view(const Var<T>& x, const Shape& shape, const char* name) {
  Tape<T>& t = x.tape();
  const int out = t.alias_var(const_cast<T*>(x.data()), shape, x.requires_grad());
  return emit(t, out, ViewOp<T>{name}, {x.id()});
}

/// Saved state of permute: the plan from the output to the input's strides.
template <typename T>
struct PermuteOp {
  Plan plan;
  const char* name() const { return "permute"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void PermuteOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  strided_copy(plan, const_cast<T*>(c.grad_output()), gs.ptr, true, !gs.fresh);
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, PermuteOp)

/// Saved state of narrow: the split of the input around the axis and the window.
template <typename T>
struct NarrowOp {
  Index outer, len, inner, start, length;
  const char* name() const { return "narrow"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void NarrowOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  gs.zero_if_fresh(outer * len * inner);
  const T* G = c.grad_output();
  const Index block = length * inner;
  for (Index o = 0; o < outer; ++o)
    flat(gs.ptr + (o * len + start) * inner, block) += cflat(G + o * block, block);
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, NarrowOp)

/// Saved state of cat: the split around the axis (len = the output's length) and the inputs'
/// lengths along it (arena).
template <typename T>
struct CatOp {
  Index outer, len, inner;
  const Index* lens;
  const char* op_name;
  const char* name() const { return op_name; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void CatOp<T>::backward(const BackwardContext<T>& c) const {
  const T* G = c.grad_output();
  Index off = 0;
  for (int k = 0; k < c.num_inputs(); ++k) {
    const Index block = lens[k] * inner;
    GradSink<T> gs = c.input_grad(k);
    if (gs)
      for (Index o = 0; o < outer; ++o)
        accumulate(gs, flat(gs.ptr + o * block, block), cflat(G + o * len * inner + off, block));
    off += block;
  }
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, CatOp)

/// Saved state of expand: the broadcast plan of the input over the output.
template <typename T>
struct ExpandOp {
  Plan plan;
  const char* name() const { return "expand"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void ExpandOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  const Index n_in = c.input_shape(0).numel();
  const bool reduce = n_in != c.output_shape().numel();
  if (reduce) gs.zero_if_fresh(n_in);
  const T* G = c.grad_output();
  const Index len = plan.row_length();
  const Index s = len == 1 ? 1 : plan.inner(0);
  for_rows(plan, 0, plan.rows(), [&](Index row, const Index* off) {
    if (s)
      accumulate(gs, flat(gs.ptr + off[0], len), cflat(G + row * len, len));
    else
      gs.ptr[off[0]] += cflat(G + row * len, len).sum();
  });
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, ExpandOp)

/// Saved state of index_select / gather_rows: the split around the axis and the indices.
template <typename T>
struct IndexSelectOp {
  Index outer, len, inner, count;
  const Index* index;
  const char* name() const { return "index_select"; }
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
void IndexSelectOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  gs.zero_if_fresh(outer * len * inner);
  const T* G = c.grad_output();
  for (Index o = 0; o < outer; ++o)
    for (Index k = 0; k < count; ++k)
      flat(gs.ptr + (o * len + index[k]) * inner, inner) +=
          cflat(G + (o * count + k) * inner, inner);
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, IndexSelectOp)

/// Saved state of gather: the input's strides, the axis and the indices (the output's shape).
template <typename T>
struct GatherOp {
  int axis;
  Index in_strides[4];
  const Index* index;
  const char* name() const { return "gather"; }
  /// Offset in the input of every output element, through f(out_offset, in_offset).
  template <typename F>
  static void walk(const Shape& so, int axis, const Index* in_strides, const Index* index, F&& f);
  void backward(const BackwardContext<T>& c) const;
};

template <typename T>
template <typename F>
void GatherOp<T>::walk(const Shape& so, int axis, const Index* in_strides, const Index* index,
                       F&& f) {
  const int r = so.rank();
  Index d[4] = {1, 1, 1, 1};
  for (int k = 0; k < r; ++k) d[4 - r + k] = so.at(k);
  Index st[4] = {0, 0, 0, 0};
  for (int k = 0; k < r; ++k) st[4 - r + k] = in_strides[k];
  const int ax = 4 - r + axis;
  Index o = 0;
  for (Index i0 = 0; i0 < d[0]; ++i0)
    for (Index i1 = 0; i1 < d[1]; ++i1)
      for (Index i2 = 0; i2 < d[2]; ++i2)
        for (Index i3 = 0; i3 < d[3]; ++i3, ++o) {
          const Index i[4] = {i0, i1, i2, i3};
          Index off = 0;
          for (int k = 0; k < 4; ++k) off += (k == ax ? index[o] : i[k]) * st[k];
          f(o, off);
        }
}

template <typename T>
void GatherOp<T>::backward(const BackwardContext<T>& c) const {
  GradSink<T> gs = c.input_grad(0);
  if (!gs) return;
  gs.zero_if_fresh(c.input_shape(0).numel());
  const T* G = c.grad_output();
  walk(c.output_shape(), axis, in_strides, index, [&](Index o, Index off) { gs.ptr[off] += G[o]; });
}
ONESTONE_EXTERN_CLASS(AUTOGRAD, GatherOp)

/// Checks that every index lies in [0, n) and copies the indices into the arena.
template <typename T>
inline const Index* store_indices(Tape<T>& t, const Tensor<Index>& index, Index n, const char* op,
                                  const Shape& s, int axis) {
  const Index K = index.numel();
  Index* idx = t.arena().template allocate<Index>(static_cast<std::size_t>(K ? K : 1));
  for (Index k = 0; k < K; ++k) {
    const Index v = index[k];
    if (v < 0 || v >= n)
      throw std::invalid_argument(std::string(op) + ": index " + std::to_string(v) +
                                  " at position " + std::to_string(k) + " out of range for axis " +
                                  std::to_string(axis) + " of shape " + s.str());
    idx[k] = v;
  }
  return idx;
}

/// Concatenation along `axis`; with `new_axis` (stack) every input first gains a dimension of
/// size 1 at `axis` (no copy: that does not change its memory order).
template <typename T>
inline Var<T> cat_impl(const Var<T>* xs, std::size_t count, int axis, const char* name,
                       bool new_axis = false) {
  if (count == 0) throw std::invalid_argument(std::string(name) + ": no inputs");
  Tape<T>& t = xs[0].tape();
  if (new_axis && xs[0].shape().rank() >= Shape::kMaxRank)
    throw std::invalid_argument(std::string(name) + ": inputs of shape " + xs[0].shape().str() +
                                " already have rank 4");
  const int ax0 = new_axis ? normalize_axis(name, axis, xs[0].shape(), 1) : 0;
  auto shape_of = [&](std::size_t k) {
    return new_axis ? xs[k].shape().inserted(ax0, 1) : xs[k].shape();
  };
  const Shape s0 = shape_of(0);
  const int ax = new_axis ? ax0 : normalize_axis(name, axis, s0);
  Index total = 0;
  bool rg = false;
  for (std::size_t k = 0; k < count; ++k) {
    const Shape s = shape_of(k);
    if (&xs[k].tape() != &t)
      throw std::invalid_argument(std::string(name) + ": inputs live on different tapes");
    bool ok = s.rank() == s0.rank();
    for (int d = 0; ok && d < s.rank(); ++d) ok = d == ax || s.at(d) == s0.at(d);
    if (!ok)
      throw std::invalid_argument(shapes_msg(
          name, s0, s,
          ("inputs must agree on every dimension but axis " + std::to_string(axis)).c_str()));
    total += s.at(ax);
    rg = rg || xs[k].requires_grad();
  }
  Shape so = s0;
  so.set(ax, total);
  const int out = make_output(t, so, rg);
  Index outer, len, inner;
  axis_split(so, ax, outer, len, inner);
  Index* lens = t.arena().template allocate<Index>(count);
  int* ids = t.arena().template allocate<int>(count);
  T* Y = t.value(out);
  Index off = 0;
  for (std::size_t k = 0; k < count; ++k) {
    ids[k] = xs[k].id();
    lens[k] = shape_of(k).at(ax);
    const Index block = lens[k] * inner;
    const T* X = xs[k].data();
    for (Index o = 0; o < outer; ++o)
      if (block) std::memcpy(Y + o * len * inner + off, X + o * block, sizeof(T) * block);
    off += block;
  }
  return emit(t, out, CatOp<T>{outer, len, inner, lens, name}, ids, static_cast<int>(count));
}

/// A shape from dimensions where one may be −1 (inferred from the element count).
inline Shape infer_shape(const char* op, const Shape& from, std::initializer_list<Index> dims) {
  if (dims.size() > static_cast<std::size_t>(Shape::kMaxRank))
    throw std::invalid_argument(std::string(op) + ": rank " + std::to_string(dims.size()) +
                                " above 4 requested for " + from.str());
  Index known = 1;
  int infer = -1, i = 0;
  for (Index d : dims) {
    if (d == -1) {
      if (infer >= 0)
        throw std::invalid_argument(std::string(op) + ": more than one -1 dimension for " +
                                    from.str());
      infer = i;
    } else if (d < 0) {
      throw std::invalid_argument(std::string(op) + ": negative dimension " + std::to_string(d));
    } else {
      known *= d;
    }
    ++i;
  }
  Shape s;
  for (Index d : dims) {
    if (d == -1) {
      if (known == 0 || from.numel() % known != 0)
        throw std::invalid_argument(std::string(op) + ": cannot infer the -1 dimension to view " +
                                    from.str() + " with " + std::to_string(from.numel()) +
                                    " elements");
      s.push_back(from.numel() / known);
    } else {
      s.push_back(d);
    }
  }
  return s;
}

}  // namespace detail

/// A view of x with another shape of the same element count (no copy).
/// Example: `auto flat = reshape(images, Shape{batch, 784});`
template <typename T>
inline Var<T> reshape(const Var<T>& x, const Shape& shape) {
  if (shape.numel() != x.numel())
    throw std::invalid_argument(
        detail::shapes_msg("reshape", x.shape(), shape, "element counts differ"));
  return detail::make_view(x, shape, "reshape");
}
/// Reshape with one dimension given as −1 and inferred, e.g. `reshape(x, {batch, -1})`.
template <typename T>
inline Var<T> reshape(const Var<T>& x, std::initializer_list<Index> dims) {
  return reshape(x, detail::infer_shape("reshape", x.shape(), dims));
}
/// Same as `reshape` (tensors are always contiguous, so every view is a reshape).
template <typename T>
inline Var<T> view(const Var<T>& x, const Shape& shape) {
  return reshape(x, shape);
}
template <typename T>
inline Var<T> view(const Var<T>& x, std::initializer_list<Index> dims) {
  return reshape(x, detail::infer_shape("view", x.shape(), dims));
}

/// Merges dimensions start_dim..end_dim into one (a view). Example: `flatten(x, 1)` turns
/// [B, C, H, W] into [B, C·H·W], as `nn.Flatten` does.
template <typename T>
inline Var<T> flatten(const Var<T>& x, int start_dim = 0, int end_dim = -1) {
  const Shape& s = x.shape();
  if (s.rank() == 0) return detail::make_view(x, Shape{1}, "flatten");
  const int a = detail::normalize_axis("flatten", start_dim, s);
  const int b = detail::normalize_axis("flatten", end_dim, s);
  if (a > b)
    throw std::invalid_argument("flatten: start_dim " + std::to_string(start_dim) +
                                " after end_dim " + std::to_string(end_dim) + " for shape " +
                                s.str());
  Shape o;
  for (int d = 0; d < a; ++d) o.push_back(s.at(d));
  o.push_back(s.span(a, b + 1));
  for (int d = b + 1; d < s.rank(); ++d) o.push_back(s.at(d));
  return detail::make_view(x, o, "flatten");
}

/// Removes dimension `dim`, which must have size 1 (a view).
template <typename T>
inline Var<T> squeeze(const Var<T>& x, int dim) {
  const Shape& s = x.shape();
  const int a = detail::normalize_axis("squeeze", dim, s);
  if (s.at(a) != 1)
    throw std::invalid_argument("squeeze: axis " + std::to_string(dim) + " of shape " + s.str() +
                                " has size " + std::to_string(s.at(a)) + ", not 1");
  return detail::make_view(x, s.without(a), "squeeze");
}
/// Removes every dimension of size 1 (a view).
template <typename T>
inline Var<T> squeeze(const Var<T>& x) {
  Shape o;
  for (int d = 0; d < x.shape().rank(); ++d)
    if (x.shape().at(d) != 1) o.push_back(x.shape().at(d));
  return detail::make_view(x, o, "squeeze");
}
/// Inserts a dimension of size 1 before position `dim` (−1 appends one; a view).
template <typename T>
inline Var<T> unsqueeze(const Var<T>& x, int dim) {
  const Shape& s = x.shape();
  if (s.rank() >= Shape::kMaxRank)
    throw std::invalid_argument("unsqueeze: shape " + s.str() + " already has rank 4");
  const int a = detail::normalize_axis("unsqueeze", dim, s, 1);
  return detail::make_view(x, s.inserted(a, 1), "unsqueeze");
}

/// The dimensions of x reordered: output dimension d is input dimension dims[d] (a copy).
/// Example: `permute(x, {0, 2, 3, 1})` turns [B, C, H, W] into [B, H, W, C].
template <typename T>
inline Var<T> permute(const Var<T>& x, std::initializer_list<int> dims) {
  const Shape& s = x.shape();
  const int r = s.rank();
  bool seen[4] = {false, false, false, false};
  std::string list;
  for (int d : dims) list += (list.empty() ? "" : ", ") + std::to_string(d);
  if (static_cast<int>(dims.size()) != r)
    throw std::invalid_argument("permute: " + std::to_string(dims.size()) + " axes {" + list +
                                "} for shape " + s.str());
  Shape so;
  Index strides[4];
  const auto st = s.strides();
  int k = 0;
  for (int d : dims) {
    const int a = detail::normalize_axis("permute", d, s);
    if (seen[a])
      throw std::invalid_argument("permute: axis " + std::to_string(d) + " repeated in {" + list +
                                  "} for shape " + s.str());
    seen[a] = true;
    so.push_back(s.at(a));
    strides[k++] = st[static_cast<std::size_t>(a)];
  }
  Tape<T>& t = x.tape();
  const int out = detail::make_output(t, so, x.requires_grad());
  detail::PermuteOp<T> op{detail::strided_plan(so, strides)};
  if (so.numel() > 0)
    detail::strided_copy(op.plan, t.value(out), const_cast<T*>(x.data()), false, false);
  return detail::emit(t, out, op, {x.id()});
}

/// Swaps two dimensions (a copy). Example: `transpose(k, -2, -1)` for keys [B, H, T, D].
template <typename T>
inline Var<T> transpose(const Var<T>& x, int dim0, int dim1) {
  const Shape& s = x.shape();
  const int a = detail::normalize_axis("transpose", dim0, s);
  const int b = detail::normalize_axis("transpose", dim1, s);
  int p[4] = {0, 1, 2, 3};
  std::swap(p[a], p[b]);
  switch (s.rank()) {
    case 1:
      return permute(x, {p[0]});
    case 2:
      return permute(x, {p[0], p[1]});
    case 3:
      return permute(x, {p[0], p[1], p[2]});
    default:
      return permute(x, {p[0], p[1], p[2], p[3]});
  }
}

/// Elements [start, start + length) along `dim` (a copy), as `torch::narrow`.
/// Example: `narrow(x, 1, 0, 64)` keeps the first 64 channels of [B, C, H, W].
template <typename T>
inline Var<T> narrow(const Var<T>& x, int dim, Index start, Index length) {
  const Shape& s = x.shape();
  const int ax = detail::normalize_axis("narrow", dim, s);
  if (start < 0 || length < 0 || start + length > s.at(ax))
    throw std::invalid_argument("narrow: window [" + std::to_string(start) + ", " +
                                std::to_string(start + length) + ") out of range for axis " +
                                std::to_string(dim) + " of shape " + s.str());
  Index outer, len, inner;
  detail::axis_split(s, ax, outer, len, inner);
  Shape so = s;
  so.set(ax, length);
  Tape<T>& t = x.tape();
  const int out = detail::make_output(t, so, x.requires_grad());
  T* Y = t.value(out);
  const T* X = x.data();
  const Index block = length * inner;
  for (Index o = 0; o < outer; ++o)
    if (block) std::memcpy(Y + o * block, X + (o * len + start) * inner, sizeof(T) * block);
  return detail::emit(t, out, detail::NarrowOp<T>{outer, len, inner, start, length}, {x.id()});
}

/// Concatenation along `dim` (default 0, as `torch::cat`).
/// Example: `cat({a, b}, 1)` joins [B, C1, H, W] and [B, C2, H, W] into [B, C1 + C2, H, W].
template <typename T>
inline Var<T> cat(std::initializer_list<Var<T>> xs, int dim = 0) {
  return detail::cat_impl(xs.begin(), xs.size(), dim, "cat");
}
template <typename T>
inline Var<T> cat(const std::vector<Var<T>>& xs, int dim = 0) {
  return detail::cat_impl(xs.data(), xs.size(), dim, "cat");
}
/// Concatenation along `dim`, by default the last dimension (feature concatenation).
template <typename T>
inline Var<T> concat(std::initializer_list<Var<T>> xs, int dim = -1) {
  return detail::cat_impl(xs.begin(), xs.size(), dim, "cat");
}
template <typename T>
inline Var<T> concat(const std::vector<Var<T>>& xs, int dim = -1) {
  return detail::cat_impl(xs.data(), xs.size(), dim, "cat");
}

/// Stacks same-shaped tensors along a new dimension `dim` (default 0).
/// Example: `stack({a, b, c})` of three [B, D] gives [3, B, D].
template <typename T>
inline Var<T> stack(const std::vector<Var<T>>& xs, int dim = 0) {
  return detail::cat_impl(xs.data(), xs.size(), dim, "stack", true);
}
template <typename T>
inline Var<T> stack(std::initializer_list<Var<T>> xs, int dim = 0) {
  return detail::cat_impl(xs.begin(), xs.size(), dim, "stack", true);
}

/// Splits `dim` (default: the last) into pieces of the given sizes, which must add up to it.
/// Example: `auto parts = split(x, {64, 32}, 1);` (a `VarList`: no allocation for up to 8).
template <typename T>
inline VarList<T> split(const Var<T>& x, std::initializer_list<Index> sizes, int dim = -1) {
  const int ax = detail::normalize_axis("split", dim, x.shape());
  Index total = 0;
  for (Index s : sizes) total += s;
  if (total != x.shape().at(ax))
    throw std::invalid_argument("split: sizes add up to " + std::to_string(total) + " but axis " +
                                std::to_string(dim) + " of " + x.shape().str() + " has " +
                                std::to_string(x.shape().at(ax)));
  VarList<T> out;
  Index off = 0;
  for (Index s : sizes) {
    out.push_back(narrow(x, ax, off, s));
    off += s;
  }
  return out;
}
template <typename T>
inline VarList<T> split(const Var<T>& x, const std::vector<Index>& sizes, int dim = -1) {
  const int ax = detail::normalize_axis("split", dim, x.shape());
  Index total = 0;
  for (Index s : sizes) total += s;
  if (total != x.shape().at(ax))
    throw std::invalid_argument("split: sizes add up to " + std::to_string(total) + " but axis " +
                                std::to_string(dim) + " of " + x.shape().str() + " has " +
                                std::to_string(x.shape().at(ax)));
  VarList<T> out;
  Index off = 0;
  for (Index s : sizes) {
    out.push_back(narrow(x, ax, off, s));
    off += s;
  }
  return out;
}
/// Splits `dim` into `chunks` pieces of equal size (the last one smaller when it does not
/// divide), as `torch::chunk`. Example: `auto qkv = chunk(h, 3, -1);`
template <typename T>
inline VarList<T> chunk(const Var<T>& x, Index chunks, int dim = 0) {
  const int ax = detail::normalize_axis("chunk", dim, x.shape());
  if (chunks < 1) throw std::invalid_argument("chunk: needs at least one chunk");
  const Index n = x.shape().at(ax), each = (n + chunks - 1) / chunks;
  VarList<T> out;
  for (Index off = 0; off < n; off += each)
    out.push_back(narrow(x, ax, off, std::min(each, n - off)));
  return out;
}

/// x broadcast to `shape` (NumPy rules; a copy); the gradient sums over stretched dimensions.
template <typename T>
inline Var<T> expand(const Var<T>& x, const Shape& shape) {
  Shape so;
  if (!broadcast_shapes(x.shape(), shape, so) || so != shape)
    throw std::invalid_argument(detail::shapes_msg("expand", x.shape(), shape,
                                                   "the input does not broadcast to the shape"));
  Tape<T>& t = x.tape();
  const int out = detail::make_output(t, so, x.requires_grad());
  detail::ExpandOp<T> op{detail::broadcast_plan(so, {&x.shape()})};
  const Index len = op.plan.row_length();
  const Index s = len == 1 ? 1 : op.plan.inner(0);
  T* Y = t.value(out);
  const T* X = x.data();
  if (so.numel() > 0)
    detail::for_rows(op.plan, 0, op.plan.rows(), [&](Index row, const Index* off) {
      if (s)
        detail::flat(Y + row * len, len) = detail::cflat(X + off[0], len);
      else
        detail::flat(Y + row * len, len).setConstant(X[off[0]]);
    });
  return detail::emit(t, out, op, {x.id()});
}

/// The entries of x at positions `index` (a 1-D list) along `dim`: the output has x's shape
/// with that dimension replaced by index.numel(); gradients scatter-add.
/// Example: `index_select(x, 0, rows)` picks rows; `index_select(table, 0, token_ids)` is an
/// embedding lookup.
template <typename T>
inline Var<T> index_select(const Var<T>& x, int dim, const Tensor<Index>& index) {
  const Shape& s = x.shape();
  const int ax = detail::normalize_axis("index_select", dim, s);
  if (index.rank() > 1)
    throw std::invalid_argument("index_select: index of shape " + index.shape().str() +
                                " must be 1-D (for input " + s.str() + ")");
  Tape<T>& t = x.tape();
  const Index* idx = detail::store_indices(t, index, s.at(ax), "index_select", s, dim);
  Index outer, len, inner;
  detail::axis_split(s, ax, outer, len, inner);
  const Index K = index.numel();
  Shape so = s;
  so.set(ax, K);
  const int out = detail::make_output(t, so, x.requires_grad());
  T* Y = t.value(out);
  const T* X = x.data();
  for (Index o = 0; o < outer; ++o)
    for (Index k = 0; k < K; ++k)
      if (inner)
        std::memcpy(Y + (o * K + k) * inner, X + (o * len + idx[k]) * inner, sizeof(T) * inner);
  return detail::emit(t, out, detail::IndexSelectOp<T>{outer, len, inner, K, idx}, {x.id()});
}

/// Rows of x [R, C] picked by `index` (values in [0, R)), giving [K, C] (index_select along 0).
/// Example (embedding lookup): `auto e = gather_rows(table, token_ids);`
template <typename T>
inline Var<T> gather_rows(const Var<T>& x, const Tensor<Index>& index) {
  if (x.shape().rank() != 2)
    throw std::invalid_argument("gather_rows: expected a [R, C] input, got " + x.shape().str());
  Tensor<Index> flat_index = index;
  if (index.rank() != 1) flat_index.reshape_(Shape{index.numel()});
  return index_select(x, 0, flat_index);
}

/// torch::gather: out[i][j][k] = x[i][index[i][j][k]][k] for dim 1 (likewise for any rank ≤ 4
/// and axis). `index` has x's rank, and its size along every other axis is at most x's; the
/// output has index's shape. Gradients scatter-add.
/// Example: the log-probability of each label, `gather(log_softmax(z, 1), 1, labels_column)`.
template <typename T>
inline Var<T> gather(const Var<T>& x, int dim, const Tensor<Index>& index) {
  const Shape& s = x.shape();
  const int ax = detail::normalize_axis("gather", dim, s);
  const Shape& si = index.shape();
  bool ok = si.rank() == s.rank();
  for (int d = 0; ok && d < s.rank(); ++d) ok = d == ax || si.at(d) <= s.at(d);
  if (!ok)
    throw std::invalid_argument(detail::shapes_msg(
        "gather", s, si,
        ("index must have the input's rank and fit it on every axis but " + std::to_string(dim))
            .c_str()));
  Tape<T>& t = x.tape();
  const Index* idx = detail::store_indices(t, index, s.at(ax), "gather", s, dim);
  const int out = detail::make_output(t, si, x.requires_grad());
  detail::GatherOp<T> op;
  op.axis = ax;
  const auto st = s.strides();
  for (int d = 0; d < 4; ++d) op.in_strides[d] = d < s.rank() ? st[static_cast<std::size_t>(d)] : 0;
  op.index = idx;
  T* Y = t.value(out);
  const T* X = x.data();
  if (si.numel() > 0)
    detail::GatherOp<T>::walk(si, ax, op.in_strides, idx,
                              [&](Index o, Index off) { Y[o] = X[off]; });
  return detail::emit(t, out, op, {x.id()});
}

}  // namespace autograd
using autograd::cat;
using autograd::chunk;
using autograd::concat;
using autograd::expand;
using autograd::flatten;
using autograd::gather;
using autograd::gather_rows;
using autograd::index_select;
using autograd::narrow;
using autograd::permute;
using autograd::reshape;
using autograd::split;
using autograd::squeeze;
using autograd::stack;
using autograd::transpose;
using autograd::unsqueeze;
using autograd::view;
}  // namespace onestone
