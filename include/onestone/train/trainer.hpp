#pragma once
/// @file trainer.hpp
/// `Trainer<T>` and `TrainerOptions`: epochs of `TrainStep`s over a `MultiTaskModel` with an
/// optional learning-rate schedule, gradient accumulation, validation every N steps and/or
/// every epoch, callbacks, early stopping on a `Monitor`, best and last checkpoints with exact
/// resume, CSV / JSON-lines logs and progress output.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/loader.hpp"
#include "onestone/io/checkpoint.hpp"
#include "onestone/io/json.hpp"
#include "onestone/io/safetensors.hpp"
#include "onestone/model/eval_report.hpp"
#include "onestone/model/multi_task_model.hpp"
#include "onestone/optim/optimizer.hpp"
#include "onestone/optim/scheduler.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/train/monitor.hpp"
#include "onestone/train/records.hpp"
#include "onestone/train/step.hpp"
#include "onestone/train/training_log.hpp"
#include "onestone/train/training_progress.hpp"

namespace onestone {
namespace train {

/// When the `Trainer` advances its learning-rate scheduler: after every epoch, or after every
/// optimizer step.
enum class SchedulerInterval { Epoch, Step };

/// Options of a `Trainer`, set with chained builders (invalid values throw
/// std::invalid_argument at once; combinations that need a validation loader are checked by
/// `Trainer::fit`).
///
/// @code
/// auto opts = onestone::train::TrainerOptions()
///                 .epochs(20)
///                 .accumulate_steps(2)
///                 .eval_every_steps(100)
///                 .early_stopping(onestone::train::Monitor::metric("item/accuracy"), 3)
///                 .checkpoint_best("run/best.safetensors")
///                 .checkpoint_last("run/last.safetensors")
///                 .log_csv("run/log.csv");
/// @endcode
struct TrainerOptions {
  /// Total number of epochs (a resumed run continues up to it). Default 10.
  TrainerOptions& epochs(int n) {
    if (n < 1)
      throw std::invalid_argument("TrainerOptions::epochs: must be >= 1, got " + std::to_string(n));
    epochs_ = n;
    return *this;
  }
  /// Batches per optimizer step (gradients averaged over them). Default 1.
  TrainerOptions& accumulate_steps(int k) {
    if (k < 1)
      throw std::invalid_argument("TrainerOptions::accumulate_steps: must be >= 1, got " +
                                  std::to_string(k));
    accumulate_steps_ = k;
    return *this;
  }
  /// Evaluates on the validation loader every `n` optimizer steps (0: never). Default 0.
  TrainerOptions& eval_every_steps(std::int64_t n) {
    if (n < 0)
      throw std::invalid_argument("TrainerOptions::eval_every_steps: must be >= 0, got " +
                                  std::to_string(n));
    eval_every_steps_ = n;
    return *this;
  }
  /// Evaluates on the validation loader at the end of every epoch. Default true.
  TrainerOptions& eval_every_epoch(bool on) {
    eval_every_epoch_ = on;
    return *this;
  }
  /// Stops after `patience` (>= 1) consecutive evaluations that do not improve `monitor` by
  /// more than `min_delta` (>= 0) in its direction; also sets the monitor.
  TrainerOptions& early_stopping(Monitor monitor, int patience, double min_delta = 0.0) {
    if (patience < 1)
      throw std::invalid_argument("TrainerOptions::early_stopping: patience must be >= 1, got " +
                                  std::to_string(patience));
    if (!(min_delta >= 0) || !std::isfinite(min_delta))
      throw std::invalid_argument(
          "TrainerOptions::early_stopping: min_delta must be finite and "
          ">= 0");
    monitor_ = std::move(monitor);
    early_stopping_ = true;
    patience_ = patience;
    min_delta_ = min_delta;
    return *this;
  }
  /// The monitored quantity for the best checkpoint without early stopping (default: the mean
  /// of the tasks' primary metrics).
  TrainerOptions& monitor(Monitor m) {
    monitor_ = std::move(m);
    return *this;
  }
  /// Saves a checkpoint at `path` whenever the monitor improves.
  TrainerOptions& checkpoint_best(std::string path) {
    best_path_ = std::move(path);
    return *this;
  }
  /// Saves a checkpoint at `path` after every epoch (and every `checkpoint_every_steps`).
  TrainerOptions& checkpoint_last(std::string path) {
    last_path_ = std::move(path);
    return *this;
  }
  /// Also saves the last checkpoint every `n` optimizer steps (0: only per epoch).
  TrainerOptions& checkpoint_every_steps(std::int64_t n) {
    if (n < 0) throw std::invalid_argument("TrainerOptions::checkpoint_every_steps: must be >= 0");
    checkpoint_every_steps_ = n;
    return *this;
  }
  /// At the end of `fit`, puts back the parameters (and buffers) of the best evaluation.
  TrainerOptions& restore_best(bool on) {
    restore_best_ = on;
    return *this;
  }
  /// When the scheduler advances (default: every epoch).
  TrainerOptions& scheduler_interval(SchedulerInterval i) {
    scheduler_interval_ = i;
    return *this;
  }
  /// Writes one CSV record per epoch to `path` (see `TrainingLog`).
  TrainerOptions& log_csv(std::string path) {
    log_csv_ = std::move(path);
    return *this;
  }
  /// Writes one JSON line per epoch to `path` (see `TrainingLog`).
  TrainerOptions& log_jsonl(std::string path) {
    log_jsonl_ = std::move(path);
    return *this;
  }
  /// Also logs a "step" record every `n` optimizer steps (0: epochs only).
  TrainerOptions& log_every_steps(std::int64_t n) {
    if (n < 0) throw std::invalid_argument("TrainerOptions::log_every_steps: must be >= 0");
    log_every_steps_ = n;
    return *this;
  }
  /// Progress output on or off (default on).
  TrainerOptions& progress(bool on) {
    progress_ = on;
    return *this;
  }
  /// The progress stream (default std::cout; it must outlive the Trainer).
  TrainerOptions& progress_stream(std::ostream& out) {
    progress_stream_ = &out;
    return *this;
  }
  /// Whether the progress stream is a terminal, instead of detecting it.
  TrainerOptions& progress_terminal(bool is_terminal) {
    progress_terminal_ = is_terminal ? 1 : 0;
    return *this;
  }
  /// What a step does on a NaN or infinite loss (see `TrainStep`).
  TrainerOptions& non_finite(NonFinitePolicy p) {
    non_finite_ = p;
    return *this;
  }
  /// Parameter groups: parameters whose name (`model.named_parameters()`) starts with `prefix`
  /// are updated at `factor` × the learning rate (the longest matching prefix wins). The
  /// optimizers have no parameter groups, so the Trainer scales each such parameter's update
  /// after the optimizer step (p ← p₀ + factor·(p₁ − p₀)); SGD and Adam updates are linear in
  /// the rate, so this equals a per-group rate up to rounding.
  TrainerOptions& lr_multiplier(std::string prefix, double factor) {
    if (!(factor >= 0) || !std::isfinite(factor))
      throw std::invalid_argument("TrainerOptions::lr_multiplier: factor for '" + prefix +
                                  "' must be finite and >= 0");
    lr_multipliers_.emplace_back(std::move(prefix), factor);
    return *this;
  }

  int epochs_ = 10;
  int accumulate_steps_ = 1;
  std::int64_t eval_every_steps_ = 0;
  bool eval_every_epoch_ = true;
  Monitor monitor_;
  bool early_stopping_ = false;
  int patience_ = 0;
  double min_delta_ = 0.0;
  std::string best_path_, last_path_;
  std::int64_t checkpoint_every_steps_ = 0;
  bool restore_best_ = false;
  SchedulerInterval scheduler_interval_ = SchedulerInterval::Epoch;
  std::string log_csv_, log_jsonl_;
  std::int64_t log_every_steps_ = 0;
  bool progress_ = true;
  std::ostream* progress_stream_ = &std::cout;
  int progress_terminal_ = -1;
  NonFinitePolicy non_finite_ = NonFinitePolicy::Throw;
  std::vector<std::pair<std::string, double>> lr_multipliers_;
};

/// What `Trainer::fit` returns: the best monitored value and when it was reached, whether
/// training stopped early, and every epoch's record.
///
/// @code
/// auto s = trainer.fit();
/// if (s.has_best) std::printf("best %s %.4f at epoch %d\n", s.monitor.c_str(), s.best_value,
///                             s.best_epoch);
/// @endcode
struct FitSummary {
  bool has_best = false;         ///< some evaluation took place
  double best_value = 0.0;       ///< best monitored value
  std::string monitor;           ///< the monitor's name
  bool higher_is_better = true;  ///< its direction
  int best_epoch = 0;            ///< 1-based epoch of the best evaluation
  std::int64_t best_step = 0;    ///< optimizer steps done at the best evaluation
  bool stopped_early = false;
  bool restored_best = false;  ///< the best parameters were put back
  int epochs = 0;              ///< epochs completed
  std::int64_t steps = 0;      ///< optimizer steps done
  double elapsed_seconds = 0.0;
  std::vector<EpochInfo> history;  ///< one record per epoch (resumed runs included)
};

namespace detail {

/// Applies per-parameter learning-rate factors around another optimizer's step (the
/// optimizers have no parameter groups): p ← p₀ + f·(p₁ − p₀). Its state is the inner
/// optimizer's; it keeps the inner optimizer's rate and step count. Allocation-free.
template <typename T>
class ScaledLrOptimizer final : public optim::Optimizer<T> {
 public:
  ScaledLrOptimizer(optim::Optimizer<T>& inner, std::vector<double> factors)
      : optim::Optimizer<T>(inner.params(), inner.lr()),
        inner_(inner),
        factors_(std::move(factors)) {
    before_.resize(this->params_.size());
    for (std::size_t k = 0; k < this->params_.size(); ++k)
      if (factors_[k] != 1.0) before_[k].resize(this->params_[k]->value().shape());
  }
  /// Copies the inner optimizer's rate and step count.
  void sync() {
    this->lr_ = inner_.lr();
    this->steps_ = inner_.step_count();
  }
  void step() override {
    sync();
    for (std::size_t k = 0; k < this->params_.size(); ++k)
      if (factors_[k] != 1.0) {
        const Tensor<T>& v = this->params_[k]->value();
        std::copy(v.data(), v.data() + v.numel(), before_[k].data());
      }
    inner_.step();
    for (std::size_t k = 0; k < this->params_.size(); ++k)
      if (factors_[k] != 1.0) {
        T* p = this->params_[k]->value().data();
        const T* p0 = before_[k].data();
        const T f = static_cast<T>(factors_[k]);
        for (Index i = 0, n = before_[k].numel(); i < n; ++i) p[i] = p0[i] + f * (p[i] - p0[i]);
      }
    sync();
  }
  std::string name() const override { return inner_.name(); }
  std::vector<std::pair<std::string, Tensor<T>*>> state_tensors() override {
    return inner_.state_tensors();
  }

 private:
  optim::Optimizer<T>& inner_;
  std::vector<double> factors_;
  std::vector<Tensor<T>> before_;
};

inline std::string join_numbers(const std::vector<double>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + io::detail::format_double(v[i]);
  return s;
}

}  // namespace detail

// ---- Trainer backends (training spread over processes) -------------------------------------

/// What a `Trainer` delegates when training is spread over several processes (data-parallel
/// training: `distributed::DataParallelBackend` in onestone/distributed/trainer.hpp implements
/// it over MPI; this layer knows nothing of MPI). Every process runs the same Trainer and makes
/// every call below in the same order. The backend provides the training batches (this
/// process's share of each global batch), runs the steps, evaluates so that every process gets
/// the same report, agrees on decisions, and writes checkpoints once.
///
/// @code
/// // see onestone/distributed/trainer.hpp
/// onestone::distributed::DataParallelBackend<float> backend(comm, train_set, 32);
/// onestone::train::Trainer<float> trainer(model, opt, backend, options);
/// @endcode
template <typename T>
class TrainerBackend {
 public:
  virtual ~TrainerBackend() = default;
  /// Called once by the Trainer's constructor: the model, the optimizer the steps must use
  /// (the Trainer's: with per-part learning-rate factors, a wrapper of the user's) and the
  /// options (non-finite policy, gradient accumulation).
  virtual void attach(model::MultiTaskModel<T>& model, optim::Optimizer<T>& optimizer,
                      const TrainerOptions& options) = 0;
  /// The training data: starts an epoch; this process's part of the next global batch (false
  /// at the end of the epoch, on every process alike); global batches per epoch.
  virtual void start_epoch() = 0;
  virtual bool next(data::Batch<T>& batch) = 0;
  virtual std::int64_t num_batches() const = 0;
  /// The step, as `TrainStep::accumulate` / `apply` / `result` (results identical on every
  /// process).
  virtual bool accumulate(const data::Batch<T>& batch) = 0;
  virtual void apply() = 0;
  virtual const StepResult& result() const = 0;
  /// Whether this process writes logs and progress (exactly one process does).
  virtual bool is_writer() const = 0;
  /// The validation report, the same on every process.
  virtual model::EvalReport evaluate(model::MultiTaskModel<T>& model, data::DataLoader<T>& val) = 0;
  /// True on every process when `flag` is true on any (stop requests).
  virtual bool any(bool flag) = 0;
  /// Runs `f` on every process; if it throws on any, every process throws (what: a name for
  /// the message).
  virtual void collective(const std::function<void()>& f, const std::string& what) = 0;
  /// Writes `state` to `path` once (with the data position), atomically; a failure is thrown
  /// on every process.
  virtual void save_checkpoint(const std::string& path, io::CheckpointState<T>& state) = 0;
  /// Every process reads `path` into `state` (and the data position when `position`); a
  /// failure is thrown on every process.
  virtual void load_checkpoint(const std::string& path, io::CheckpointState<T>& state,
                               bool position) = 0;
};

/// Drives training of a `MultiTaskModel<T>` with its optimizer: epochs over a training
/// `DataLoader`, one `TrainStep` per optimizer step (any sharing strategy, any balancing
/// method), with
///   - an optional learning-rate scheduler (`set_scheduler`; per epoch or per step),
///   - gradient accumulation (`accumulate_steps(k)`: k batches per optimizer step),
///   - validation (`set_validation`) every N steps and/or every epoch, monitored by a
///     `Monitor`, with early stopping and the best parameters kept,
///   - callbacks `on_step`, `on_epoch`, `on_eval` (call `request_stop()` from one to stop),
///   - the best and the last checkpoint (atomic; model, optimizer, scheduler, loader position,
///     generators and the Trainer's own state), and `resume(path)`, after which `fit()`
///     continues so that the final parameters equal those of an uninterrupted run bit for bit,
///   - CSV / JSON-lines logs (`TrainingLog`) and progress output (`TrainingProgress`).
///
/// The Trainer uses only public APIs (`TrainStep`, `MultiTaskModel::evaluate`,
/// `io::save_checkpoint`); a hand-written loop remains possible. `epochs` is the total: a
/// resumed Trainer trains the epochs that remain. Checkpoints hold `default_generator()` (of
/// the thread that builds the Trainer) and any generator given to `add_generator` (e.g. a
/// `Dropout`'s). Use an unshuffled validation loader. In steady state the Trainer itself
/// allocates nothing per step (evaluations, log lines and checkpoints do).
///
/// @code
/// using namespace onestone;
/// optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
/// optim::CosineAnnealingLR<float> sched(opt, 20);
/// data::DataLoader<float> train_loader(train, data::LoaderOptions().batch_size(64).seed(1));
/// data::DataLoader<float> val_loader(val, data::LoaderOptions().batch_size(256).shuffle(false));
/// train::Trainer<float> trainer(model, opt, train_loader,
///     train::TrainerOptions().epochs(20)
///         .early_stopping(train::Monitor::mean_primary(), 3)
///         .checkpoint_best("best.safetensors").checkpoint_last("last.safetensors")
///         .log_csv("log.csv"));
/// trainer.set_validation(val_loader).set_scheduler(sched);
/// auto summary = trainer.fit();
/// @endcode
template <typename T>
class Trainer {
 public:
  /// A Trainer of `model` with `optimizer` over `train` (all kept by reference).
  Trainer(model::MultiTaskModel<T>& model, optim::Optimizer<T>& optimizer,
          data::DataLoader<T>& train, TrainerOptions options = TrainerOptions())
      : Trainer(model, optimizer, &train, nullptr, std::move(options)) {}
  /// A Trainer run by a `TrainerBackend` (kept by reference), which provides the training
  /// batches and the steps: data-parallel training over MPI with
  /// `distributed::DataParallelBackend` (onestone/distributed/trainer.hpp). Logs and progress
  /// come from the backend's writer process; checkpoints are written once; evaluation reports,
  /// early stopping and stop requests are the same on every process.
  Trainer(model::MultiTaskModel<T>& model, optim::Optimizer<T>& optimizer,
          TrainerBackend<T>& backend, TrainerOptions options = TrainerOptions())
      : Trainer(model, optimizer, nullptr, &backend, std::move(options)) {}

 private:
  Trainer(model::MultiTaskModel<T>& model, optim::Optimizer<T>& optimizer,
          data::DataLoader<T>* train, TrainerBackend<T>* backend, TrainerOptions options);

 public:
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  /// The validation loader (unshuffled; kept by reference).
  Trainer& set_validation(data::DataLoader<T>& val) {
    val_ = &val;
    return *this;
  }
  /// The learning-rate scheduler (built on the same optimizer; kept by reference).
  Trainer& set_scheduler(optim::LRScheduler<T>& s) {
    sched_ = &s;
    return *this;
  }
  /// Another generator to save in checkpoints (after `default_generator()`), e.g. a Dropout's.
  Trainer& add_generator(Generator& g) {
    generators_.push_back(&g);
    return *this;
  }
  /// Auto-Lambda's meta loader (see `TrainStep::set_meta_loader`; its position is not part of
  /// checkpoints).
  Trainer& set_meta_loader(data::DataLoader<T>& loader);
  /// Called after every optimizer step.
  Trainer& on_step(std::function<void(const StepInfo&)> f) {
    on_step_ = std::move(f);
    return *this;
  }
  /// Called after every epoch, with its record.
  Trainer& on_epoch(std::function<void(const EpochInfo&)> f) {
    on_epoch_ = std::move(f);
    return *this;
  }
  /// Called after every validation evaluation.
  Trainer& on_eval(std::function<void(const EvalInfo&)> f) {
    on_eval_ = std::move(f);
    return *this;
  }
  /// Stops training after the current optimizer step (from a callback); the epoch's record is
  /// written and the last checkpoint saved.
  void request_stop() noexcept { stop_requested_ = true; }

  /// Restores a checkpoint written by a Trainer (best or last): model, optimizer, scheduler,
  /// loader position, generators and the Trainer's state (epoch, position within it, the
  /// epoch's running means, best value, early-stopping count, history). Wire the same objects
  /// (scheduler, generators) before calling it. Throws std::runtime_error, changing nothing,
  /// when the file is not a Trainer checkpoint or does not fit.
  void resume(const std::string& path);

  /// Trains until `epochs` epochs are done or training stops early; see `FitSummary`.
  /// Throws std::invalid_argument when an option needs a validation loader that is not set.
  FitSummary fit();

  /// Epochs completed.
  int epoch() const noexcept { return epoch_; }
  /// Optimizer steps done.
  std::int64_t global_step() const noexcept { return global_step_; }
  /// The epoch records so far.
  const std::vector<EpochInfo>& history() const noexcept { return history_; }
  /// The step used (e.g. `last_jacobian()`); throws std::logic_error with a `TrainerBackend`
  /// (the backend runs the steps).
  TrainStep<T>& train_step() {
    if (!step_) throw std::logic_error("Trainer::train_step: the steps are the TrainerBackend's");
    return *step_;
  }
  /// The backend, or nullptr.
  TrainerBackend<T>* backend() const noexcept { return backend_; }
  /// The options the Trainer was built with.
  const TrainerOptions& options() const noexcept { return options_; }

 private:
  // The Trainer's state in a checkpoint ("user.trainer.*" metadata).
  struct Saved {
    int epoch = 0;
    bool mid_epoch = false;
    std::int64_t batch_in_epoch = 0;
    std::vector<double> loss_sum, loss_count, weight_sum, weight_count;
    double total_sum = 0, total_count = 0;
    bool has_best = false, best_higher = true, stopped_early = false;
    double best = 0;
    int best_epoch = 0, bad = 0;
    std::int64_t best_step = 0, last_eval_step = -1;
    double last_lr = 0, elapsed = 0, last_monitor = 0;
    std::vector<EpochInfo> history;
    bool has_report = false;
    model::EvalReport last_report;
  };

  optim::Optimizer<T>& step_optimizer() {
    return scaled_ ? static_cast<optim::Optimizer<T>&>(*scaled_) : opt_;
  }

  io::CheckpointState<T> checkpoint_state();

  void check_wiring() const;

  // ---- where the Trainer and its TrainerBackend part ways
  std::int64_t batches_per_epoch() const {
    return backend_ ? backend_->num_batches() : static_cast<std::int64_t>(train_->num_batches());
  }
  const StepResult& step_result() const { return backend_ ? backend_->result() : step_->result(); }
  // With a backend, a stop requested or decided on any process stops every process.
  void agree_on_stop() {
    if (backend_) stop_ = backend_->any(stop_);
  }

  void open_logs();

  double elapsed() const {
    return elapsed_before_ +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start_).count();
  }

  static void zero(std::vector<double>& v) {
    for (auto& x : v) x = 0.0;
  }
  void reset_epoch();

  // Forward and backward of one batch, adding to the gradients of the current group.
  void run_batch();

  static double ratio(double s, double c) { return c > 0 ? s / c : std::nan(""); }

  // The optimizer step of the current group, then schedules, evaluation, logs, callbacks and
  // checkpoints due at this step.
  void finish_group();

  void end_epoch(bool complete);

  // Saves the checkpoints due (the best one after an improvement, the last one when asked) at
  // a point where the Trainer's state is consistent.
  void commit(bool save_last) {
    if (best_pending_ && !options_.best_path_.empty()) save(options_.best_path_);
    best_pending_ = false;
    if (save_last) save(options_.last_path_);
  }

  void evaluate(int epoch_number);

  EpochInfo make_record(int number, bool complete) const;

  // Parameters and buffers of the best evaluation (allocated once).
  void snapshot_best();
  bool restore_best();

  void save(const std::string& path);

  Saved parse_saved(const std::string& path, const std::map<std::string, std::string>& m) const;

  void apply_saved(Saved s);

  model::MultiTaskModel<T>& model_;
  optim::Optimizer<T>& opt_;
  data::DataLoader<T>* train_;  // null with a backend
  TrainerBackend<T>* backend_;  // null without
  TrainerOptions options_;
  std::unique_ptr<detail::ScaledLrOptimizer<T>> scaled_;
  std::unique_ptr<TrainStep<T>> step_;
  data::DataLoader<T>* val_ = nullptr;
  optim::LRScheduler<T>* sched_ = nullptr;
  std::vector<Generator*> generators_;
  std::function<void(const StepInfo&)> on_step_;
  std::function<void(const EpochInfo&)> on_epoch_;
  std::function<void(const EvalInfo&)> on_eval_;
  TrainingLog log_;
  TrainingProgress progress_;
  std::vector<std::string> tasks_;
  data::Batch<T> batch_;

  // Position and running means of the epoch.
  int epoch_ = 0;
  bool mid_epoch_ = false;
  std::int64_t batch_in_epoch_ = 0;
  std::int64_t global_step_ = 0;
  std::vector<double> loss_sum_, loss_count_, weight_sum_, weight_count_;
  double total_sum_ = 0, total_count_ = 0;
  // The current accumulation group.
  int group_batches_ = 0, group_ok_ = 0;
  std::vector<double> group_loss_sum_, group_loss_count_, group_weight_sum_, group_weight_count_;
  double group_total_ = 0;
  StepInfo step_info_;
  double last_lr_ = 0;
  // Validation, best, early stopping.
  bool has_best_ = false, best_higher_ = true, best_pending_ = false;
  double best_ = 0;
  int best_epoch_ = 0, bad_ = 0;
  std::int64_t best_step_ = 0, last_eval_step_ = -1;
  bool stop_ = false, stop_requested_ = false, stopped_early_ = false;
  bool has_report_ = false;
  model::EvalReport last_report_;
  double last_monitor_ = 0;
  std::vector<Tensor<T>> best_values_;
  bool have_snapshot_ = false;
  std::vector<EpochInfo> history_;
  bool resumed_ = false;
  double elapsed_before_ = 0;
  std::chrono::steady_clock::time_point fit_start_ = std::chrono::steady_clock::now();
};

template <typename T>
Trainer<T>::Trainer(model::MultiTaskModel<T>& model, optim::Optimizer<T>& optimizer,
                    data::DataLoader<T>* train, TrainerBackend<T>* backend, TrainerOptions options)
    : model_(model),
      opt_(optimizer),
      train_(train),
      backend_(backend),
      options_(std::move(options)),
      progress_(
          options_.progress_terminal_ < 0
              ? TrainingProgress(*options_.progress_stream_)
              : TrainingProgress(*options_.progress_stream_, options_.progress_terminal_ == 1)) {
  if (model_.num_tasks() == 0)
    throw std::invalid_argument("Trainer: the model has no tasks (add them before the Trainer)");
  if (!options_.lr_multipliers_.empty()) {
    std::vector<double> factors(opt_.params().size(), 1.0);
    const auto named = model_.named_parameters();
    for (const auto& pm : options_.lr_multipliers_) {
      bool any = false;
      for (const auto& np : named)
        if (np.first.rfind(pm.first, 0) == 0) any = true;
      if (!any)
        throw std::invalid_argument(
            "TrainerOptions::lr_multiplier: no parameter name starts with '" + pm.first + "'");
    }
    for (std::size_t k = 0; k < opt_.params().size(); ++k) {
      std::size_t best_len = 0;
      bool found = false;
      for (const auto& np : named) {
        if (np.second != opt_.params()[k]) continue;
        for (const auto& pm : options_.lr_multipliers_)
          if (np.first.rfind(pm.first, 0) == 0 && (!found || pm.first.size() >= best_len)) {
            factors[k] = pm.second;
            best_len = pm.first.size();
            found = true;
          }
      }
    }
    scaled_ = std::make_unique<detail::ScaledLrOptimizer<T>>(opt_, std::move(factors));
  }
  if (backend_)
    backend_->attach(model_, step_optimizer(), options_);
  else
    step_ = std::make_unique<TrainStep<T>>(model_, step_optimizer(),
                                           TrainStepOptions().non_finite(options_.non_finite_));
  generators_.push_back(&default_generator());
  const std::size_t n = static_cast<std::size_t>(model_.num_tasks());
  for (int i = 0; i < model_.num_tasks(); ++i) tasks_.push_back(model_.task(i).name_);
  for (auto* v : {&loss_sum_, &loss_count_, &weight_sum_, &weight_count_, &group_loss_sum_,
                  &group_loss_count_, &group_weight_sum_, &group_weight_count_})
    v->assign(n, 0.0);
  step_info_.task_losses.assign(n, 0.0);
  step_info_.task_weights.assign(n, 0.0);
  progress_.set_tasks(tasks_);
  progress_.set_enabled(options_.progress_ && (!backend_ || backend_->is_writer()));
}

template <typename T>
Trainer<T>& Trainer<T>::set_meta_loader(data::DataLoader<T>& loader) {
  if (!step_)
    throw std::logic_error("Trainer::set_meta_loader: not supported with a TrainerBackend");
  step_->set_meta_loader(&loader);
  return *this;
}

template <typename T>
void Trainer<T>::resume(const std::string& path) {
  Saved s;
  const auto read = [&] {
    std::map<std::string, std::string> file_meta;
    io::read_safetensors(path, &file_meta);
    std::map<std::string, std::string> m;
    for (const auto& kv : file_meta)
      if (kv.first.rfind("user.trainer.", 0) == 0) m.emplace(kv.first.substr(5), kv.second);
    if (!m.count("trainer.format"))
      throw std::runtime_error("Trainer::resume: '" + path +
                               "' is not a Trainer checkpoint (no \"user.trainer.format\")");
    s = parse_saved(path, m);
  };
  if (backend_)
    backend_->collective(read, "Trainer::resume");
  else
    read();
  io::CheckpointState<T> st = checkpoint_state();
  if (backend_)
    backend_->load_checkpoint(path, st, true);
  else
    io::load_checkpoint(path, st);
  apply_saved(std::move(s));
  global_step_ = st.step;
  resumed_ = true;
  if (scaled_) scaled_->sync();
}

template <typename T>
FitSummary Trainer<T>::fit() {
  check_wiring();
  open_logs();
  model_.train();
  fit_start_ = std::chrono::steady_clock::now();
  stop_ = false;
  stop_requested_ = false;
  const std::int64_t per_epoch = batches_per_epoch();
  while (epoch_ < options_.epochs_ && !stop_) {
    if (!mid_epoch_) {
      if (backend_)
        backend_->start_epoch();
      else
        train_->start_epoch();
      reset_epoch();
    }
    mid_epoch_ = true;
    progress_.start_epoch(epoch_ + 1, options_.epochs_, per_epoch, batch_in_epoch_);
    while (!stop_ && (backend_ ? backend_->next(batch_) : train_->next(batch_))) {
      run_batch();
      progress_.update(batch_in_epoch_, step_result().task_losses);
      if (group_batches_ == options_.accumulate_steps_) finish_group();
    }
    if (group_batches_ > 0) finish_group();
    end_epoch(batch_in_epoch_ >= per_epoch || !stop_);
  }
  log_.close();
  FitSummary s;
  s.has_best = has_best_;
  s.best_value = best_;
  s.monitor = options_.monitor_.name();
  s.higher_is_better = best_higher_;
  s.best_epoch = best_epoch_;
  s.best_step = best_step_;
  s.stopped_early = stopped_early_;
  s.epochs = epoch_;
  s.steps = global_step_;
  s.elapsed_seconds = elapsed();
  s.history = history_;
  if (options_.restore_best_ && has_best_) s.restored_best = restore_best();
  return s;
}

template <typename T>
io::CheckpointState<T> Trainer<T>::checkpoint_state() {
  io::CheckpointState<T> st(model_, opt_);
  st.scheduler = sched_;
  st.loader = train_;  // null with a backend, which saves the data position itself
  st.generators = generators_;
  return st;
}

template <typename T>
void Trainer<T>::check_wiring() const {
  const auto need = [&](bool cond, const char* what) {
    if (cond && !val_)
      throw std::invalid_argument(std::string("Trainer::fit: ") + what +
                                  " needs a validation loader (set_validation)");
  };
  need(options_.eval_every_steps_ > 0, "eval_every_steps");
  need(options_.early_stopping_, "early_stopping");
  need(!options_.best_path_.empty(), "checkpoint_best");
  need(options_.restore_best_, "restore_best");
  if (options_.early_stopping_ && !options_.eval_every_epoch_ && options_.eval_every_steps_ == 0)
    throw std::invalid_argument(
        "Trainer::fit: early_stopping with eval_every_epoch(false) and no eval_every_steps "
        "never evaluates");
}

template <typename T>
void Trainer<T>::open_logs() {
  if (backend_ && !backend_->is_writer()) return;
  if (!options_.log_csv_.empty()) log_.open_csv(options_.log_csv_, resumed_);
  if (!options_.log_jsonl_.empty()) log_.open_jsonl(options_.log_jsonl_, resumed_);
  log_.expect_validation(val_ != nullptr &&
                         (options_.eval_every_epoch_ || options_.eval_every_steps_ > 0));
}

template <typename T>
void Trainer<T>::reset_epoch() {
  zero(loss_sum_);
  zero(loss_count_);
  zero(weight_sum_);
  zero(weight_count_);
  total_sum_ = total_count_ = 0;
  batch_in_epoch_ = 0;
}

template <typename T>
void Trainer<T>::run_batch() {
  if (group_batches_ == 0) {
    step_optimizer().zero_grad();
    if (scaled_) scaled_->sync();
    zero(group_loss_sum_);
    zero(group_loss_count_);
    zero(group_weight_sum_);
    zero(group_weight_count_);
    group_total_ = 0;
    group_ok_ = 0;
  }
  const bool ok = backend_ ? backend_->accumulate(batch_) : step_->accumulate(batch_);
  ++group_batches_;
  ++batch_in_epoch_;
  if (!ok) return;
  ++group_ok_;
  const StepResult& r = step_result();
  const weighting::Balancer<T>* b = model_.balancer();
  const int n = model_.num_tasks();
  for (int i = 0; i < n; ++i) {
    const auto k = static_cast<std::size_t>(i);
    if (!r.present[k]) continue;
    group_loss_sum_[k] += r.task_losses[k];
    group_loss_count_[k] += 1;
    loss_sum_[k] += r.task_losses[k];
    loss_count_[k] += 1;
    double w = model_.task(i).weight_;
    if (b) w = b->weights().size() == n ? static_cast<double>(b->weights()[i]) : std::nan("");
    if (std::isnan(w)) continue;
    group_weight_sum_[k] += w;
    group_weight_count_[k] += 1;
    weight_sum_[k] += w;
    weight_count_[k] += 1;
  }
  group_total_ += r.total;
  total_sum_ += r.total;
  total_count_ += 1;
}

template <typename T>
void Trainer<T>::finish_group() {
  const int batches = group_batches_;
  const bool stepped = group_ok_ > 0;
  group_batches_ = 0;
  if (stepped) {
    last_lr_ = opt_.lr();
    if (backend_)
      backend_->apply();
    else
      step_->apply();
    ++global_step_;
  } else {
    step_optimizer().zero_grad();
    autograd::Tape<T>::current().request_reset();
  }
  step_info_.epoch = epoch_ + 1;
  step_info_.step = global_step_;
  step_info_.batch = batch_in_epoch_;
  step_info_.batches_per_epoch = batches_per_epoch();
  step_info_.batches = batches;
  step_info_.total = ratio(group_total_, group_ok_);
  for (std::size_t k = 0; k < tasks_.size(); ++k) {
    step_info_.task_losses[k] = ratio(group_loss_sum_[k], group_loss_count_[k]);
    step_info_.task_weights[k] = ratio(group_weight_sum_[k], group_weight_count_[k]);
  }
  step_info_.lr = last_lr_;
  step_info_.skipped = !stepped;
  if (!stepped) return;
  if (sched_ && options_.scheduler_interval_ == SchedulerInterval::Step) sched_->step();
  if (on_step_) on_step_(step_info_);
  if (val_ && options_.eval_every_steps_ > 0 && global_step_ % options_.eval_every_steps_ == 0)
    evaluate(epoch_ + 1);
  if (log_.is_open() && options_.log_every_steps_ > 0 &&
      global_step_ % options_.log_every_steps_ == 0)
    log_.write(make_record(epoch_ + 1, false), "step");
  if (stop_requested_) stop_ = true;
  agree_on_stop();
  const bool last_due = !options_.last_path_.empty() && options_.checkpoint_every_steps_ > 0 &&
                        global_step_ % options_.checkpoint_every_steps_ == 0;
  commit(last_due);
}

template <typename T>
void Trainer<T>::end_epoch(bool complete) {
  const int number = epoch_ + 1;
  if (complete) {
    model_.end_epoch();
    ++epoch_;
    mid_epoch_ = false;
    if (val_ && options_.eval_every_epoch_ && last_eval_step_ != global_step_) evaluate(number);
  }
  EpochInfo rec = make_record(number, complete);
  history_.push_back(rec);
  log_.write(rec, complete ? "epoch" : "partial");
  progress_.end_epoch(rec, options_.monitor_.name());
  if (on_epoch_) on_epoch_(rec);
  if (stop_requested_) stop_ = true;
  agree_on_stop();
  if (complete && sched_ && options_.scheduler_interval_ == SchedulerInterval::Epoch)
    sched_->step();
  commit(!options_.last_path_.empty());
}

template <typename T>
void Trainer<T>::evaluate(int epoch_number) {
  model::EvalReport rep = backend_ ? backend_->evaluate(model_, *val_) : model_.evaluate(*val_);
  last_eval_step_ = global_step_;
  const Monitor& mon = options_.monitor_;
  const double v = mon.value(rep);
  const bool higher = mon.higher_is_better(rep);
  const double d = options_.min_delta_;
  const bool improved =
      std::isfinite(v) && (!has_best_ || (higher ? v > best_ + d : v < best_ - d));
  if (improved) {
    best_ = v;
    best_higher_ = higher;
    has_best_ = true;
    best_epoch_ = epoch_number;
    best_step_ = global_step_;
    bad_ = 0;
    best_pending_ = true;
    if (options_.restore_best_) snapshot_best();
  } else {
    ++bad_;
    if (options_.early_stopping_ && bad_ >= options_.patience_) {
      stop_ = true;
      stopped_early_ = true;
    }
  }
  last_report_ = rep;
  has_report_ = true;
  last_monitor_ = v;
  if (on_eval_) {
    EvalInfo info;
    info.epoch = epoch_;
    info.step = global_step_;
    info.report = std::move(rep);
    info.monitor = v;
    info.higher_is_better = higher;
    info.improved = improved;
    info.best = best_;
    info.bad_evaluations = bad_;
    on_eval_(info);
  }
}

template <typename T>
EpochInfo Trainer<T>::make_record(int number, bool complete) const {
  EpochInfo r;
  r.epoch = number;
  r.step = global_step_;
  r.complete = complete;
  r.tasks = tasks_;
  r.train_total = ratio(total_sum_, total_count_);
  r.train_losses.resize(tasks_.size());
  r.task_weights.resize(tasks_.size());
  for (std::size_t k = 0; k < tasks_.size(); ++k) {
    r.train_losses[k] = ratio(loss_sum_[k], loss_count_[k]);
    r.task_weights[k] = ratio(weight_sum_[k], weight_count_[k]);
  }
  r.lr = global_step_ > 0 ? last_lr_ : opt_.lr();
  r.elapsed_seconds = elapsed();
  if (has_report_) {
    r.has_validation = true;
    r.validation = last_report_;
    r.monitor = last_monitor_;
  }
  return r;
}

template <typename T>
void Trainer<T>::snapshot_best() {
  std::size_t k = 0;
  const auto copy = [&](const Tensor<T>& src) {
    if (k == best_values_.size()) best_values_.emplace_back(src.shape());
    Tensor<T>& dst = best_values_[k++];
    if (dst.numel() != src.numel()) dst.resize(src.shape());
    std::copy(src.data(), src.data() + src.numel(), dst.data());
  };
  for (const auto& np : model_.named_parameters()) copy(np.second->value());
  for (const auto& nb : model_.named_buffers()) copy(*nb.second);
  have_snapshot_ = true;
}

template <typename T>
bool Trainer<T>::restore_best() {
  if (have_snapshot_) {
    std::size_t k = 0;
    const auto put = [&](Tensor<T>& dst) {
      const Tensor<T>& src = best_values_[k++];
      std::copy(src.data(), src.data() + src.numel(), dst.data());
    };
    for (const auto& np : model_.named_parameters()) put(np.second->value());
    for (const auto& nb : model_.named_buffers()) put(*nb.second);
    return true;
  }
  if (!options_.best_path_.empty()) {  // resumed: the best is on disk
    io::CheckpointState<T> st;
    st.model = &model_;
    if (backend_)
      backend_->load_checkpoint(options_.best_path_, st, false);
    else
      io::load_checkpoint(options_.best_path_, st);
    return true;
  }
  return false;
}

template <typename T>
void Trainer<T>::save(const std::string& path) {
  io::CheckpointState<T> st = checkpoint_state();
  st.step = global_step_;
  auto& m = st.metadata;
  using io::detail::format_double;
  m["trainer.format"] = "1";
  m["trainer.tasks"] = std::to_string(tasks_.size());
  m["trainer.epoch"] = std::to_string(epoch_);
  m["trainer.mid_epoch"] = mid_epoch_ ? "1" : "0";
  m["trainer.batch_in_epoch"] = std::to_string(batch_in_epoch_);
  m["trainer.loss_sum"] = detail::join_numbers(loss_sum_);
  m["trainer.loss_count"] = detail::join_numbers(loss_count_);
  m["trainer.weight_sum"] = detail::join_numbers(weight_sum_);
  m["trainer.weight_count"] = detail::join_numbers(weight_count_);
  m["trainer.total_sum"] = format_double(total_sum_);
  m["trainer.total_count"] = format_double(total_count_);
  m["trainer.has_best"] = has_best_ ? "1" : "0";
  m["trainer.best"] = format_double(best_);
  m["trainer.best_higher"] = best_higher_ ? "1" : "0";
  m["trainer.best_epoch"] = std::to_string(best_epoch_);
  m["trainer.best_step"] = std::to_string(best_step_);
  m["trainer.bad"] = std::to_string(bad_);
  m["trainer.stopped_early"] = stopped_early_ ? "1" : "0";
  m["trainer.last_eval_step"] = std::to_string(last_eval_step_);
  m["trainer.last_lr"] = format_double(last_lr_);
  m["trainer.elapsed"] = format_double(elapsed());
  m["trainer.last_monitor"] = format_double(last_monitor_);
  std::string hist = "[";
  for (std::size_t i = 0; i < history_.size(); ++i)
    hist += (i ? "," : "") + train::detail::record_json(history_[i], "epoch", true);
  m["trainer.history"] = hist + "]";
  if (has_report_) {
    EpochInfo holder;
    holder.has_validation = true;
    holder.validation = last_report_;
    m["trainer.last_report"] = train::detail::record_json(holder, "report", true);
  }
  if (backend_)
    backend_->save_checkpoint(path, st);
  else
    io::save_checkpoint(path, st);
}

template <typename T>
typename Trainer<T>::Saved Trainer<T>::parse_saved(
    const std::string& path, const std::map<std::string, std::string>& m) const {
  std::vector<std::string> problems;
  const auto get = [&](const std::string& key) -> const std::string* {
    const auto it = m.find(key);
    if (it == m.end()) {
      problems.push_back("metadata \"user." + key + "\" is missing");
      return nullptr;
    }
    return &it->second;
  };
  const auto num = [&](const std::string& key, auto& out) {
    const std::string* s = get(key);
    if (s && !io::detail::parse_number(*s, out))
      problems.push_back("metadata \"user." + key + "\" = \"" + *s + "\" is not a number");
  };
  const auto flag = [&](const std::string& key, bool& out) {
    const std::string* s = get(key);
    if (s) out = *s == "1";
  };
  const std::size_t n = tasks_.size();
  const auto vec = [&](const std::string& key, std::vector<double>& out) {
    const std::string* s = get(key);
    if (!s) return;
    out.clear();
    std::istringstream in(*s);
    std::string w;
    while (in >> w) {
      double d = 0;
      if (!io::detail::parse_number(w, d) && w != "nan" && w != "-nan")
        problems.push_back("metadata \"user." + key + "\" holds \"" + w + "\"");
      out.push_back(io::detail::parse_number(w, d) ? d : std::nan(""));
    }
    if (out.size() != n)
      problems.push_back("metadata \"user." + key + "\" has " + std::to_string(out.size()) +
                         " values for " + std::to_string(n) + " tasks");
  };
  Saved s;
  std::size_t tasks = 0;
  num("trainer.tasks", tasks);
  if (tasks != n)
    problems.push_back("the checkpoint's Trainer had " + std::to_string(tasks) +
                       " tasks, the model has " + std::to_string(n));
  num("trainer.epoch", s.epoch);
  flag("trainer.mid_epoch", s.mid_epoch);
  num("trainer.batch_in_epoch", s.batch_in_epoch);
  vec("trainer.loss_sum", s.loss_sum);
  vec("trainer.loss_count", s.loss_count);
  vec("trainer.weight_sum", s.weight_sum);
  vec("trainer.weight_count", s.weight_count);
  num("trainer.total_sum", s.total_sum);
  num("trainer.total_count", s.total_count);
  flag("trainer.has_best", s.has_best);
  num("trainer.best", s.best);
  flag("trainer.best_higher", s.best_higher);
  num("trainer.best_epoch", s.best_epoch);
  num("trainer.best_step", s.best_step);
  num("trainer.bad", s.bad);
  flag("trainer.stopped_early", s.stopped_early);
  num("trainer.last_eval_step", s.last_eval_step);
  num("trainer.last_lr", s.last_lr);
  num("trainer.elapsed", s.elapsed);
  num("trainer.last_monitor", s.last_monitor);
  try {
    if (const std::string* h = get("trainer.history")) {
      const io::JsonValue list = io::parse_json(*h);
      for (const auto& v : list.as_array()) s.history.push_back(train::detail::record_from_json(v));
    }
    const auto it = m.find("trainer.last_report");
    if (it != m.end()) {
      s.has_report = true;
      s.last_report = train::detail::record_from_json(io::parse_json(it->second)).validation;
    }
  } catch (const std::exception& e) {
    problems.push_back(std::string("the Trainer history does not parse: ") + e.what());
  }
  io::detail::throw_problems("Trainer::resume: '" + path + "'", problems, "nothing was changed");
  return s;
}

template <typename T>
void Trainer<T>::apply_saved(Saved s) {
  epoch_ = s.epoch;
  mid_epoch_ = s.mid_epoch;
  batch_in_epoch_ = s.batch_in_epoch;
  loss_sum_ = std::move(s.loss_sum);
  loss_count_ = std::move(s.loss_count);
  weight_sum_ = std::move(s.weight_sum);
  weight_count_ = std::move(s.weight_count);
  total_sum_ = s.total_sum;
  total_count_ = s.total_count;
  has_best_ = s.has_best;
  best_ = s.best;
  best_higher_ = s.best_higher;
  best_epoch_ = s.best_epoch;
  best_step_ = s.best_step;
  bad_ = s.bad;
  stopped_early_ = s.stopped_early;
  last_eval_step_ = s.last_eval_step;
  last_lr_ = s.last_lr;
  elapsed_before_ = s.elapsed;
  last_monitor_ = s.last_monitor;
  history_ = std::move(s.history);
  // A run stopped within an epoch recorded it as partial; the resumed run completes it.
  if (mid_epoch_ && !history_.empty() && !history_.back().complete &&
      history_.back().epoch == epoch_ + 1)
    history_.pop_back();
  has_report_ = s.has_report;
  last_report_ = std::move(s.last_report);
  have_snapshot_ = false;
}

ONESTONE_EXTERN_CLASS(TRAIN, Trainer)

}  // namespace train
}  // namespace onestone
