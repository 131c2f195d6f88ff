#pragma once
/// @file optimizer.hpp
/// `Optimizer<T>`: the base of SGD, Adam and AdamW.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/tape.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/parameter.hpp"

namespace onestone {
namespace optim {

/// Base of all optimizers: holds the parameters, the learning rate and the step count, and
/// per-parameter state allocated up front (so `step()` never allocates).
///
/// After `step()` the current graph is finished: it stays readable (e.g. `loss.item()`) until
/// the next operation starts a new one.
///
/// Example (the libtorch loop):
/// @code
/// optimizer.zero_grad();
/// auto loss = compute_loss();
/// loss.backward();
/// optimizer.step();
/// @endcode
template <typename T>
class Optimizer {
 public:
  Optimizer(std::vector<nn::Parameter<T>*> params, double lr)
      : params_(std::move(params)), lr_(lr) {
    if (!(lr >= 0)) throw std::invalid_argument("optimizer: learning rate must be >= 0");
    for (auto* p : params_)
      if (!p) throw std::invalid_argument("optimizer: null parameter");
  }
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Applies one update from the parameters' gradients.
  virtual void step() = 0;
  /// A short name ("Adam", "SGD", …).
  virtual std::string name() const = 0;

  /// Clears every parameter's gradient.
  void zero_grad() {
    for (auto* p : params_) p->zero_grad();
  }
  double lr() const noexcept { return lr_; }
  void set_lr(double lr) {
    if (!(lr >= 0)) throw std::invalid_argument("optimizer: learning rate must be >= 0");
    lr_ = lr;
  }
  std::int64_t step_count() const noexcept { return steps_; }
  const std::vector<nn::Parameter<T>*>& params() const noexcept { return params_; }

  /// Named state tensors (for checkpoints): e.g. "exp_avg.3" for parameter 3.
  virtual std::vector<std::pair<std::string, Tensor<T>*>> state_tensors() { return {}; }
  void set_step_count(std::int64_t s) noexcept { steps_ = s; }

 protected:
  /// Throws when parameter k changed size since the optimizer sized its state for it.
  void check_state_size(std::size_t k, const Tensor<T>& state) const;
  /// Called at the end of `step()`: counts the step and finishes the current graph.
  void finish_step() {
    ++steps_;
    autograd::Tape<T>::current().request_reset();
  }
  std::vector<nn::Parameter<T>*> params_;
  double lr_;
  std::int64_t steps_ = 0;
};

template <typename T>
void Optimizer<T>::check_state_size(std::size_t k, const Tensor<T>& state) const {
  if (state.numel() != params_[k]->numel())
    throw std::logic_error(name() + ": parameter " + std::to_string(k) + " now has " +
                           std::to_string(params_[k]->numel()) + " elements but its state has " +
                           std::to_string(state.numel()) +
                           "; create the optimizer after the model is complete");
}
ONESTONE_EXTERN_CLASS(OPTIM, Optimizer)

}  // namespace optim
}  // namespace onestone
