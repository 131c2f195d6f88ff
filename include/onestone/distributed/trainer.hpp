#pragma once
/// @file trainer.hpp
/// `distributed::DataParallelBackend<T>`: runs a `train::Trainer` as data-parallel training over
/// the ranks of a communicator — the Trainer's epochs, accumulation, schedules, evaluation,
/// early stopping, logs and checkpoints, with `DistributedTrainStep`s on each rank's shard of
/// the data. The MPI side of `train::TrainerBackend` (the train/ layer has no MPI).

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "onestone/distributed/checkpoint.hpp"
#include "onestone/distributed/communicator.hpp"
#include "onestone/distributed/data_parallel.hpp"
#include "onestone/distributed/sampler.hpp"
#include "onestone/io/json.hpp"
#include "onestone/train/trainer.hpp"
#include "onestone/train/training_log.hpp"

namespace onestone {
namespace distributed {

namespace detail {
/// Runs `f` on every rank; if it throws on any, every rank throws the first failing rank's
/// message (one collective when nothing fails).
inline void collectively(const Communicator& comm, const std::function<void()>& f,
                         const std::string& what) {
  std::string msg;
  try {
    f();
  } catch (const std::exception& e) {
    msg = e.what();
    if (msg.empty()) msg = "unknown error";
  }
  std::int64_t failed = msg.empty() ? comm.size() : comm.rank();
  comm.allreduce_min(&failed, 1);
  if (failed < comm.size())
    share_outcome(comm, failed != comm.rank(), msg, static_cast<int>(failed), what);
}
}  // namespace detail

/// A `train::TrainerBackend` for data-parallel training over MPI: every rank builds the same
/// model, optimizer, options and Trainer, with this backend in place of a `DataLoader`.
///   - Data: a `DistributedLoader` over `train` with `batch_per_rank` samples per rank (the
///     global batch is `batch_per_rank × ranks`; reshuffled per epoch from the sampler's seed).
///   - Steps: a `DistributedTrainStep` (balancer wrapped, model checked and broadcast from rank
///     0 when the Trainer is built); with `accumulate_steps(k)` a group's gradients are
///     reduced once, overlapped with the backward of its k-th batch.
///   - Evaluation: rank 0 evaluates the whole validation loader and broadcasts the report
///     (exact: every rank holds the same parameters, and metrics such as AUC or F1 do not
///     average over shards); so monitors, best checkpoints and early stopping decide alike.
///   - Stop requests (`request_stop()` from a callback on any rank) stop every rank.
///   - Logs and progress: rank 0 only. Callbacks run on every rank.
///   - Checkpoints: written by rank 0 alone, atomically, with the sampler's position
///     (`distributed::save_checkpoint`); `Trainer::resume` reads them on every rank, with any
///     number of ranks for the same global batch.
///
/// @code
/// onestone::distributed::Environment env(argc, argv);
/// onestone::distributed::Communicator comm;
/// onestone::distributed::DataParallelBackend<float> backend(comm, train_set, 32,
///     onestone::distributed::SamplerOptions().seed(1));
/// onestone::train::Trainer<float> trainer(model, opt, backend,
///     onestone::train::TrainerOptions().epochs(10).checkpoint_last("run/last.safetensors"));
/// trainer.set_validation(val_loader);   // read by rank 0
/// auto summary = trainer.fit();         // the same on every rank
/// @endcode
template <typename T>
class DataParallelBackend final : public train::TrainerBackend<T> {
 public:
  DataParallelBackend(const Communicator& comm, const data::Dataset<T>& train, Index batch_per_rank,
                      SamplerOptions sampler = SamplerOptions(),
                      DataParallelOptions options = DataParallelOptions())
      : comm_(comm),
        loader_(train, batch_per_rank, comm.rank(), comm.size(), sampler),
        options_(options) {}
  DataParallelBackend(const Communicator&, data::Dataset<T>&&, Index,
                      SamplerOptions = SamplerOptions(),
                      DataParallelOptions = DataParallelOptions()) = delete;

  void attach(model::MultiTaskModel<T>& model, optim::Optimizer<T>& optimizer,
              const train::TrainerOptions& options) override {
    if (step_)
      throw std::logic_error("DataParallelBackend: already attached to a Trainer (one each)");
    accumulate_steps_ = options.accumulate_steps_;
    step_ = std::make_unique<DistributedTrainStep<T>>(
        comm_, model, optimizer, DataParallelOptions(options_).non_finite(options.non_finite_));
  }

  void start_epoch() override {
    loader_.start_epoch();
    in_group_ = 0;
  }
  bool next(data::Batch<T>& batch) override { return loader_.next(batch); }
  std::int64_t num_batches() const override {
    return static_cast<std::int64_t>(loader_.sampler().num_batches());
  }

  bool accumulate(const data::Batch<T>& batch) override {
    const bool last = ++in_group_ >= accumulate_steps_;
    if (last) in_group_ = 0;
    return step().accumulate(batch, last);
  }
  void apply() override {
    step().apply();
    in_group_ = 0;
  }
  const train::StepResult& result() const override { return step().result(); }

  bool is_writer() const override { return comm_.is_root(); }

  /// Rank 0 evaluates; the report is broadcast (as the exact JSON the Trainer's checkpoints
  /// use), so every rank gets the same values, bit for bit.
  model::EvalReport evaluate(model::MultiTaskModel<T>& model, data::DataLoader<T>& val) override {
    const double t0 = MPI_Wtime();
    std::string text;
    bool ok = true;
    if (comm_.is_root()) {
      try {
        train::EpochInfo holder;
        holder.has_validation = true;
        holder.validation = model.evaluate(val);
        text = train::detail::record_json(holder, "report", true);
      } catch (const std::exception& e) {
        ok = false;
        text = e.what();
      }
    }
    detail::share_outcome(comm_, ok, comm_.is_root() ? text : std::string(), 0,
                          "evaluating on rank 0");
    std::int64_t n = static_cast<std::int64_t>(text.size());
    comm_.broadcast(&n, 1, 0);
    text.resize(static_cast<std::size_t>(n));
    if (n > 0) comm_.broadcast(&text[0], n, 0);
    model::EvalReport rep = train::detail::record_from_json(io::parse_json(text)).validation;
    eval_seconds_ += MPI_Wtime() - t0;
    return rep;
  }

  bool any(bool flag) override {
    std::int64_t v = flag ? 1 : 0;
    comm_.allreduce_max(&v, 1);
    return v != 0;
  }
  void collective(const std::function<void()>& f, const std::string& what) override {
    detail::collectively(comm_, f, what);
  }

  void save_checkpoint(const std::string& path, io::CheckpointState<T>& state) override {
    distributed::save_checkpoint(comm_, path, state, &loader_.sampler());
    if (comm_.is_root()) ++written_;
  }
  void load_checkpoint(const std::string& path, io::CheckpointState<T>& state,
                       bool position) override {
    distributed::load_checkpoint(comm_, path, state, position ? &loader_.sampler() : nullptr);
  }

  /// The step (after the Trainer is built): `communication_seconds()`, `allreducer()`.
  DistributedTrainStep<T>& step() const {
    if (!step_) throw std::logic_error("DataParallelBackend: not attached to a Trainer yet");
    return *step_;
  }
  DistributedLoader<T>& loader() noexcept { return loader_; }
  const Communicator& communicator() const noexcept { return comm_; }
  /// Checkpoints this rank wrote (rank 0: all of them; the others: none).
  int checkpoints_written() const noexcept { return written_; }
  /// Seconds spent in evaluations (rank 0's evaluation and the broadcast; the other ranks wait).
  double evaluation_seconds() const noexcept { return eval_seconds_; }

 private:
  Communicator comm_;
  DistributedLoader<T> loader_;
  DataParallelOptions options_;
  std::unique_ptr<DistributedTrainStep<T>> step_;
  int accumulate_steps_ = 1, in_group_ = 0, written_ = 0;
  double eval_seconds_ = 0;
};

}  // namespace distributed
}  // namespace onestone
