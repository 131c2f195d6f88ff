#pragma once
/// @file extra_state.hpp
/// `ExtraState`: the named non-parameter state of a module (histories, moving averages,
/// counters, random generators), what a checkpoint needs besides the parameters.

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone {
namespace nn {

/// Named non-parameter state of one module, in the manner of PyTorch's
/// `get_extra_state()` / `set_extra_state()`: what a module must carry across a checkpoint so
/// that training resumes bit for bit, although it is not a parameter (a balancing method's loss
/// history, a moving average, a step counter, a random generator, a solver's warm start).
///
/// Three kinds of entries, each under a key without '.':
/// - arrays: a matrix or vector of any size (values kept as `double`, so `float` and `double`
///   state round-trips exactly); stored row-major with its shape;
/// - integers (`std::int64_t`);
/// - generator states (`Generator::State`, all 256 bits plus the cached normal).
///
/// Readers throw `std::runtime_error` naming the owner, the key and what was expected when an
/// entry is missing, of the wrong kind or of the wrong shape.
///
/// @code
/// onestone::nn::ExtraState s("dwa");
/// s.put("history", Eigen::VectorXf::Ones(3));
/// s.put("epochs", std::int64_t{4});
/// Eigen::VectorXf h;
/// s.get("history", h, 3);                 // throws unless it holds 3 values
/// std::int64_t epochs = s.get_int("epochs");
/// @endcode
class ExtraState {
 public:
  /// A stored array: `rows` x `cols` values in row-major order.
  struct Array {
    Eigen::Index rows = 0;
    Eigen::Index cols = 0;
    std::vector<double> data;
  };

  ExtraState() = default;
  /// A state whose error messages name `owner` (e.g. the module path "balancer").
  explicit ExtraState(std::string owner) : owner_(std::move(owner)) {}

  const std::string& owner() const noexcept { return owner_; }
  void set_owner(std::string owner) { owner_ = std::move(owner); }

  /// Stores a matrix or vector under `key` (replacing any entry of that key).
  template <typename Derived>
  void put(const std::string& key, const Eigen::DenseBase<Derived>& m) {
    check_key(key);
    Array a;
    a.rows = m.rows();
    a.cols = m.cols();
    a.data.resize(static_cast<std::size_t>(a.rows * a.cols));
    for (Eigen::Index r = 0; r < a.rows; ++r)
      for (Eigen::Index c = 0; c < a.cols; ++c)
        a.data[static_cast<std::size_t>(r * a.cols + c)] = static_cast<double>(m(r, c));
    erase(key);
    arrays_[key] = std::move(a);
  }
  /// Stores an array given directly (used by checkpoint readers).
  void put_array(const std::string& key, Array a);
  /// Stores an integer under `key`.
  void put(const std::string& key, std::int64_t v) {
    check_key(key);
    erase(key);
    ints_[key] = v;
  }
  /// Stores the full state of `g` under `key`.
  void put(const std::string& key, const Generator& g) { put(key, g.state()); }
  /// Stores a generator state under `key`.
  void put(const std::string& key, const Generator::State& st) {
    check_key(key);
    erase(key);
    generators_[key] = st;
  }

  /// Reads the array `key` into `out` (resized), checking its shape: `rows`/`cols` of -1 accept
  /// any size. A vector (compile-time one column) accepts an array of one column only.
  template <typename Scalar, int R, int C, int O, int MR, int MC>
  void get(const std::string& key, Eigen::Matrix<Scalar, R, C, O, MR, MC>& out,
           Eigen::Index rows = -1, Eigen::Index cols = -1) const {
    if (C == 1) cols = 1;
    const Array& a = array(key);
    if ((rows >= 0 && a.rows != rows) || (cols >= 0 && a.cols != cols))
      throw std::runtime_error(where(key) + ": array of shape " + shape_str(a.rows, a.cols) +
                               ", expected " + shape_str(rows, cols));
    out.resize(a.rows, a.cols);
    for (Eigen::Index r = 0; r < a.rows; ++r)
      for (Eigen::Index c = 0; c < a.cols; ++c)
        out(r, c) = static_cast<Scalar>(a.data[static_cast<std::size_t>(r * a.cols + c)]);
  }
  /// The array `key` as stored.
  const Array& array(const std::string& key) const {
    const auto it = arrays_.find(key);
    if (it == arrays_.end()) throw missing(key, "an array");
    return it->second;
  }
  /// The integer `key`.
  std::int64_t get_int(const std::string& key) const {
    const auto it = ints_.find(key);
    if (it == ints_.end()) throw missing(key, "an integer");
    return it->second;
  }
  /// The integer `key`, checked to lie in [lo, hi].
  std::int64_t get_int(const std::string& key, std::int64_t lo, std::int64_t hi) const;
  /// The generator state `key`.
  Generator::State get_generator(const std::string& key) const {
    const auto it = generators_.find(key);
    if (it == generators_.end()) throw missing(key, "a generator state");
    return it->second;
  }

  bool contains(const std::string& key) const {
    return arrays_.count(key) || ints_.count(key) || generators_.count(key);
  }
  bool empty() const noexcept { return arrays_.empty() && ints_.empty() && generators_.empty(); }
  const std::map<std::string, Array>& arrays() const noexcept { return arrays_; }
  const std::map<std::string, std::int64_t>& ints() const noexcept { return ints_; }
  const std::map<std::string, Generator::State>& generators() const noexcept { return generators_; }

 private:
  std::string where(const std::string& key) const {
    return "extra state '" + key + "'" + (owner_.empty() ? "" : " of '" + owner_ + "'");
  }
  std::runtime_error missing(const std::string& key, const char* kind) const {
    return std::runtime_error(where(key) + " is missing (expected " + kind + ")");
  }
  static std::string shape_str(Eigen::Index r, Eigen::Index c) {
    return (r < 0 ? std::string("any") : std::to_string(r)) + "x" +
           (c < 0 ? std::string("any") : std::to_string(c));
  }
  void check_key(const std::string& key) const {
    if (key.empty() || key.find('.') != std::string::npos)
      throw std::invalid_argument("ExtraState" + (owner_.empty() ? "" : " of '" + owner_ + "'") +
                                  ": invalid key '" + key + "' (empty or contains '.')");
  }
  void erase(const std::string& key) {
    arrays_.erase(key);
    ints_.erase(key);
    generators_.erase(key);
  }

  std::string owner_;
  std::map<std::string, Array> arrays_;
  std::map<std::string, std::int64_t> ints_;
  std::map<std::string, Generator::State> generators_;
};

#if ONESTONE_DEFINE_FUNCTIONS
ONESTONE_FUNC void ExtraState::put_array(const std::string& key, Array a) {
  check_key(key);
  if (a.rows < 0 || a.cols < 0 || static_cast<std::size_t>(a.rows * a.cols) != a.data.size())
    throw std::invalid_argument(where(key) + ": array of shape " + std::to_string(a.rows) + "x" +
                                std::to_string(a.cols) + " with " + std::to_string(a.data.size()) +
                                " values");
  erase(key);
  arrays_[key] = std::move(a);
}

ONESTONE_FUNC std::int64_t ExtraState::get_int(const std::string& key, std::int64_t lo,
                                               std::int64_t hi) const {
  const std::int64_t v = get_int(key);
  if (v < lo || v > hi)
    throw std::runtime_error(where(key) + ": " + std::to_string(v) + " is outside [" +
                             std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}
#endif  // ONESTONE_DEFINE_FUNCTIONS

}  // namespace nn
}  // namespace onestone
