#pragma once
/// @file sgd.hpp
/// `SGD<T>`: stochastic gradient descent with momentum, Nesterov momentum and weight decay.

#include "onestone/config.hpp"
#include "onestone/optim/optimizer.hpp"

namespace onestone {
namespace optim {

/// Options of `SGD` (PyTorch's semantics).
///
/// Example: `SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(5e-4)`
struct SGDOptions {
  explicit SGDOptions(double lr) : lr_(lr) {}
  SGDOptions& momentum(double m) {
    momentum_ = m;
    return *this;
  }
  SGDOptions& dampening(double d) {
    dampening_ = d;
    return *this;
  }
  SGDOptions& nesterov(bool on) {
    nesterov_ = on;
    return *this;
  }
  SGDOptions& weight_decay(double wd) {
    weight_decay_ = wd;
    return *this;
  }
  double lr_, momentum_ = 0, dampening_ = 0, weight_decay_ = 0;
  bool nesterov_ = false;
};

/// SGD: d = g + wd·p; with momentum μ: b = μ·b + (1 − dampening)·d (b = d at the first step),
/// d = d + μ·b (Nesterov) or d = b; then p ← p − lr·d.
///
/// Example: `onestone::optim::SGD<float> opt(model.parameters(), SGDOptions(0.1).momentum(0.9));`
template <typename T>
class SGD : public Optimizer<T> {
 public:
  SGD(std::vector<nn::Parameter<T>*> params, const SGDOptions& opt)
      : Optimizer<T>(std::move(params), opt.lr_), opt_(opt) {
    if (opt.nesterov_ && (opt.momentum_ <= 0 || opt.dampening_ != 0))
      throw std::invalid_argument("SGD: Nesterov momentum needs momentum > 0 and dampening 0");
    if (opt.momentum_ != 0)
      for (auto* p : this->params_) buf_.emplace_back(p->shape());
  }
  void step() override;
  std::string name() const override { return "SGD"; }
  std::vector<std::pair<std::string, Tensor<T>*>> state_tensors() override {
    std::vector<std::pair<std::string, Tensor<T>*>> out;
    for (std::size_t k = 0; k < buf_.size(); ++k)
      out.emplace_back("momentum_buffer." + std::to_string(k), &buf_[k]);
    return out;
  }

 private:
  SGDOptions opt_;
  std::vector<Tensor<T>> buf_;
};

template <typename T>
void SGD<T>::step() {
  const T lr = static_cast<T>(this->lr_), mu = static_cast<T>(opt_.momentum_),
          one_minus_damp = static_cast<T>(1.0 - opt_.dampening_),
          wd = static_cast<T>(opt_.weight_decay_);
  for (std::size_t k = 0; k < this->params_.size(); ++k) {
    nn::Parameter<T>& p = *this->params_[k];
    if (!p.requires_grad()) continue;
    T* __restrict w = p.value().data();
    const T* __restrict g = p.grad().data();
    const Index n = p.numel();
    if (mu == T(0)) {
      for (Index i = 0; i < n; ++i) w[i] -= lr * (g[i] + wd * w[i]);
      continue;
    }
    this->check_state_size(k, buf_[k]);
    T* __restrict b = buf_[k].data();
    const bool first = this->steps_ == 0;
    for (Index i = 0; i < n; ++i) {
      const T d = g[i] + wd * w[i];
      b[i] = first ? d : mu * b[i] + one_minus_damp * d;
      w[i] -= lr * (opt_.nesterov_ ? d + mu * b[i] : b[i]);
    }
  }
  this->finish_step();
}
ONESTONE_EXTERN_CLASS(OPTIM, SGD)

}  // namespace optim
}  // namespace onestone
