#pragma once
/// @file data_parallel.hpp
/// Data-parallel training over MPI ranks: `check_same_structure` and `broadcast_module` (the
/// start of a run), `GradientAllreducer<T>` (gradients averaged in a few large fused buckets),
/// `DistributedBalancer<T>` (every balancing method sees what it would see on one process) and
/// `DistributedTrainStep<T>` (one training step over all ranks).
///
/// Equivalence: with a `DistributedLoader` (rank r reads block r of each global batch), N ranks
/// with batch B compute the same step as one process with batch N·B, for every loss-based and
/// gradient-based method, up to floating-point rounding (see docs/distributed.md for the
/// conditions: every task labelled on every rank or on none, no dropout or batch statistics).

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/distributed/communicator.hpp"
#include "onestone/model/multi_task_model.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/optim/optimizer.hpp"
#include "onestone/train/step.hpp"
#include "onestone/weighting/balanced_backward.hpp"
#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/step_context.hpp"

namespace onestone {
namespace distributed {

namespace detail {
inline std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t n) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
inline std::uint64_t fnv1a(std::uint64_t h, const std::string& s) {
  return fnv1a(h, s.data(), s.size());
}

/// Throws the same std::runtime_error on every rank unless every rank passed the same `n`
/// values (one collective: the maximum of v and of −v).
template <typename Buf>
void check_agree(const Communicator& comm, const std::int64_t* v, std::size_t n, Buf& scratch,
                 const char* what) {
  scratch.resize(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    scratch[i] = v[i];
    scratch[n + i] = -v[i];
  }
  comm.allreduce_max(scratch.data(), static_cast<std::int64_t>(2 * n));
  for (std::size_t i = 0; i < n; ++i)
    if (scratch[i] != -scratch[n + i])
      throw std::runtime_error(
          std::string("onestone::distributed: ") + what + " differs across the " +
          std::to_string(comm.size()) + " ranks (rank " + std::to_string(comm.rank()) + " has " +
          std::to_string(v[i]) + "; values range over [" + std::to_string(-scratch[n + i]) + ", " +
          std::to_string(scratch[i]) + "])");
}
}  // namespace detail

/// Checks, collectively, that every rank holds a module of the same structure (same parameter
/// and buffer names, in the same order, of the same shapes); throws the same
/// std::runtime_error on every rank otherwise (never a hang in a later collective of
/// mismatched size).
///
/// @code
/// onestone::distributed::check_same_structure(comm, model);   // before broadcast_module
/// @endcode
template <typename T>
void check_same_structure(const Communicator& comm, const nn::Module<T>& module,
                          const std::string& what = "the model") {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  std::int64_t params = 0, scalars = 0, buffers = 0;
  for (const auto& p : module.named_parameters()) {
    h = detail::fnv1a(h, p.first);
    for (int d = 0; d < p.second->shape().rank(); ++d) {
      const std::int64_t s = p.second->shape()[d];
      h = detail::fnv1a(h, &s, sizeof s);
    }
    ++params;
    scalars += p.second->numel();
  }
  for (const auto& b : module.named_buffers()) {
    h = detail::fnv1a(h, b.first);
    for (int d = 0; d < b.second->shape().rank(); ++d) {
      const std::int64_t s = b.second->shape()[d];
      h = detail::fnv1a(h, &s, sizeof s);
    }
    ++buffers;
    scalars += b.second->numel();
  }
  const std::int64_t v[4] = {params, buffers, scalars,
                             static_cast<std::int64_t>(h & 0x7fffffffffffffffULL)};
  std::vector<std::int64_t> scratch;
  static const char* names[4] = {"number of parameters", "number of buffers", "number of scalars",
                                 "hash of names and shapes"};
  for (int i = 0; i < 4; ++i)
    detail::check_agree(comm, v + i, 1, scratch, (what + "'s " + names[i]).c_str());
}

/// Copies rank 0's parameters and buffers (BatchNorm statistics) to every rank.
///
/// @code
/// onestone::distributed::broadcast_module(comm, model);
/// @endcode
template <typename T>
void broadcast_module(const Communicator& comm, nn::Module<T>& module) {
  for (auto* p : module.parameters()) comm.broadcast(p->value().data(), p->numel(), 0);
  for (auto& b : module.named_buffers()) comm.broadcast(b.second->data(), b.second->numel(), 0);
}

/// Averages gradients over the ranks in fused buckets: the tensors are laid out back to back in
/// preallocated buffers of at most `bucket_bytes` (a tensor larger than that gets a bucket of
/// its own), one `MPI_Allreduce` per bucket. No heap allocation after construction. The
/// reduction runs after the backward pass (no overlap with it).
///
/// @code
/// onestone::distributed::GradientAllreducer<float> ar(comm, opt.params());
/// // ... backward ...
/// ar.average();    // every parameter's grad() is now the mean over the ranks
/// opt.step();
/// @endcode
template <typename T>
class GradientAllreducer {
 public:
  GradientAllreducer(const Communicator& comm, std::vector<nn::Parameter<T>*> params,
                     double bucket_bytes = 25.0 * 1024 * 1024)
      : comm_(comm), params_(std::move(params)) {
    if (!(bucket_bytes > 0))
      throw std::invalid_argument("GradientAllreducer: bucket_bytes must be > 0");
    const Index cap = std::max<Index>(1, static_cast<Index>(bucket_bytes / sizeof(T)));
    Index total = 0, in_bucket = 0;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      const Index n = params_[i]->numel();
      if (buckets_.empty() || (in_bucket > 0 && in_bucket + n > cap)) {
        buckets_.push_back(Bucket{i, i, total, 0});
        in_bucket = 0;
      }
      buckets_.back().last = i + 1;
      buckets_.back().count += n;
      in_bucket += n;
      total += n;
    }
    flat_.resize(static_cast<std::size_t>(total));
  }

  /// grad ← mean over the ranks of grad, for every parameter.
  void average() {
    if (comm_.size() == 1) return;
    const T scale = T(1) / static_cast<T>(comm_.size());
    for (const Bucket& b : buckets_) {
      T* dst = flat_.data() + b.offset;
      for (std::size_t i = b.first; i < b.last; ++i) {
        const Index n = params_[i]->numel();
        const T* g = params_[i]->grad().data();
        std::copy(g, g + n, dst);
        dst += n;
      }
      comm_.allreduce_sum(flat_.data() + b.offset, b.count);
      const T* src = flat_.data() + b.offset;
      for (std::size_t i = b.first; i < b.last; ++i) {
        const Index n = params_[i]->numel();
        T* g = params_[i]->grad().data();
        for (Index k = 0; k < n; ++k) g[k] = src[k] * scale;
        src += n;
      }
    }
  }
  /// Buckets, hence MPI_Allreduce calls per step.
  int num_buckets() const noexcept { return static_cast<int>(buckets_.size()); }
  /// Scalars reduced per step.
  Index numel() const noexcept { return static_cast<Index>(flat_.size()); }

 private:
  struct Bucket {
    std::size_t first, last;
    Index offset, count;
  };
  Communicator comm_;
  std::vector<nn::Parameter<T>*> params_;
  std::vector<Bucket> buckets_;
  std::vector<T> flat_;
};

/// Wraps a balancing method so that it computes, on every rank, what it computes on one process
/// reading the union of the ranks' batches:
///   - loss family: the present tasks' losses are averaged over the ranks before the method
///     sees them (each local loss Lᵢ of value lᵢ is replaced by (Lᵢ − lᵢ) + L̄ᵢ: exactly the
///     global mean L̄ᵢ in value, the local gradient), so weights, histories (DWA) and learned
///     variances (uncertainty) follow the global losses;
///   - gradient families, parameter mode: the T×P Jacobians are averaged over the ranks (one
///     allreduce of T·P values) and the method combines the global Jacobian;
///   - gradient families, representation mode: the gradients of the shared representation are
///     per sample, so they are gathered (allgather of T·B·D values per rank) into the Jacobian
///     of the global batch, combined, and each rank back-propagates its own block of the
///     direction (scaled by N, since the trunk gradients are then averaged);
///   - the losses a gradient method reads, and FAMO's after-step losses, are averaged too;
///   - methods with random draws draw the same numbers on every rank (same seed, same inputs).
/// The method is the child module "method" (parameters "balancer.method.*"). Every rank must
/// have the same tasks present in a step (else a std::runtime_error on every rank). Auto-Lambda
/// (its look-ahead on a meta batch) is not supported.
///
/// @code
/// auto inner = onestone::weighting::make_balancer<float>("nash_mtl");
/// model.set_balancer(std::make_shared<onestone::distributed::DistributedBalancer<float>>(comm,
/// inner),
///                    onestone::weighting::GradientSource::Parameters);
/// @endcode
template <typename T>
class DistributedBalancer final : public weighting::Balancer<T> {
 public:
  using Vec = weighting::Vector<T>;
  using Jac = weighting::Jacobian<T>;
  using Info = weighting::StepInfo<T>;
  using weighting::Balancer<T>::combine_losses;
  using weighting::Balancer<T>::combine_gradients;
  using weighting::Balancer<T>::after_step;

  DistributedBalancer(const Communicator& comm, std::shared_ptr<weighting::Balancer<T>> method)
      : comm_(comm), inner_(std::move(method)) {
    if (!inner_) throw std::invalid_argument("DistributedBalancer: null method");
    if (dynamic_cast<DistributedBalancer*>(inner_.get()))
      throw std::invalid_argument("DistributedBalancer: the method is already distributed");
    if (inner_->name() == "auto_lambda")
      throw std::invalid_argument(
          "DistributedBalancer: auto_lambda (a look-ahead on a meta batch) is not supported "
          "across ranks");
    this->register_module("method", inner_);
    if (inner_->num_tasks() > 0) weighting::Balancer<T>::reset(inner_->num_tasks());
  }

  std::string name() const override { return inner_->name(); }
  weighting::Family family() const override { return inner_->family(); }
  bool supports_representation() const override { return inner_->supports_representation(); }
  bool needs_losses() const override { return inner_->needs_losses(); }
  bool needs_cross_gramian() const override { return inner_->needs_cross_gramian(); }
  bool per_coordinate_state() const override { return inner_->per_coordinate_state(); }
  bool keeps_task_state() const override { return inner_->keeps_task_state(); }
  bool wants_loss_after_step() const override { return inner_->wants_loss_after_step(); }
  weighting::Balancer<T>& method() noexcept { return *inner_; }
  const Communicator& communicator() const noexcept { return comm_; }

  void reset(int n) override {
    weighting::Balancer<T>::reset(n);
    if (inner_->num_tasks() != n) inner_->reset(n);
  }
  void end_epoch() override { inner_->end_epoch(); }

  Var<T> combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) override {
    agree_on_tasks(tasks.data(), tasks.size());
    const std::size_t m = losses.size();
    global_.resize(static_cast<Eigen::Index>(m));
    for (std::size_t k = 0; k < m; ++k) global_[static_cast<Eigen::Index>(k)] = losses[k].item();
    local_ = global_;
    average(global_);
    shifted_.clear();
    for (std::size_t k = 0; k < m; ++k) {
      const Eigen::Index r = static_cast<Eigen::Index>(k);
      // (L − l) + ḡ: exactly ḡ in value (L − l is exactly 0), the local gradient through L.
      shifted_.push_back(affine(affine(losses[k], T(1), -local_[r]), T(1), global_[r]));
    }
    Var<T> total = inner_->combine_losses(shifted_, tasks);
    sync();
    return total;
  }

  void backward(weighting::StepContext<T>& ctx) override {
    if (!inner_->needs_gradients()) {
      ctx.total().backward();
      return;
    }
    source_ = ctx.source();
    batch_ = 1;
    if (source_ == weighting::GradientSource::Representation) {
      const Var<T> z = ctx.shared_representation();
      if (z.defined() && z.shape().rank() > 0) batch_ = z.shape()[0];
    }
    weighting::detail::balanced_step_backward(*this, ctx);
  }

  void combine_gradients(const Jac& J, const Info& info, Vec& d) override { combine(J, info, d); }
  void combine_gradients(const Jac& J, const weighting::Matrix<T>& cross, const Info& info,
                         Vec& d) override {
    (void)cross;  // recomputed from the global Jacobian
    combine(J, info, d);
  }

  void after_step(const Vec& new_losses, const Info& info) override {
    global_ = new_losses;
    average(global_);
    inner_->after_step(global_, info);
    sync();
  }

  /// Seconds spent in this method's collectives since construction.
  double communication_seconds() const noexcept { return comm_seconds_; }

 private:
  void agree_on_tasks(const int* tasks, std::size_t m) {
    header_.assign(1, static_cast<std::int64_t>(m));
    for (std::size_t k = 0; k < m; ++k) header_.push_back(tasks ? tasks[k] : static_cast<int>(k));
    timed([&] {
      detail::check_agree(comm_, header_.data(), header_.size(), scratch_,
                          "the set of tasks present in the step (count, then task ids)");
    });
  }
  void average(Vec& v) {
    if (comm_.size() == 1) return;
    timed([&] { comm_.allreduce_sum(v.data(), v.size()); });
    v /= static_cast<T>(comm_.size());
  }
  template <typename F>
  void timed(F&& f) {
    const double t0 = MPI_Wtime();
    f();
    comm_seconds_ += MPI_Wtime() - t0;
  }

  void combine(const Jac& J, const Info& info, Vec& d) {
    const Eigen::Index m = J.rows();
    const Index N = comm_.size();
    agree_on_tasks(info.tasks, static_cast<std::size_t>(m));
    const std::int64_t shape[2] = {static_cast<std::int64_t>(J.cols()),
                                   static_cast<std::int64_t>(batch_)};
    timed([&] {
      detail::check_agree(comm_, shape, 2, scratch_,
                          "the per-task gradient width (columns of J, then batch size)");
    });
    Info g = info;
    if (info.losses) {
      losses_ = *info.losses;
      average(losses_);
      g.losses = &losses_;
    }
    if (source_ == weighting::GradientSource::Parameters || N == 1) {
      Jg_ = J;
      if (N > 1) {
        timed([&] { comm_.allreduce_sum(Jg_.data(), Jg_.size()); });
        Jg_ /= static_cast<T>(N);
      }
      if (source_ == weighting::GradientSource::Representation) {
        run_inner(g, batch_);
      } else {
        inner_->combine_gradients(Jg_, g, dg_);
      }
      d = dg_;
    } else {
      const Index per = J.cols();
      gathered_.resize(static_cast<std::size_t>(N * m * per));
      timed([&] { comm_.allgather(J.data(), m * per, gathered_.data()); });
      Jg_.resize(m, N * per);
      const T inv = T(1) / static_cast<T>(N);
      for (Index r = 0; r < N; ++r)
        for (Eigen::Index t = 0; t < m; ++t)
          Jg_.row(t).segment(r * per, per) = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(
                                                 gathered_.data() + (r * m + t) * per, per) *
                                             inv;
      run_inner(g, batch_ * N);
      d = dg_.segment(comm_.rank() * per, per) * static_cast<T>(N);
    }
    sync();
  }
  // The inner method on Jg_ (representation mode), with the cross-Gram matrix of the global
  // batch's two halves for double-sampling methods (as BalancedBackward forms it).
  void run_inner(const Info& g, Index batch) {
    if (inner_->needs_cross_gramian() && batch >= 2) {
      const Eigen::Index m = Jg_.rows();
      const Index h = batch / 2, per = Jg_.cols() / batch;
      A_.setZero(m, m);
      for (Index s = 0; s < h; ++s)
        A_.noalias() +=
            Jg_.middleCols(s * per, per) * Jg_.middleCols((s + h) * per, per).transpose();
      A_ *= T(2);
      inner_->combine_gradients(Jg_, A_, g, dg_);
    } else {
      inner_->combine_gradients(Jg_, g, dg_);
    }
  }
  void sync() {
    this->weights_ = inner_->weights();
    this->steps_ = inner_->steps();
    this->fallbacks_ = inner_->fallbacks();
    this->last_error_ = inner_->last_error();
  }

  Communicator comm_;
  std::shared_ptr<weighting::Balancer<T>> inner_;
  weighting::GradientSource source_ = weighting::GradientSource::Representation;
  Index batch_ = 1;
  Vec global_, local_, losses_, dg_;
  Jac Jg_;
  weighting::Matrix<T> A_;
  std::vector<T> gathered_;
  std::vector<Var<T>> shifted_;
  std::vector<std::int64_t> header_, scratch_;
  double comm_seconds_ = 0;
};

/// What `DistributedTrainStep` does with buffers (BatchNorm running statistics) after a step.
enum class BufferSync {
  None,      ///< each rank keeps its own
  Average,   ///< averaged over the ranks after every step (default)
  Broadcast  ///< rank 0's copied to every rank after every step
};

/// Options of `DistributedTrainStep`: `bucket_mb` (size of a fused gradient bucket, default 25),
/// `buffers` (`BufferSync`), `non_finite` (as `train::TrainStepOptions`).
///
/// @code
/// auto o = onestone::distributed::DataParallelOptions().bucket_mb(4).buffers(
///     onestone::distributed::BufferSync::Broadcast);
/// @endcode
struct DataParallelOptions {
  DataParallelOptions& bucket_mb(double v) {
    if (!(v > 0)) throw std::invalid_argument("DataParallelOptions: bucket_mb must be > 0");
    bucket_mb_ = v;
    return *this;
  }
  DataParallelOptions& buffers(BufferSync v) {
    buffers_ = v;
    return *this;
  }
  DataParallelOptions& non_finite(train::NonFinitePolicy p) {
    policy_ = p;
    return *this;
  }
  double bucket_mb_ = 25.0;
  BufferSync buffers_ = BufferSync::Average;
  train::NonFinitePolicy policy_ = train::NonFinitePolicy::Throw;
};

/// Wraps the model's balancer (if any, and not yet wrapped) in a `DistributedBalancer`, keeping
/// its gradient source. Returns the wrapper (nullptr without a balancer).
///
/// @code
/// onestone::distributed::distribute_balancer(comm, model);
/// @endcode
template <typename T>
DistributedBalancer<T>* distribute_balancer(const Communicator& comm, model::MultiTaskModel<T>& m) {
  weighting::Balancer<T>* b = m.balancer();
  if (!b) return nullptr;
  if (auto* d = dynamic_cast<DistributedBalancer<T>*>(b)) return d;
  std::shared_ptr<weighting::Balancer<T>> inner;
  for (const auto& c : m.named_children())
    if (c.first == "balancer") inner = std::dynamic_pointer_cast<weighting::Balancer<T>>(c.second);
  if (!inner) throw std::logic_error("distribute_balancer: the model's balancer is not reachable");
  auto wrapped = std::make_shared<DistributedBalancer<T>>(comm, inner);
  m.set_balancer(wrapped, m.gradient_source());
  return wrapped.get();
}

/// One data-parallel training step over the ranks of `comm`: at construction, the balancer is
/// wrapped (`distribute_balancer`), the ranks' model structures are compared (a clear error on
/// every rank if they differ) and rank 0's parameters and buffers are broadcast. Each step:
/// forward on this rank's batch; the task losses (and which tasks are present) are averaged
/// over the ranks, so skipping and non-finite checks decide the same everywhere; the
/// (balanced) backward; the gradients of every trained parameter averaged in fused buckets;
/// the optimizer step; buffers synchronised; the balancer's after-step hook. `result()` holds
/// the global mean losses. No heap allocation in steady state from onestone (MPI's own
/// internals excepted).
///
/// @code
/// onestone::distributed::Environment env(argc, argv);
/// onestone::distributed::Communicator comm;
/// onestone::distributed::DistributedLoader<float> loader(train, 32, comm.rank(), comm.size());
/// onestone::distributed::DistributedTrainStep<float> step(comm, model, opt);
/// loader.start_epoch();
/// while (const auto* b = loader.next()) step(*b);
/// @endcode
template <typename T>
class DistributedTrainStep {
 public:
  DistributedTrainStep(const Communicator& comm, model::MultiTaskModel<T>& model,
                       optim::Optimizer<T>& opt,
                       DataParallelOptions options = DataParallelOptions())
      : comm_(comm),
        model_(model),
        opt_(opt),
        options_(options),
        reducer_(comm, opt.params(), options.bucket_mb_ * 1024.0 * 1024.0) {
    distribute_balancer(comm_, model_);
    check_same_structure(comm_, model_);
    std::int64_t trained[2] = {static_cast<std::int64_t>(opt_.params().size()), reducer_.numel()};
    detail::check_agree(comm_, trained, 2, scratch_,
                        "the optimizer's parameters (count, then scalars)");
    broadcast_module(comm_, model_);
    Index nb = 0;
    for (auto& b : model_.named_buffers()) {
      buffers_.push_back(b.second);
      nb += b.second->numel();
    }
    flat_buffers_.resize(static_cast<std::size_t>(nb));
  }

  /// One step on this rank's `batch` (every rank calls it, with batches of the same size).
  const train::StepResult& operator()(const data::Batch<T>& batch) {
    autograd::Tape<T>& tape = autograd::Tape<T>::current();
    opt_.zero_grad();
    tape.reset();
    const int n = model_.num_tasks();
    const double N = static_cast<double>(comm_.size());
    result_.task_losses.assign(static_cast<std::size_t>(n), std::nan(""));
    result_.present.assign(static_cast<std::size_t>(n), false);
    result_.skipped = false;
    result_.skip_reason.clear();
    result_.step = steps_;
    ++steps_;
    // Every rank must have labels, or every rank skips (the forward of a loss balancer is
    // collective).
    std::int64_t has = has_labels(batch) ? 1 : 0;
    timed([&] { comm_.allreduce_min(&has, 1); });
    if (!has) {
      result_.skipped = true;
      result_.skip_reason = "a rank has no labelled sample in its batch";
      tape.request_reset();
      return result_;
    }
    Var<T> total = model_.loss(batch);
    // [presence per task, loss per task, total], summed over the ranks.
    pack_.assign(static_cast<std::size_t>(2 * n + 1), 0.0);
    for (int i = 0; i < n; ++i)
      if (model_.present(i)) {
        pack_[static_cast<std::size_t>(i)] = 1.0;
        pack_[static_cast<std::size_t>(n + i)] =
            static_cast<double>(model_.task_losses()[static_cast<std::size_t>(i)].item());
      }
    pack_[static_cast<std::size_t>(2 * n)] = static_cast<double>(total.item());
    timed([&] { comm_.allreduce_sum(pack_.data(), static_cast<std::int64_t>(pack_.size())); });
    for (int i = 0; i < n; ++i) {
      const double c = pack_[static_cast<std::size_t>(i)];
      if (c != 0.0 && c != N)
        throw std::runtime_error(
            "DistributedTrainStep: task '" + model_.task(i).name_ + "' has labelled samples on " +
            std::to_string(int(c)) + " of " + std::to_string(comm_.size()) + " ranks at step " +
            std::to_string(steps_ - 1) + "; every rank must have it present or none");
      if (c == 0.0) continue;
      const double li = pack_[static_cast<std::size_t>(n + i)] / N;
      result_.present[static_cast<std::size_t>(i)] = true;
      result_.task_losses[static_cast<std::size_t>(i)] = li;
      if (!std::isfinite(li) && !result_.skipped) {
        if (options_.policy_ == train::NonFinitePolicy::Throw)
          throw std::runtime_error("DistributedTrainStep: the mean loss of task '" +
                                   model_.task(i).name_ + "' over the ranks is " +
                                   (std::isnan(li) ? "NaN" : "infinite") + " at step " +
                                   std::to_string(steps_ - 1));
        result_.skipped = true;
        result_.skip_reason = "non-finite loss of task '" + model_.task(i).name_ + "'";
      }
    }
    result_.total = pack_[static_cast<std::size_t>(2 * n)] / N;
    if (!result_.skipped && !std::isfinite(result_.total)) {
      if (options_.policy_ == train::NonFinitePolicy::Throw)
        throw std::runtime_error("DistributedTrainStep: the total loss is not finite at step " +
                                 std::to_string(steps_ - 1));
      result_.skipped = true;
      result_.skip_reason = "non-finite total loss";
    }
    if (result_.skipped) {
      opt_.zero_grad();
      tape.request_reset();
      return result_;
    }
    weighting::Balancer<T>* b = model_.balancer();
    if (b) {
      if (b->needs_gradients() &&
          model_.gradient_source() == weighting::GradientSource::Parameters && shared_.empty())
        shared_ = model_.strategy().shared_parameters();
      Context ctx(*this, total);
      b->backward(ctx);
    } else {
      total.backward();
    }
    timed([&] { reducer_.average(); });
    opt_.step();
    sync_buffers();
    if (b && b->wants_loss_after_step())
      train::detail::after_step_losses(model_, *b, batch, after_);
    return result_;
  }

  bool has_labels(const data::Batch<T>& batch) {
    for (int i = 0; i < model_.num_tasks(); ++i)
      if (model_.target_for(i, batch).labelled_count() > 0) return true;
    return false;
  }

  const train::StepResult& result() const noexcept { return result_; }
  std::int64_t steps() const noexcept { return steps_; }
  const Communicator& communicator() const noexcept { return comm_; }
  const GradientAllreducer<T>& allreducer() const noexcept { return reducer_; }
  /// Seconds spent in collectives by the step (gradient buckets, losses, buffers) and by the
  /// balancer (Jacobians, losses) since construction.
  double communication_seconds() const noexcept {
    double s = comm_seconds_;
    if (auto* d = dynamic_cast<const DistributedBalancer<T>*>(model_.balancer()))
      s += d->communication_seconds();
    return s;
  }
  model::MultiTaskModel<T>& model() noexcept { return model_; }
  optim::Optimizer<T>& optimizer() noexcept { return opt_; }

 private:
  template <typename F>
  void timed(F&& f) {
    const double t0 = MPI_Wtime();
    f();
    comm_seconds_ += MPI_Wtime() - t0;
  }
  void sync_buffers() {
    if (buffers_.empty() || comm_.size() == 1 || options_.buffers_ == BufferSync::None) return;
    if (options_.buffers_ == BufferSync::Broadcast) {
      timed([&] {
        for (auto* b : buffers_) comm_.broadcast(b->data(), b->numel(), 0);
      });
      return;
    }
    T* dst = flat_buffers_.data();
    for (auto* b : buffers_) dst = std::copy(b->data(), b->data() + b->numel(), dst);
    timed([&] {
      comm_.allreduce_sum(flat_buffers_.data(), static_cast<std::int64_t>(flat_buffers_.size()));
    });
    const T inv = T(1) / static_cast<T>(comm_.size());
    const T* src = flat_buffers_.data();
    for (auto* b : buffers_)
      for (Index k = 0; k < b->numel(); ++k) b->data()[k] = *src++ * inv;
  }

  class Context final : public train::detail::ModelStepContext<T> {
   public:
    Context(DistributedTrainStep& s, const Var<T>& total)
        : train::detail::ModelStepContext<T>(s.model_, s.opt_, s.shared_, s.balanced_, total) {}
    void forward_meta_batch() override {
      throw std::logic_error("DistributedTrainStep: meta batches (auto_lambda) are not supported");
    }
  };

  Communicator comm_;
  model::MultiTaskModel<T>& model_;
  optim::Optimizer<T>& opt_;
  DataParallelOptions options_;
  GradientAllreducer<T> reducer_;
  train::StepResult result_;
  weighting::BalancedBackward<T> balanced_;
  std::vector<nn::Parameter<T>*> shared_;
  std::vector<Tensor<T>*> buffers_;
  std::vector<T> flat_buffers_;
  std::vector<double> pack_;
  std::vector<std::int64_t> scratch_;
  weighting::Vector<T> after_;
  std::int64_t steps_ = 0;
  double comm_seconds_ = 0;
};

}  // namespace distributed
}  // namespace onestone
