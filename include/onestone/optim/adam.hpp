#pragma once
/// @file adam.hpp
/// `Adam<T>` and `AdamW<T>`: one fused pass over each parameter per step.

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "onestone/config.hpp"
#include "onestone/optim/optimizer.hpp"
#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace optim {

/// Options of `Adam` / `AdamW`.
///
/// Example: `AdamOptions(1e-3).betas(0.9, 0.999).eps(1e-8).weight_decay(0.01)`
struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  AdamOptions& betas(double b1, double b2) {
    beta1_ = b1;
    beta2_ = b2;
    return *this;
  }
  AdamOptions& eps(double e) {
    eps_ = e;
    return *this;
  }
  AdamOptions& weight_decay(double wd) {
    weight_decay_ = wd;
    return *this;
  }
  double lr_, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8, weight_decay_ = 0;
};

/// Adam (Kingma & Ba 2015) with PyTorch's update:
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε).
/// Weight decay adds wd·p to g (L2); `AdamW` decays the weights directly instead.
///
/// Example: `onestone::optim::Adam<float> opt(model.parameters(), AdamOptions(1e-3));`
template <typename T>
class Adam : public Optimizer<T> {
 public:
  Adam(std::vector<nn::Parameter<T>*> params, const AdamOptions& opt = AdamOptions(),
       bool decoupled = false);
  void step() override;
  std::string name() const override { return decoupled_ ? "AdamW" : "Adam"; }
  /// Models with at least this many trainable scalars are updated by all threads.
  static constexpr Index kParallelElements = Index(1) << 16;
  std::vector<std::pair<std::string, Tensor<T>*>> state_tensors() override;
  const AdamOptions& options() const { return opt_; }

 private:
  AdamOptions opt_;
  bool decoupled_;
  std::vector<Tensor<T>> m_, v_;
};

template <typename T>
Adam<T>::Adam(std::vector<nn::Parameter<T>*> params, const AdamOptions& opt, bool decoupled)
    : Optimizer<T>(std::move(params), opt.lr_), opt_(opt), decoupled_(decoupled) {
  if (!(opt.beta1_ >= 0 && opt.beta1_ < 1 && opt.beta2_ >= 0 && opt.beta2_ < 1))
    throw std::invalid_argument("Adam: betas must be in [0, 1)");
  if (!(opt.eps_ >= 0)) throw std::invalid_argument("Adam: eps must be >= 0");
  for (auto* p : this->params_) {
    m_.emplace_back(p->shape());
    v_.emplace_back(p->shape());
  }
}

template <typename T>
void Adam<T>::step() {
  const double t = static_cast<double>(this->steps_ + 1);
  const double bc1 = 1.0 - std::pow(opt_.beta1_, t);
  const double bc2 = 1.0 - std::pow(opt_.beta2_, t);
  // 1 − β is formed in double and rounded once (as PyTorch passes it), not from the rounded β:
  // in float, T(1) − T(0.999) is 1.00017e-3, a 1.7e-4 relative error in every update of v.
  const T b1 = static_cast<T>(opt_.beta1_), b2 = static_cast<T>(opt_.beta2_);
  const T omb1 = static_cast<T>(1.0 - opt_.beta1_), omb2 = static_cast<T>(1.0 - opt_.beta2_);
  const T step_size = static_cast<T>(this->lr_ / bc1);
  const T sqrt_bc2 = static_cast<T>(std::sqrt(bc2));
  const T eps = static_cast<T>(opt_.eps_);
  const T wd = static_cast<T>(opt_.weight_decay_);
  // Decoupled decay as p − (lr·wd)·p: the small product is rounded once, where 1 − lr·wd in
  // float would carry a relative error of up to 1e-3 in the decay itself.
  const T lr_wd = static_cast<T>(this->lr_ * opt_.weight_decay_);
  using A = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
  using CA = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
  // Elements [i0, i0 + len) of parameter k, in chunks small enough to stay in L1 while the
  // three updates run over them; each update is one vectorized Eigen expression.
  auto update = [&](std::size_t k, Index i0, Index len) {
    constexpr Index kChunk = 1024;
    nn::Parameter<T>& p = *this->params_[k];
    for (const Index end = i0 + len; i0 < end; i0 += kChunk) {
      const Index n = std::min(kChunk, end - i0);
      A w(p.value().data() + i0, n);
      CA g(p.grad().data() + i0, n);
      A m(m_[k].data() + i0, n);
      A v(v_[k].data() + i0, n);
      if (decoupled_) {
        m = b1 * m + omb1 * g;
        v = b2 * v + omb2 * g.square();
        w = w - lr_wd * w - step_size * m / (v.sqrt() / sqrt_bc2 + eps);
      } else if (wd != T(0)) {
        m = b1 * m + omb1 * (g + wd * w);
        v = b2 * v + omb2 * (g + wd * w).square();
        w -= step_size * m / (v.sqrt() / sqrt_bc2 + eps);
      } else {
        m = b1 * m + omb1 * g;
        v = b2 * v + omb2 * g.square();
        w -= step_size * m / (v.sqrt() / sqrt_bc2 + eps);
      }
    }
  };
  Index total = 0;
  for (std::size_t k = 0; k < this->params_.size(); ++k) {
    if (!this->params_[k]->requires_grad()) continue;
    this->check_state_size(k, m_[k]);
    total += this->params_[k]->numel();
  }
  // The update is element-wise, so splitting it across threads changes no result: each thread
  // takes one contiguous range of all the elements (large models only).
  auto range = [&](Index lo, Index hi) {
    Index offset = 0;
    for (std::size_t k = 0; k < this->params_.size() && offset < hi; ++k) {
      if (!this->params_[k]->requires_grad()) continue;
      const Index n = this->params_[k]->numel();
      const Index a = std::max(lo, offset), b = std::min(hi, offset + n);
      if (a < b) update(k, a - offset, b - a);
      offset += n;
    }
  };
  onestone::detail::parallel_ranges(total, kParallelElements, range);
  this->finish_step();
}

template <typename T>
std::vector<std::pair<std::string, Tensor<T>*>> Adam<T>::state_tensors() {
  std::vector<std::pair<std::string, Tensor<T>*>> out;
  for (std::size_t k = 0; k < m_.size(); ++k) {
    out.emplace_back("exp_avg." + std::to_string(k), &m_[k]);
    out.emplace_back("exp_avg_sq." + std::to_string(k), &v_[k]);
  }
  return out;
}
ONESTONE_EXTERN_CLASS(OPTIM, Adam)

/// AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay p ← p·(1 − lr·wd).
/// PyTorch's default weight decay for AdamW is 0.01; pass it in the options.
///
/// Example: `AdamW<float> opt(model.parameters(), AdamOptions(1e-3).weight_decay(0.01));`
template <typename T>
class AdamW : public Adam<T> {
 public:
  AdamW(std::vector<nn::Parameter<T>*> params,
        const AdamOptions& opt = AdamOptions().weight_decay(0.01))
      : Adam<T>(std::move(params), opt, true) {}
};
ONESTONE_EXTERN_CLASS(OPTIM, AdamW)

}  // namespace optim
}  // namespace onestone
