#pragma once
/// @file scheduler.hpp
/// Learning-rate schedules: step decay, cosine annealing, linear warm-up.

#include <cmath>
#include <cstdint>
#include <memory>

#include "onestone/config.hpp"
#include "onestone/optim/optimizer.hpp"

namespace onestone {
namespace optim {

/// Base of learning-rate schedules: remembers the optimizer's initial rate; every `step()`
/// advances one step (or epoch: you choose when to call it) and sets the new rate.
///
/// Example:
/// @code
/// CosineAnnealingLR<float> sched(opt, /*t_max=*/100);
/// for (int epoch = 0; epoch < 100; ++epoch) { train_epoch(); sched.step(); }
/// @endcode
template <typename T>
class LRScheduler {
 public:
  explicit LRScheduler(Optimizer<T>& opt) : opt_(opt), base_lr_(opt.lr()) {}
  virtual ~LRScheduler() = default;
  /// Advances one step and applies the rate.
  void step() {
    ++count_;
    opt_.set_lr(lr_at(count_));
  }
  /// The rate the schedule gives at step `t` (t = 0 is the start).
  virtual double lr_at(std::int64_t t) const = 0;
  std::int64_t count() const noexcept { return count_; }
  /// Restores the position (checkpoints) and applies its rate.
  void set_count(std::int64_t c) {
    count_ = c;
    opt_.set_lr(lr_at(c));
  }
  double base_lr() const noexcept { return base_lr_; }

 protected:
  Optimizer<T>& opt_;
  double base_lr_;
  std::int64_t count_ = 0;
};
ONESTONE_EXTERN_CLASS(OPTIM, LRScheduler)

/// lr = base · gamma^⌊t / step_size⌋.  Example: `StepLR<float> s(opt, 30, 0.1);`
template <typename T>
class StepLR : public LRScheduler<T> {
 public:
  StepLR(Optimizer<T>& opt, std::int64_t step_size, double gamma = 0.1)
      : LRScheduler<T>(opt), step_size_(step_size), gamma_(gamma) {
    if (step_size <= 0) throw std::invalid_argument("StepLR: step_size must be positive");
  }
  double lr_at(std::int64_t t) const override {
    return this->base_lr_ * std::pow(gamma_, static_cast<double>(t / step_size_));
  }

 private:
  std::int64_t step_size_;
  double gamma_;
};
ONESTONE_EXTERN_CLASS(OPTIM, StepLR)

/// lr = η_min + (base − η_min)·(1 + cos(π·min(t, T_max)/T_max))/2.
/// Example: `CosineAnnealingLR<float> s(opt, 100, 1e-5);`
template <typename T>
class CosineAnnealingLR : public LRScheduler<T> {
 public:
  CosineAnnealingLR(Optimizer<T>& opt, std::int64_t t_max, double eta_min = 0)
      : LRScheduler<T>(opt), t_max_(t_max), eta_min_(eta_min) {
    if (t_max <= 0) throw std::invalid_argument("CosineAnnealingLR: t_max must be positive");
  }
  double lr_at(std::int64_t t) const override {
    const double tt = static_cast<double>(t < t_max_ ? t : t_max_);
    const double pi = 3.14159265358979323846;
    return eta_min_ + (this->base_lr_ - eta_min_) * 0.5 *
                          (1 + std::cos(pi * tt / static_cast<double>(t_max_)));
  }

 private:
  std::int64_t t_max_;
  double eta_min_;
};
ONESTONE_EXTERN_CLASS(OPTIM, CosineAnnealingLR)

/// Linear warm-up from start_factor·base to base over `warmup` steps; afterwards the rate of
/// `after` (a schedule over the remaining steps, built on the same optimizer), or base.
/// Example: `LinearWarmup<float> s(opt, 500, 0.01);`
template <typename T>
class LinearWarmup : public LRScheduler<T> {
 public:
  LinearWarmup(Optimizer<T>& opt, std::int64_t warmup, double start_factor = 0.0,
               std::shared_ptr<LRScheduler<T>> after = nullptr)
      : LRScheduler<T>(opt), warmup_(warmup), start_(start_factor), after_(std::move(after)) {
    if (warmup < 0) throw std::invalid_argument("LinearWarmup: warmup must be >= 0");
    opt.set_lr(lr_at(0));
  }
  double lr_at(std::int64_t t) const override;

 private:
  std::int64_t warmup_;
  double start_;
  std::shared_ptr<LRScheduler<T>> after_;
};

template <typename T>
double LinearWarmup<T>::lr_at(std::int64_t t) const {
  if (t < warmup_) {
    const double f =
        start_ + (1.0 - start_) * static_cast<double>(t) / static_cast<double>(warmup_);
    return this->base_lr_ * f;
  }
  return after_ ? after_->lr_at(t - warmup_) : this->base_lr_;
}
ONESTONE_EXTERN_CLASS(OPTIM, LinearWarmup)

}  // namespace optim
}  // namespace onestone
