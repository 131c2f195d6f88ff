#pragma once
/// @file batch_norm.hpp
/// `BatchNorm1d<T>`, `BatchNorm2d<T>`: batch normalisation layers with running statistics, as
/// libtorch's `torch::nn::BatchNorm1d` / `BatchNorm2d`.

#include <stdexcept>
#include <string>

#include "onestone/autograd/ops/batch_norm.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// Options of the batch normalisation layers: number of features (channels), eps, momentum of
/// the running statistics, learned affine weight and bias, and whether running statistics are
/// kept (without them the batch's statistics are used in evaluation mode too). PyTorch's
/// `momentum=None` (a cumulative average) is not offered.
///
/// Example: `BatchNormOptions(64).momentum(0.01).affine(false)`
struct BatchNormOptions {
  explicit BatchNormOptions(Index num_features) : num_features_(num_features) {}
  BatchNormOptions& eps(double e) {
    eps_ = e;
    return *this;
  }
  BatchNormOptions& momentum(double m) {
    momentum_ = m;
    return *this;
  }
  BatchNormOptions& affine(bool on) {
    affine_ = on;
    return *this;
  }
  BatchNormOptions& track_running_stats(bool on) {
    track_running_stats_ = on;
    return *this;
  }
  Index num_features_;
  double eps_ = 1e-5;
  double momentum_ = 0.1;
  bool affine_ = true;
  bool track_running_stats_ = true;
};
/// libtorch's names for the same options.
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

/// What `BatchNorm1d` and `BatchNorm2d` share: parameters "weight" (ones) and "bias" (zeros)
/// when affine; buffers "running_mean" (zeros), "running_var" (ones) and
/// "num_batches_tracked" (a one-element counter) when tracking running statistics — PyTorch's
/// names, so state dicts load both ways. In training mode (`Module::is_training()`) the
/// batch's statistics normalise and the running ones are updated; in evaluation mode the
/// running ones normalise.
///
/// Example: `BatchNormBase<float> bn(BatchNormOptions(8), "BatchNorm2d", 4, 4);`
template <typename T>
class BatchNormBase : public Module<T> {
 public:
  /// A layer named `type` accepting inputs of rank min_rank..max_rank.
  BatchNormBase(const BatchNormOptions& opt, const char* type, int min_rank, int max_rank);
  Var<T> forward(const Var<T>& x) override;
  std::string name() const override {
    return type_ + "(" + std::to_string(options_.num_features_) + ")";
  }
  const BatchNormOptions& options() const { return options_; }
  /// The affine parameters (null when `affine(false)`).
  Parameter<T>* weight() { return weight_; }
  Parameter<T>* bias() { return bias_; }
  /// The running statistics (null when `track_running_stats(false)`).
  Tensor<T>* running_mean() { return running_mean_; }
  Tensor<T>* running_var() { return running_var_; }
  Tensor<T>* num_batches_tracked() { return num_batches_tracked_; }
  /// Running mean 0, running variance 1, counter 0 (as PyTorch's `reset_running_stats`).
  void reset_running_stats() {
    if (!running_mean_) return;
    running_mean_->zero_();
    running_var_->fill(T(1));
    num_batches_tracked_->zero_();
  }

 private:
  std::string expected() const { return min_rank_ == 4 ? "[N, C, H, W]" : "[N, C] or [N, C, L]"; }
  BatchNormOptions options_;
  std::string type_;
  int min_rank_, max_rank_;
  Parameter<T>* weight_ = nullptr;
  Parameter<T>* bias_ = nullptr;
  Tensor<T>* running_mean_ = nullptr;
  Tensor<T>* running_var_ = nullptr;
  Tensor<T>* num_batches_tracked_ = nullptr;
};

template <typename T>
BatchNormBase<T>::BatchNormBase(const BatchNormOptions& opt, const char* type, int min_rank,
                                int max_rank)
    : options_(opt), type_(type), min_rank_(min_rank), max_rank_(max_rank) {
  if (opt.num_features_ <= 0 || !(opt.eps_ >= 0.0) ||
      !(opt.momentum_ >= 0.0 && opt.momentum_ <= 1.0))
    throw std::invalid_argument(std::string(type) +
                                ": num_features must be positive, eps >= 0 and momentum in "
                                "[0, 1] (got num_features " +
                                std::to_string(opt.num_features_) + ", eps " +
                                std::to_string(opt.eps_) + ", momentum " +
                                std::to_string(opt.momentum_) + ")");
  const Shape c{opt.num_features_};
  if (opt.affine_) {
    weight_ = &this->register_parameter("weight", Tensor<T>::ones(c));
    bias_ = &this->register_parameter("bias", Tensor<T>::zeros(c));
  }
  if (opt.track_running_stats_) {
    running_mean_ = &this->register_buffer("running_mean", Tensor<T>::zeros(c));
    running_var_ = &this->register_buffer("running_var", Tensor<T>::ones(c));
    num_batches_tracked_ = &this->register_buffer("num_batches_tracked", Tensor<T>(Shape{}));
  }
}

template <typename T>
Var<T> BatchNormBase<T>::forward(const Var<T>& x) {
  const Shape& s = x.shape();
  if (s.rank() < min_rank_ || s.rank() > max_rank_ || s[1] != options_.num_features_)
    throw std::invalid_argument(type_ + ": expected input " + expected() + " with C = " +
                                std::to_string(options_.num_features_) + ", got " + s.str());
  autograd::Tape<T>& t = x.tape();
  const bool training = this->is_training();
  Var<T> y =
      autograd::batch_norm(x, running_mean_, running_var_, weight_ ? weight_->var(t) : Var<T>(),
                           bias_ ? bias_->var(t) : Var<T>(), training || !running_mean_,
                           options_.momentum_, options_.eps_);
  if (training && num_batches_tracked_) (*num_batches_tracked_)[0] += T(1);
  return y;
}
ONESTONE_EXTERN_CLASS(NN, BatchNormBase)

/// Batch normalisation of [N, C] or [N, C, L] inputs over N (and L), per channel C.
///
/// Example:
/// @code
/// onestone::nn::BatchNorm1d<float> bn(onestone::nn::BatchNormOptions(32));
/// auto y = bn.forward(x);   // x: [batch, 32]; bn.eval() switches to the running statistics
/// @endcode
template <typename T>
class BatchNorm1d : public BatchNormBase<T> {
 public:
  explicit BatchNorm1d(const BatchNormOptions& opt) : BatchNormBase<T>(opt, "BatchNorm1d", 2, 3) {}
  explicit BatchNorm1d(Index num_features) : BatchNorm1d(BatchNormOptions(num_features)) {}
};
ONESTONE_EXTERN_CLASS(NN, BatchNorm1d)

/// Batch normalisation of [N, C, H, W] inputs over N, H and W, per channel C.
///
/// Example:
/// @code
/// onestone::nn::BatchNorm2d<float> bn(onestone::nn::BatchNormOptions(16));
/// auto y = bn.forward(x);   // x: [batch, 16, H, W]
/// @endcode
template <typename T>
class BatchNorm2d : public BatchNormBase<T> {
 public:
  explicit BatchNorm2d(const BatchNormOptions& opt) : BatchNormBase<T>(opt, "BatchNorm2d", 4, 4) {}
  explicit BatchNorm2d(Index num_features) : BatchNorm2d(BatchNormOptions(num_features)) {}
};
ONESTONE_EXTERN_CLASS(NN, BatchNorm2d)

}  // namespace nn
}  // namespace onestone
