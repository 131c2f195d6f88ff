#pragma once
/// @file shape.hpp
/// `Shape`: the dimensions of a dense row-major tensor of rank 0 to 4.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace onestone {

/// Index type used for sizes and indices throughout onestone.
using Index = std::int64_t;

/// The dimensions of a tensor of rank 0..4 (rank 0 is a scalar with one element).
///
/// Shapes are small value types (no heap memory). A tensor of rank >= 2 is viewed by kernels as a
/// matrix of `rows()` = product of all but the last dimension and `cols()` = the last dimension.
///
/// Example: `Shape s{32, 784}; s.rows() == 32; s.cols() == 784; s.numel() == 25088;`
class Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;
  /// Builds a shape from up to four dimensions; throws std::invalid_argument on a negative
  /// dimension or a rank above 4.
  Shape(std::initializer_list<Index> dims) {
    if (dims.size() > kMaxRank)
      throw std::invalid_argument("Shape: rank " + std::to_string(dims.size()) + " exceeds 4");
    for (Index d : dims) push_back(d);
  }

  /// Appends a dimension (used to build shapes programmatically).
  void push_back(Index d) {
    if (rank_ >= kMaxRank) throw std::invalid_argument("Shape: rank exceeds 4");
    if (d < 0) throw std::invalid_argument("Shape: negative dimension " + std::to_string(d));
    dims_[static_cast<std::size_t>(rank_++)] = d;
  }

  int rank() const noexcept { return rank_; }
  /// Dimension i; negative i counts from the end (-1 is the last dimension).
  Index operator[](int i) const {
    const int j = i < 0 ? rank_ + i : i;
    if (j < 0 || j >= rank_)
      throw std::out_of_range("Shape: dimension " + std::to_string(i) + " out of range for " +
                              str());
    return dims_[static_cast<std::size_t>(j)];
  }
  Index dim(int i) const { return (*this)[i]; }
  /// Sets dimension i (no bounds beyond rank).
  void set(int i, Index d) {
    if (i < 0 || i >= rank_ || d < 0) throw std::invalid_argument("Shape::set: bad index or size");
    dims_[static_cast<std::size_t>(i)] = d;
  }

  /// Number of elements (1 for a scalar).
  Index numel() const noexcept {
    Index n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
    return n;
  }
  /// Rows of the matrix view: product of all dimensions but the last (1 for rank <= 1).
  Index rows() const noexcept {
    if (rank_ <= 1) return 1;
    Index n = 1;
    for (int i = 0; i + 1 < rank_; ++i) n *= dims_[static_cast<std::size_t>(i)];
    return n;
  }
  /// Columns of the matrix view: the last dimension (1 for a scalar).
  Index cols() const noexcept {
    return rank_ == 0 ? 1 : dims_[static_cast<std::size_t>(rank_ - 1)];
  }

  friend bool operator==(const Shape& a, const Shape& b) noexcept {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i)
      if (a.dims_[static_cast<std::size_t>(i)] != b.dims_[static_cast<std::size_t>(i)])
        return false;
    return true;
  }
  friend bool operator!=(const Shape& a, const Shape& b) noexcept { return !(a == b); }

  /// Human-readable form such as "[32, 784]" (allocates; for messages only).
  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) {
      if (i) s += ", ";
      s += std::to_string(dims_[static_cast<std::size_t>(i)]);
    }
    return s + "]";
  }

  /// Row-major element strides: stride(i) = product of the dimensions after i.
  std::array<Index, kMaxRank> strides() const noexcept {
    std::array<Index, kMaxRank> st{};
    Index s = 1;
    for (int i = rank_ - 1; i >= 0; --i) {
      st[static_cast<std::size_t>(i)] = s;
      s *= dims_[static_cast<std::size_t>(i)];
    }
    return st;
  }
  /// Product of dimensions [begin, end) (1 for an empty range).
  Index span(int begin, int end) const noexcept {
    Index n = 1;
    for (int i = begin; i < end; ++i) n *= dims_[static_cast<std::size_t>(i)];
    return n;
  }
  /// This shape without dimension i (0 <= i < rank).
  Shape without(int i) const {
    Shape s;
    for (int k = 0; k < rank_; ++k)
      if (k != i) s.push_back(dims_[static_cast<std::size_t>(k)]);
    return s;
  }
  /// This shape with a dimension of size d inserted before position i (0 <= i <= rank).
  Shape inserted(int i, Index d) const {
    Shape s;
    for (int k = 0; k <= rank_; ++k) {
      if (k == i) s.push_back(d);
      if (k < rank_) s.push_back(dims_[static_cast<std::size_t>(k)]);
    }
    return s;
  }
  /// Dimension i, unchecked (0 <= i < rank).
  Index at(int i) const noexcept { return dims_[static_cast<std::size_t>(i)]; }

  /// A 2-D shape {rows, cols}.
  static Shape matrix(Index rows, Index cols) { return Shape{rows, cols}; }
  /// A 1-D shape {n}.
  static Shape vector(Index n) { return Shape{n}; }
  /// A rank-0 shape (one element).
  static Shape scalar() { return Shape{}; }

 private:
  std::array<Index, kMaxRank> dims_{};
  int rank_ = 0;
};

/// The NumPy broadcast of two shapes (aligned from the right; a dimension of size 1 stretches).
/// Returns false when some aligned pair differs and neither is 1.
///
/// Example: `Shape out; broadcast_shapes(Shape{8, 1, 5}, Shape{3, 1}, out);  // out == [8, 3, 5]`
inline bool broadcast_shapes(const Shape& a, const Shape& b, Shape& out) {
  const int r = a.rank() > b.rank() ? a.rank() : b.rank();
  Shape s;
  for (int i = 0; i < r; ++i) {
    const int ia = i - (r - a.rank()), ib = i - (r - b.rank());
    const Index da = ia >= 0 ? a.at(ia) : 1, db = ib >= 0 ? b.at(ib) : 1;
    if (da != db && da != 1 && db != 1) return false;
    s.push_back(da == 1 ? db : da);
  }
  out = s;
  return true;
}

}  // namespace onestone
