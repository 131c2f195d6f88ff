#pragma once
/// @file strategy.hpp
/// `SharingStrategy<T>`: how tasks share parameters. Given a batch, a strategy produces one
/// representation per task, exposes its parameters, and may add a regularization term.

#include <deque>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/var.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace sharing {
namespace detail {

/// A list of variables borrowed from the calling thread's pool for the length of a forward
/// pass: strategies keep their per-call scratch here rather than in members, so one model can
/// serve predictions on several threads at once (and nested strategies get their own lists).
/// The lists keep their capacity: no allocation in steady state.
template <typename T>
class BorrowedVars {
 public:
  BorrowedVars() : pool_(local()), index_(pool_.used++) {
    if (pool_.lists.size() <= index_) pool_.lists.emplace_back();
    list_ = &pool_.lists[index_];
  }
  ~BorrowedVars() {
    for (auto& v : *list_) v = Var<T>();
    --pool_.used;
  }
  BorrowedVars(const BorrowedVars&) = delete;
  BorrowedVars& operator=(const BorrowedVars&) = delete;
  std::vector<Var<T>>& operator*() { return *list_; }
  std::vector<Var<T>>* operator->() { return list_; }

 private:
  struct Pool {
    std::deque<std::vector<Var<T>>> lists;  // a deque keeps references valid as it grows
    std::size_t used = 0;
  };
  static Pool& local() {
    thread_local Pool pool;
    return pool;
  }
  Pool& pool_;
  std::size_t index_;
  std::vector<Var<T>>* list_;
};

}  // namespace detail

/// The interface every sharing strategy implements (hard sharing, soft sharing, cross-stitch,
/// MTAN, MMoE, ...). `MultiTaskModel` calls `set_num_tasks` once its tasks are known, then
/// `forward_tasks` each step; the total loss adds `regularizer()` when it is defined.
///
/// A strategy whose tasks all read one shared representation z (hard sharing) reports it via
/// `shared_representation()`, which lets balancing methods work on ∂Lᵢ/∂z cheaply.
///
/// Example (writing one):
/// @code
/// template <typename T>
/// struct MyStrategy : onestone::sharing::SharingStrategy<T> {
///   void forward_tasks(const onestone::Var<T>& x, onestone::Var<T>* reps) override { ... }
///   onestone::Index output_features() const override { return 64; }
///   std::string name() const override { return "MyStrategy"; }
/// };
/// @endcode
template <typename T>
class SharingStrategy : public nn::Module<T> {
 public:
  /// Tells the strategy how many tasks to serve (builds per-task parts where needed).
  virtual void set_num_tasks(int num_tasks) { num_tasks_ = num_tasks; }
  int num_tasks() const noexcept { return num_tasks_; }

  /// Fills reps[0 .. num_tasks) with each task's representation of the batch x.
  virtual void forward_tasks(const Var<T>& x, Var<T>* reps) = 0;
  /// Width of each task representation (the heads' input size).
  virtual Index output_features() const = 0;
  /// A penalty added to the total loss (undefined Var when the strategy has none).
  virtual Var<T> regularizer() { return Var<T>(); }
  /// The representation shared by every task in the last recorded forward (kept only while
  /// recording, for gradient balancing), if the strategy has one.
  virtual Var<T> shared_representation() const { return Var<T>(); }
  /// Parameters shared by all tasks (those per-task gradient methods combine).
  virtual std::vector<nn::Parameter<T>*> shared_parameters() const { return this->parameters(); }

 protected:
  /// For strategies built for a fixed number of tasks: accepts n up to `declared`.
  void set_declared_tasks(int n, int declared) {
    if (n > declared)
      throw std::invalid_argument(this->name() + ": built for " + std::to_string(declared) +
                                  " tasks, cannot serve " + std::to_string(n));
    num_tasks_ = n;
  }
  /// Throws unless the model has exactly the declared number of tasks.
  void check_declared_tasks(int declared) const {
    if (num_tasks_ != declared)
      throw std::logic_error(this->name() + ": built for " + std::to_string(declared) +
                             " tasks but the model has " + std::to_string(num_tasks_));
  }
  int num_tasks_ = 0;
};
ONESTONE_EXTERN_CLASS(SHARING, SharingStrategy)

}  // namespace sharing
}  // namespace onestone
