#pragma once
/// @file step.hpp
/// `TrainStep<T>`: one training step of a `MultiTaskModel` — the losses of the present tasks,
/// the checks, the (balanced) backward, the optimizer step and the balancers' hooks — with
/// gradient accumulation for the Trainer.

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/loader.hpp"
#include "onestone/model/multi_task_model.hpp"
#include "onestone/optim/optimizer.hpp"
#include "onestone/train/detail/step_context.hpp"
#include "onestone/weighting/balanced_backward.hpp"
#include "onestone/weighting/step_context.hpp"

namespace onestone {
namespace train {

/// What a training step does when a task's loss is NaN or infinite.
enum class NonFinitePolicy {
  Throw,  ///< throw std::runtime_error naming the task and the step (default)
  Skip    ///< drop the step: no update, gradients cleared, `StepResult::skipped` set
};

/// The outcome of one step: the total loss, each task's loss (NaN for a task absent from the
/// batch), which tasks were present, whether the step was skipped. Reused between steps.
struct StepResult {
  double total = 0.0;
  std::vector<double> task_losses;
  std::vector<bool> present;
  bool skipped = false;
  std::string skip_reason;
  std::int64_t step = 0;
};

/// Options of `TrainStep`.
struct TrainStepOptions {
  TrainStepOptions& non_finite(NonFinitePolicy p) {
    policy_ = p;
    return *this;
  }
  NonFinitePolicy policy_ = NonFinitePolicy::Throw;
};

/// One training step: new graph, zero gradients, L = Σ λᵢ Lᵢ over the present tasks (or the
/// balancer's combination), backward (per-task gradients and the balancer's direction for
/// gradient methods, the look-ahead for Auto-Lambda), optimizer step, and the balancers'
/// after-step hook (FAMO's extra forward). A batch with no labelled sample for any task is
/// skipped. Allocation-free after the first step of a given batch shape.
///
/// `accumulate(batch)` + `apply()` split the step for gradient accumulation: several batches'
/// gradients (each balanced on its own) are summed, then one optimizer step.
///
/// Example:
/// @code
/// onestone::train::TrainStep<float> step(model, opt);
/// for (const auto& batch : loader) {
///   const auto& r = step(batch);   // r.total, r.task_losses
/// }
/// @endcode
template <typename T>
class TrainStep {
 public:
  TrainStep(model::MultiTaskModel<T>& model, optim::Optimizer<T>& opt,
            TrainStepOptions options = TrainStepOptions())
      : model_(model), opt_(opt), options_(options) {}

  /// A loader of the meta batches Auto-Lambda needs (another shuffle of the training data, as
  /// the authors' code); without one the step's own batch is used.
  void set_meta_loader(data::DataLoader<T>* loader) { meta_loader_ = loader; }

  /// One full step on `batch`.
  const StepResult& operator()(const data::Batch<T>& batch);

  /// Forward and (balanced) backward of `batch`, adding to the parameters' gradients; returns
  /// false (and adds nothing) when the step is skipped. Call `apply()` after the last batch.
  bool accumulate(const data::Batch<T>& batch);

  /// The optimizer step after `accumulate` (gradients averaged over the accumulated batches),
  /// then the balancer's after-step hook on the last batch.
  void apply();

  /// Whether any task has a labelled sample in `batch`.
  bool has_labels(const data::Batch<T>& batch) {
    for (int i = 0; i < model_.num_tasks(); ++i)
      if (model_.target_for(i, batch).labelled_count() > 0) return true;
    return false;
  }

  const StepResult& result() const noexcept { return result_; }
  std::int64_t steps() const noexcept { return steps_; }
  /// The Jacobian of the last gradient-balanced step (one row per present task).
  const weighting::Jacobian<T>& last_jacobian() const noexcept { return balanced_.jacobian(); }
  model::MultiTaskModel<T>& model() noexcept { return model_; }
  optim::Optimizer<T>& optimizer() noexcept { return opt_; }

 private:
  data::Batch<T>& meta_batch(const data::Batch<T>& batch);

  // The step as the balancer's backward sees it.
  class Context final : public detail::ModelStepContext<T> {
   public:
    Context(TrainStep& s, const Var<T>& total, const data::Batch<T>& batch)
        : detail::ModelStepContext<T>(s.model_, s.opt_, s.shared_, s.balanced_, total),
          s_(s),
          batch_(batch) {}
    void forward_meta_batch() override {
      data::Batch<T>& meta = s_.meta_batch(batch_);
      autograd::Tape<T>::current().reset();
      s_.model_.loss(meta);
    }

   private:
    TrainStep& s_;
    const data::Batch<T>& batch_;
  };

  model::MultiTaskModel<T>& model_;
  optim::Optimizer<T>& opt_;
  TrainStepOptions options_;
  StepResult result_;
  weighting::BalancedBackward<T> balanced_;
  std::vector<nn::Parameter<T>*> shared_;
  const data::Batch<T>* last_batch_ = nullptr;
  int accumulated_ = 0;
  std::int64_t steps_ = 0;
  weighting::Vector<T> after_;
  // Auto-Lambda
  data::DataLoader<T>* meta_loader_ = nullptr;
  data::Batch<T> meta_;
};

template <typename T>
const StepResult& TrainStep<T>::operator()(const data::Batch<T>& batch) {
  opt_.zero_grad();
  accumulated_ = 0;
  if (!accumulate(batch)) {
    opt_.zero_grad();
    autograd::Tape<T>::current().request_reset();
    return result_;
  }
  apply();
  return result_;
}

template <typename T>
bool TrainStep<T>::accumulate(const data::Batch<T>& batch) {
  autograd::Tape<T>& tape = autograd::Tape<T>::current();
  tape.reset();
  const int n = model_.num_tasks();
  result_.task_losses.assign(static_cast<std::size_t>(n), std::nan(""));
  result_.present.assign(static_cast<std::size_t>(n), false);
  result_.skipped = false;
  result_.skip_reason.clear();
  result_.step = steps_;
  if (!has_labels(batch)) {
    result_.skipped = true;
    result_.skip_reason = "no task has a labelled sample in the batch";
    return false;
  }
  Var<T> total = model_.loss(batch);
  for (int i = 0; i < n; ++i) {
    if (!model_.present(i)) continue;
    const double li = static_cast<double>(model_.task_losses()[static_cast<std::size_t>(i)].item());
    result_.task_losses[static_cast<std::size_t>(i)] = li;
    result_.present[static_cast<std::size_t>(i)] = true;
    if (!std::isfinite(li)) {
      if (options_.policy_ == NonFinitePolicy::Throw)
        throw std::runtime_error("TrainStep: the loss of task '" + model_.task(i).name_ + "' is " +
                                 (std::isnan(li) ? "NaN" : "infinite") + " at step " +
                                 std::to_string(steps_));
      result_.skipped = true;
      result_.skip_reason = "non-finite loss of task '" + model_.task(i).name_ + "'";
    }
  }
  result_.total = static_cast<double>(total.item());
  if (!result_.skipped && !std::isfinite(result_.total)) {
    if (options_.policy_ == NonFinitePolicy::Throw)
      throw std::runtime_error("TrainStep: the total loss is not finite at step " +
                               std::to_string(steps_));
    result_.skipped = true;
    result_.skip_reason = "non-finite total loss";
  }
  ++steps_;
  if (result_.skipped) return false;
  weighting::Balancer<T>* b = model_.balancer();
  if (b) {
    if (b->needs_gradients() && model_.gradient_source() == weighting::GradientSource::Parameters &&
        shared_.empty())
      shared_ = model_.strategy().shared_parameters();
    Context ctx(*this, total, batch);
    b->backward(ctx);
  } else {
    total.backward();
  }
  last_batch_ = &batch;
  ++accumulated_;
  return true;
}

template <typename T>
void TrainStep<T>::apply() {
  if (accumulated_ == 0) return;
  if (accumulated_ > 1)
    for (auto* p : opt_.params()) p->grad().vector() /= static_cast<T>(accumulated_);
  opt_.step();
  accumulated_ = 0;
  weighting::Balancer<T>* b = model_.balancer();
  if (b && b->wants_loss_after_step() && last_batch_)
    detail::after_step_losses(model_, *b, *last_batch_, after_);
}

template <typename T>
data::Batch<T>& TrainStep<T>::meta_batch(const data::Batch<T>& batch) {
  if (!meta_loader_) {
    meta_ = batch;
    return meta_;
  }
  if (!meta_loader_->next(meta_)) {
    meta_loader_->start_epoch();
    if (!meta_loader_->next(meta_))
      throw std::invalid_argument("TrainStep: the meta loader yields no batch");
  }
  return meta_;
}
ONESTONE_EXTERN_CLASS(TRAIN, TrainStep)

}  // namespace train
}  // namespace onestone
