#pragma once
/// @file linear.hpp
/// `Linear<T>`: the fully connected layer y = x·Wᵀ + b.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <mutex>

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
  /// Keep a transposed copy of the weight for batch-1 inference (default off): a single row
  /// then multiplies W [in, out] (rows of W streamed into vector accumulators) instead of
  /// taking dot products along W's rows. The copy costs the weight's memory again and is
  /// rebuilt, thread-safely, whenever the weight's `Parameter::version()` moves. Whether it is
  /// faster depends on the machine: on the 2-core AMD EPYC test machine (1 MB L2 per core) it
  /// was not (784→256→256 at batch 1: 15–20 µs with it, 13–14 µs without), so measure first.
  LinearOptions& inference_cache(bool on) {
    inference_cache_ = on;
    return *this;
  }
  Index in_, out_;
  bool bias_ = true;
  Init init_ = Init::Default;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
  bool inference_cache_ = false;
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
  explicit Linear(const LinearOptions& opt) : options_(opt) {
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
  Var<T> forward(const Var<T>& x) override {
    autograd::Tape<T>& t = x.tape();
    if (options_.inference_cache_ && !autograd::is_grad_enabled() && x.shape().rank() >= 1 &&
        x.shape().cols() == options_.in_ && x.numel() == options_.in_)
      return forward_one_row(x);
    return bias_ ? linear(x, weight_->var(t), bias_->var(t)) : linear(x, weight_->var(t));
  }
  std::string name() const override {
    return "Linear(" + std::to_string(options_.in_) + ", " + std::to_string(options_.out_) + ")";
  }
  Parameter<T>& weight() { return *weight_; }
  Parameter<T>* bias() { return bias_; }
  const LinearOptions& options() const { return options_; }

 private:
  // One row without a graph: y = x·Wᵀ + b as a matrix-vector product with the transposed copy
  // (rebuilt under a lock when the weight's version moved; concurrent callers then only read).
  Var<T> forward_one_row(const Var<T>& x) const {
    const Index in = options_.in_, out = options_.out_;
    const std::uint64_t v = weight_->version();
    if (wt_version_.load(std::memory_order_acquire) != v) {
      std::lock_guard<std::mutex> lock(wt_mutex_);
      if (wt_version_.load(std::memory_order_relaxed) != v) {
        if (wt_.numel() != in * out) wt_ = Tensor<T>({in, out});
        const T* w = static_cast<const Parameter<T>*>(weight_)->value().data();
        for (Index o = 0; o < out; ++o)
          for (Index i = 0; i < in; ++i) wt_.data()[i * out + o] = w[o * in + i];
        wt_version_.store(v, std::memory_order_release);
      }
    }
    autograd::Tape<T>& t = x.tape();
    Shape so = x.shape();
    so.set(so.rank() - 1, out);
    const int id = autograd::detail::make_output(t, so, false);
    T* y = t.value(id);
    const Parameter<T>* b = bias_;
    if (b) std::copy(b->value().data(), b->value().data() + out, y);
    autograd::detail::gemm<T>(1, out, in, x.data(), in, false, wt_.data(), out, false, y, out,
                              b != nullptr);
    return Var<T>(&t, id);
  }

  LinearOptions options_;
  Parameter<T>* weight_ = nullptr;
  Parameter<T>* bias_ = nullptr;
  mutable Tensor<T> wt_;
  mutable std::atomic<std::uint64_t> wt_version_{~std::uint64_t(0)};
  mutable std::mutex wt_mutex_;
};
ONESTONE_EXTERN_CLASS(NN, Linear)

}  // namespace nn
}  // namespace onestone
