#pragma once
/// @file records.hpp
/// What the `Trainer` reports: `StepInfo` (one optimizer step), `EvalInfo` (one validation
/// evaluation) and `EpochInfo` (one epoch's record, as logged and kept in the history).

#include <cstdint>
#include <string>
#include <vector>

#include "onestone/model/eval_report.hpp"

namespace onestone {
namespace train {

/// One optimizer step of the `Trainer`, passed to `on_step` callbacks. With gradient
/// accumulation a step covers `batches` batches; `task_losses` is then the mean over those of
/// them in which the task was present (NaN for a task absent from all). The object is reused
/// from step to step: copy what you keep.
///
/// @code
/// trainer.on_step([](const onestone::train::StepInfo& s) {
///   if (s.step % 100 == 0) std::printf("step %lld loss %.4f\n", (long long)s.step, s.total);
/// });
/// @endcode
struct StepInfo {
  int epoch = 0;           ///< 1-based epoch the step belongs to
  std::int64_t step = 0;   ///< optimizer steps so far (this one included)
  std::int64_t batch = 0;  ///< batches of the epoch done so far (this step's included)
  std::int64_t batches_per_epoch = 0;
  int batches = 0;                   ///< batches in this step (1 without accumulation)
  double total = 0.0;                ///< mean total loss over the step's batches
  std::vector<double> task_losses;   ///< per task (model order)
  std::vector<double> task_weights;  ///< per task: the weights the balancer chose (or λ)
  double lr = 0.0;                   ///< learning rate used by the step
  bool skipped = false;              ///< every batch of the step was skipped (no update)
};

/// One validation evaluation, passed to `on_eval` callbacks.
///
/// @code
/// trainer.on_eval([](const onestone::train::EvalInfo& e) {
///   std::cout << "step " << e.step << ": " << e.monitor << (e.improved ? " *" : "") << "\n";
/// });
/// @endcode
struct EvalInfo {
  int epoch = 0;             ///< epochs completed when evaluating (0 during the first one)
  std::int64_t step = 0;     ///< optimizer steps done
  model::EvalReport report;  ///< the model's evaluation on the validation loader
  double monitor = 0.0;      ///< the monitored value (see `Monitor`)
  bool higher_is_better = true;
  bool improved = false;    ///< a new best (by more than `min_delta`)
  double best = 0.0;        ///< the best monitored value so far (this one included)
  int bad_evaluations = 0;  ///< consecutive evaluations without improvement
};

/// One epoch's record: kept in `FitSummary::history`, passed to `on_epoch` callbacks and
/// written by `TrainingLog`. Train losses and weights are means over the epoch's batches in
/// which each task was present (NaN when it never was); `validation` is the latest
/// evaluation (at the end of this epoch, or the last step evaluation), if any.
///
/// @code
/// for (const auto& e : summary.history)
///   std::printf("epoch %d: train %.4f\n", e.epoch, e.train_total);
/// @endcode
struct EpochInfo {
  int epoch = 0;                     ///< 1-based
  std::int64_t step = 0;             ///< optimizer steps done at the end of the epoch
  bool complete = true;              ///< false when training stopped within the epoch
  std::vector<std::string> tasks;    ///< task names (model order)
  double train_total = 0.0;          ///< mean total loss over the epoch's batches
  std::vector<double> train_losses;  ///< per task
  std::vector<double> task_weights;  ///< per task
  double lr = 0.0;                   ///< learning rate of the epoch's last step
  double elapsed_seconds = 0.0;      ///< since training started (resumed runs included)
  bool has_validation = false;
  model::EvalReport validation;
  double monitor = 0.0;  ///< monitored value of `validation` (when it has one)
};

}  // namespace train
}  // namespace onestone
