#pragma once
/// @file linear.hpp
/// `Linear<T>`: the fully connected layer y = x·Wᵀ + b.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <mutex>

#include "onestone/autograd/detail/gemv_packed.hpp"
#include "onestone/autograd/ops/linalg.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/init.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// Options of `Linear`: sizes, bias on/off, initialisation, and an optional seed.
///
/// Example: `LinearOptions(784, 256).bias(false).init(Init::XavierUniform).seed(7)`
struct LinearOptions {
  LinearOptions(Index in_features, Index out_features) : in_(in_features), out_(out_features) {}
  LinearOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  LinearOptions& init(Init scheme) {
    init_ = scheme;
    return *this;
  }
  /// Draw the initial values from a generator seeded with `s` instead of the thread's default.
  LinearOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  /// Keep a packed copy of the weight for batch-1 inference (default on): a single row without
  /// gradients (`MultiTaskModel::predict`, or any forward under `NoGradGuard`) then multiplies
  /// the weight stored in blocks of 4 rows, each block one contiguous stream (see
  /// `autograd::detail::PackedRows`), split by rows across persistent worker threads when
  /// `get_num_threads()` > 1 and the product is large enough. Same bits as without it. The copy
  /// is made at the first such call, costs the weight's memory again, and is rebuilt,
  /// thread-safely, whenever the weight's `Parameter::version()` moves (an optimizer step,
  /// `set_value`, a write through the non-const `value()`). Off: batch-1 inference uses the
  /// ordinary product (no copy). With `ONESTONE_GEMM=eigen` there is no packed path.
  LinearOptions& inference_cache(bool on) {
    inference_cache_ = on;
    return *this;
  }
  Index in_, out_;
  bool bias_ = true;
  Init init_ = Init::Default;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
  bool inference_cache_ = true;
};

/// Fully connected layer: y = x·Wᵀ + b with W [out, in] ("weight") and b [out] ("bias").
/// The bias starts in U(−1/√in, 1/√in) as in PyTorch; the weight follows `LinearOptions::init`.
///
/// Example:
/// @code
/// onestone::nn::Linear<float> fc(onestone::nn::LinearOptions(784, 256));
/// auto y = fc.forward(x);   // x: [batch, 784] -> y: [batch, 256]
/// @endcode
template <typename T>
class Linear : public Module<T> {
 public:
  explicit Linear(const LinearOptions& opt);
  Var<T> forward(const Var<T>& x) override;
  std::string name() const override {
    return "Linear(" + std::to_string(options_.in_) + ", " + std::to_string(options_.out_) + ")";
  }
  Parameter<T>& weight() { return *weight_; }
  Parameter<T>* bias() { return bias_; }
  const LinearOptions& options() const { return options_; }
  /// Whether the packed batch-1 copy of the weight exists now (it is made at the first batch-1
  /// forward without gradients; see `LinearOptions::inference_cache`).
  bool has_inference_cache() const {
    std::lock_guard<std::mutex> lock(packed_mutex_);
    return !packed_.empty();
  }
  /// Turns the packed batch-1 copy of the weight on or off (`LinearOptions::inference_cache`),
  /// e.g. for the layers of an `MLP`; off drops the copy. Not while other threads use the layer.
  void set_inference_cache(bool on);

 private:
  // The packed weight for the current weight version and instruction set, rebuilt under a lock
  // when either moved (concurrent callers then only read it); null without a packed kernel.
  const autograd::detail::PackedRows<T>* packed_weight() const;
  // One row without a graph: y = W·x + b with the packed weight.
  Var<T> forward_one_row(const Var<T>& x, const autograd::detail::PackedRows<T>& packed) const;

  LinearOptions options_;
  Parameter<T>* weight_ = nullptr;
  Parameter<T>* bias_ = nullptr;
  mutable autograd::detail::PackedRows<T> packed_;
  mutable std::atomic<std::uint64_t> packed_key_{~std::uint64_t(0)};
  mutable std::mutex packed_mutex_;
};

template <typename T>
Linear<T>::Linear(const LinearOptions& opt) : options_(opt) {
  if (opt.in_ <= 0 || opt.out_ <= 0)
    throw std::invalid_argument("Linear: sizes must be positive, got in=" +
                                std::to_string(opt.in_) + " out=" + std::to_string(opt.out_));
  Generator local(opt.seed_);
  Generator& gen = opt.has_seed_ ? local : default_generator();
  Tensor<T> w({opt.out_, opt.in_});
  init::apply(opt.init_, w, gen);
  weight_ = &this->register_parameter("weight", std::move(w));
  if (opt.bias_) {
    Tensor<T> b({opt.out_});
    const double bound = 1.0 / std::sqrt(static_cast<double>(opt.in_));
    init::uniform_(b, -bound, bound, gen);
    bias_ = &this->register_parameter("bias", std::move(b));
  }
}

template <typename T>
Var<T> Linear<T>::forward(const Var<T>& x) {
  autograd::Tape<T>& t = x.tape();
  if (options_.inference_cache_ && !autograd::is_grad_enabled() && x.shape().rank() >= 1 &&
      x.numel() == x.shape().cols())
    if (const autograd::detail::PackedRows<T>* packed = packed_weight())
      if (packed->cols() == x.numel() && (!bias_ || bias_->numel() == packed->rows()))
        return forward_one_row(x, *packed);
  return bias_ ? linear(x, weight_->var(t), bias_->var(t)) : linear(x, weight_->var(t));
}

template <typename T>
void Linear<T>::set_inference_cache(bool on) {
  std::lock_guard<std::mutex> lock(packed_mutex_);
  options_.inference_cache_ = on;
  if (!on) {
    packed_.clear();
    packed_key_.store(~std::uint64_t(0), std::memory_order_release);
  }
}

template <typename T>
const autograd::detail::PackedRows<T>* Linear<T>::packed_weight() const {
  const autograd::detail::GemmIsa isa = autograd::detail::gemm_isa_setting();
  if (isa == autograd::detail::GemmIsa::Eigen) return nullptr;
  const std::uint64_t key = (weight_->version() << 2) | static_cast<std::uint64_t>(isa);
  if (packed_key_.load(std::memory_order_acquire) != key) {
    std::lock_guard<std::mutex> lock(packed_mutex_);
    if (packed_key_.load(std::memory_order_relaxed) != key) {
      const Tensor<T>& w = static_cast<const Parameter<T>*>(weight_)->value();
      if (w.shape().rank() != 2 || !packed_.pack(w.data(), w.shape()[0], w.shape()[1], isa))
        return nullptr;
      packed_key_.store(key, std::memory_order_release);
    }
  }
  return &packed_;
}

template <typename T>
Var<T> Linear<T>::forward_one_row(const Var<T>& x,
                                  const autograd::detail::PackedRows<T>& packed) const {
  autograd::Tape<T>& t = x.tape();
  Shape so = x.shape();
  so.set(so.rank() - 1, packed.rows());
  const int id = autograd::detail::make_output(t, so, false);
  const Parameter<T>* b = bias_;
  packed.multiply(x.data(), b ? b->value().data() : nullptr, t.value(id), get_num_threads());
  return Var<T>(&t, id);
}
ONESTONE_EXTERN_CLASS(NN, Linear)

}  // namespace nn
}  // namespace onestone
