#pragma once
/// @file var_list.hpp
/// `VarList<T>`: a short list of variables (the pieces of `split` and `chunk`) that keeps up to
/// eight in place, so splitting a tensor in a training step allocates nothing.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/var.hpp"

namespace onestone {
namespace autograd {

/// A list of variables stored in place up to `kInline` of them (on the heap beyond).
///
/// Example:
/// @code
/// auto qkv = onestone::chunk(h, 3, -1);   // VarList of three [B, T, D]
/// auto q = qkv[0];
/// for (const auto& piece : qkv) use(piece);
/// std::vector<onestone::Var<float>> v = qkv;   // converts when a vector is needed
/// @endcode
template <typename T>
class VarList {
 public:
  static constexpr std::size_t kInline = 8;
  VarList() = default;
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  void push_back(const Var<T>& v) {
    if (size_ < kInline)
      inline_[size_] = v;
    else
      spill_.push_back(v);
    ++size_;
  }
  const Var<T>& operator[](std::size_t i) const {
    return i < kInline ? inline_[i] : spill_[i - kInline];
  }
  Var<T>& operator[](std::size_t i) { return i < kInline ? inline_[i] : spill_[i - kInline]; }
  /// Element i, bounds-checked.
  const Var<T>& at(std::size_t i) const {
    if (i >= size_)
      throw std::out_of_range("VarList::at: index " + std::to_string(i) + " of " +
                              std::to_string(size_));
    return (*this)[i];
  }
  const Var<T>& front() const { return at(0); }
  const Var<T>& back() const { return at(size_ - 1); }

  /// Iterator over the variables in order.
  class const_iterator {
   public:
    const_iterator(const VarList* l, std::size_t i) : l_(l), i_(i) {}
    const Var<T>& operator*() const { return (*l_)[i_]; }
    const Var<T>* operator->() const { return &(*l_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const const_iterator& o) const { return i_ == o.i_; }
    bool operator!=(const const_iterator& o) const { return i_ != o.i_; }

   private:
    const VarList* l_;
    std::size_t i_;
  };
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size_); }

  /// A std::vector copy (allocates).
  operator std::vector<Var<T>>() const {
    std::vector<Var<T>> v;
    v.reserve(size_);
    for (std::size_t i = 0; i < size_; ++i) v.push_back((*this)[i]);
    return v;
  }

 private:
  Var<T> inline_[kInline];
  std::vector<Var<T>> spill_;
  std::size_t size_ = 0;
};

}  // namespace autograd
using autograd::VarList;
}  // namespace onestone
