#pragma once
/// @file tensor.hpp
/// `Tensor<T>`: a dense, contiguous, row-major array of rank 0..4 with Eigen views.

#include <Eigen/Core>
#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "onestone/tensor/shape.hpp"

namespace onestone {

/// Row-major dynamic Eigen matrix of T (the matrix type all kernels use).
template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
/// Mutable Eigen view of contiguous row-major memory.
template <typename T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;
/// Read-only Eigen view of contiguous row-major memory.
template <typename T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;
/// Mutable Eigen view of a contiguous vector.
template <typename T>
using VectorMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>;
/// Read-only Eigen view of a contiguous vector.
template <typename T>
using ConstVectorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>;

/// A dense tensor that owns its memory: rank 0..4, contiguous, row-major, 64-byte aligned.
///
/// @tparam T element type: `float` or `double` for values, `std::int64_t` for labels and indices.
///
/// Resizing to a shape that fits the current capacity never allocates, so tensors reused across
/// training steps (batches, optimizer state) stay allocation-free after the first step.
/// Kernels see a tensor through `matrix()`, an `Eigen::Map` of `rows() x cols()`.
///
/// Example:
/// @code
/// onestone::Tensor<float> x({2, 3});       // zero-filled
/// x.matrix() << 1, 2, 3, 4, 5, 6;
/// float s = x.matrix().sum();               // 21
/// auto y = onestone::Tensor<float>::from({1.f, 2.f, 3.f}, {3});
/// @endcode
template <typename T>
class Tensor {
  static_assert(std::is_arithmetic<T>::value, "Tensor<T>: T must be an arithmetic type");

 public:
  using Scalar = T;
  using Storage = std::vector<T, Eigen::aligned_allocator<T>>;

  Tensor() = default;
  /// A zero-filled tensor of the given shape.
  explicit Tensor(const Shape& shape)
      : shape_(shape), data_(static_cast<std::size_t>(shape.numel()), T(0)) {}
  /// A zero-filled tensor, e.g. `Tensor<float>({32, 784})`.
  Tensor(std::initializer_list<Index> dims) : Tensor(Shape(dims)) {}

  /// A tensor of the given shape filled with `value`.
  static Tensor full(const Shape& shape, T value) {
    Tensor t(shape);
    std::fill(t.data_.begin(), t.data_.end(), value);
    return t;
  }
  static Tensor zeros(const Shape& shape) { return Tensor(shape); }
  static Tensor ones(const Shape& shape) { return full(shape, T(1)); }
  /// A tensor holding `values` (row-major) with the given shape; throws std::invalid_argument if
  /// the counts differ.
  static Tensor from(const std::vector<T>& values, const Shape& shape) {
    if (static_cast<Index>(values.size()) != shape.numel())
      throw std::invalid_argument("Tensor::from: " + std::to_string(values.size()) +
                                  " values do not fill shape " + shape.str());
    Tensor t(shape);
    std::copy(values.begin(), values.end(), t.data_.begin());
    return t;
  }
  static Tensor from(std::initializer_list<T> values, const Shape& shape) {
    return from(std::vector<T>(values), shape);
  }
  /// Copies `shape.numel()` values from raw memory.
  static Tensor copy_of(const T* src, const Shape& shape) {
    Tensor t(shape);
    std::copy(src, src + shape.numel(), t.data_.begin());
    return t;
  }

  const Shape& shape() const noexcept { return shape_; }
  int rank() const noexcept { return shape_.rank(); }
  /// Number of elements (0 for a default-constructed, empty tensor).
  Index numel() const noexcept { return static_cast<Index>(data_.size()); }
  Index size(int i) const { return shape_[i]; }
  Index rows() const noexcept { return shape_.rows(); }
  Index cols() const noexcept { return shape_.cols(); }
  bool empty() const noexcept { return data_.empty(); }
  /// Elements the storage can hold without reallocating.
  Index capacity() const noexcept { return static_cast<Index>(data_.capacity()); }

  T* data() noexcept { return data_.data(); }
  const T* data() const noexcept { return data_.data(); }
  T* begin() noexcept { return data_.data(); }
  T* end() noexcept { return data_.data() + data_.size(); }
  const T* begin() const noexcept { return data_.data(); }
  const T* end() const noexcept { return data_.data() + data_.size(); }

  /// Changes the shape; keeps existing capacity (no allocation when it fits). New elements are
  /// zero; existing elements keep their flat positions.
  void resize(const Shape& shape) {
    shape_ = shape;
    data_.resize(static_cast<std::size_t>(shape.numel()), T(0));
  }
  /// Reinterprets the same elements with another shape of equal element count.
  void reshape_(const Shape& shape) {
    if (shape.numel() != numel())
      throw std::invalid_argument("Tensor::reshape_: cannot view " + shape_.str() + " as " +
                                  shape.str());
    shape_ = shape;
  }
  /// A copy with another shape of equal element count.
  Tensor reshape(const Shape& shape) const {
    Tensor t = *this;
    t.reshape_(shape);
    return t;
  }
  /// Reserves room for `n` elements.
  void reserve(Index n) { data_.reserve(static_cast<std::size_t>(n)); }

  void fill(T v) noexcept { std::fill(data_.begin(), data_.end(), v); }
  void zero_() noexcept { fill(T(0)); }

  /// Flat element access with bounds checking.
  T& at(Index i) {
    check_flat(i);
    return data_[static_cast<std::size_t>(i)];
  }
  T at(Index i) const {
    check_flat(i);
    return data_[static_cast<std::size_t>(i)];
  }
  /// Element (r, c) of the matrix view, bounds-checked.
  T& at(Index r, Index c) { return at(checked_rc(r, c)); }
  T at(Index r, Index c) const { return at(checked_rc(r, c)); }
  /// Unchecked flat access.
  T& operator[](Index i) noexcept { return data_[static_cast<std::size_t>(i)]; }
  T operator[](Index i) const noexcept { return data_[static_cast<std::size_t>(i)]; }

  /// Row-major matrix view of `rows() x cols()`.
  MatrixMap<T> matrix() noexcept { return MatrixMap<T>(data(), rows(), cols()); }
  ConstMatrixMap<T> matrix() const noexcept { return ConstMatrixMap<T>(data(), rows(), cols()); }
  /// Flat vector view of all elements.
  VectorMap<T> vector() noexcept { return VectorMap<T>(data(), numel()); }
  ConstVectorMap<T> vector() const noexcept { return ConstVectorMap<T>(data(), numel()); }

  /// Element-wise conversion to another element type.
  template <typename U>
  Tensor<U> cast() const {
    Tensor<U> t(shape_);
    for (Index i = 0; i < numel(); ++i) t[i] = static_cast<U>((*this)[i]);
    return t;
  }

 private:
  void check_flat(Index i) const {
    if (i < 0 || i >= numel())
      throw std::out_of_range("Tensor::at: index " + std::to_string(i) + " out of range for " +
                              shape_.str());
  }
  Index checked_rc(Index r, Index c) const {
    if (r < 0 || r >= rows() || c < 0 || c >= cols())
      throw std::out_of_range("Tensor::at: (" + std::to_string(r) + ", " + std::to_string(c) +
                              ") out of range for " + shape_.str());
    return r * cols() + c;
  }

  Shape shape_;
  Storage data_;
};

}  // namespace onestone
