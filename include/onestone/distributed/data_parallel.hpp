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

#include <algorithm>
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
/// its own), one reduction per bucket. No heap allocation by onestone after construction.
///
/// Two ways to use it:
///   - `average()` after the backward pass: one blocking `MPI_Allreduce` per bucket;
///   - overlapped with the backward pass: `begin(tape)` before it scans the recorded graph for
///     the last node (in the reverse loop) that reads each bucket's parameters and installs the
///     tape's backward hook; as the loop passes that node, the bucket is copied out and its
///     `MPI_Iallreduce` started (buckets are started in a fixed order, last bucket first, the
///     same on every rank whatever the graph), and the hook lets MPI progress the reductions in
///     flight (`MPI_Testall`) after every node; `finish()` starts what is left, waits for all
///     and writes the means back. `begin(tape, false)` defers the start to `arm()` (a balancer
///     whose last backward pass is the one that completes the gradients).
///
/// @code
/// onestone::distributed::GradientAllreducer<float> ar(comm, opt.params());
/// ar.begin(onestone::autograd::Tape<float>::current());   // after the forward
/// total.backward();                                       // buckets start as they are done
/// ar.finish();   // every parameter's grad() is now the mean over the ranks
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
        buckets_.push_back(Bucket{i, i, total, 0, 0, 0});
        in_bucket = 0;
      }
      buckets_.back().last = i + 1;
      buckets_.back().count += n;
      in_bucket += n;
      total += n;
    }
    flat_.resize(static_cast<std::size_t>(total));
    // Requests numbered in launch order (last bucket first), one per chunk of < 2^31 values.
    int nreq = 0;
    for (std::size_t b = buckets_.size(); b-- > 0;) {
      buckets_[b].req = nreq;
      buckets_[b].nreq = static_cast<int>((buckets_[b].count + kChunk - 1) / kChunk);
      nreq += buckets_[b].nreq;
    }
    requests_.assign(static_cast<std::size_t>(nreq), MPI_REQUEST_NULL);
    kmin_.resize(buckets_.size());
    lookup_.reserve(params_.size());
  }
  GradientAllreducer(const GradientAllreducer&) = delete;
  GradientAllreducer& operator=(const GradientAllreducer&) = delete;
  ~GradientAllreducer() { abandon(); }

  /// grad ← mean over the ranks of grad, for every parameter (blocking, after the backward).
  void average() {
    if (comm_.size() == 1) return;
    const double t0 = MPI_Wtime();
    for (const Bucket& b : buckets_) {
      pack(b);
      comm_.allreduce_sum(flat_.data() + b.offset, b.count);
      unpack(b);
    }
    seconds_ += MPI_Wtime() - t0;
  }

  /// Prepares an overlapped reduction of the gradients of the graph recorded on `tape` (call
  /// after the forward, before the backward) and installs the tape's backward hook; with
  /// `armed` false, buckets start only after `arm()`. Nothing happens on one rank.
  void begin(autograd::Tape<T>& tape, bool armed = true) {
    abandon();
    if (comm_.size() == 1) return;
    const double t0 = MPI_Wtime();
    // Which bucket each parameter-gradient variable feeds (by the gradient's address).
    lookup_.clear();
    for (std::size_t b = 0; b < buckets_.size(); ++b)
      for (std::size_t i = buckets_[b].first; i < buckets_[b].last; ++i)
        lookup_.push_back({params_[i]->grad().data(), static_cast<int>(b)});
    std::sort(lookup_.begin(), lookup_.end(),
              [](const Entry& a, const Entry& c) { return a.grad < c.grad; });
    var_bucket_.assign(tape.num_vars(), -1);
    for (std::size_t id = 0; id < tape.num_vars(); ++id) {
      const autograd::VarSlot<T>& s = tape.slot(static_cast<int>(id));
      if (!s.external_grad || !s.requires_grad) continue;
      const auto it = std::lower_bound(lookup_.begin(), lookup_.end(), s.grad,
                                       [](const Entry& a, const T* g) { return a.grad < g; });
      if (it != lookup_.end() && it->grad == s.grad) var_bucket_[id] = it->bucket;
    }
    // The lowest node index reading each bucket's parameters: once the reverse loop has run
    // that node, the bucket's gradients are final. No reader: final from the start.
    const std::size_t nodes = tape.num_nodes();
    for (auto& k : kmin_) k = nodes;
    for (std::size_t k = nodes; k-- > 0;) {
      const autograd::Node<T>& nd = tape.node(k);
      for (int j = 0; j < nd.num_in; ++j) {
        const int in = nd.in[j];
        if (in < 0 || static_cast<std::size_t>(in) >= var_bucket_.size()) continue;
        const int b = var_bucket_[static_cast<std::size_t>(in)];
        if (b >= 0) kmin_[static_cast<std::size_t>(b)] = k;
      }
    }
    next_ = 0;
    launched_req_ = 0;
    in_flight_ = false;
    started_in_backward_ = 0;
    armed_ = armed;
    tape_ = &tape;
    prev_hook_ = tape.backward_hook();
    prev_context_ = tape.backward_hook_context();
    tape.set_backward_hook(&GradientAllreducer::on_node, this);
    active_ = true;
    seconds_ += MPI_Wtime() - t0;
  }
  /// Lets the hook start buckets from the next node on (see `begin`).
  void arm() noexcept { armed_ = true; }
  /// Between `begin` and `finish`.
  bool active() const noexcept { return active_; }

  /// Starts the buckets not started yet, waits for all reductions and writes the means into
  /// the gradients; removes the hook. Every rank must call it.
  void finish() {
    if (!active_) return;
    restore_hook();
    const double t0 = MPI_Wtime();
    while (next_ < buckets_.size()) launch();
    Communicator::wait_all(requests_.data(), static_cast<int>(requests_.size()));
    in_flight_ = false;
    active_ = false;
    for (const Bucket& b : buckets_) unpack(b);
    seconds_ += MPI_Wtime() - t0;
  }
  /// Removes the hook of an unfinished overlapped reduction (after an exception); reductions in
  /// flight are left to MPI.
  void abandon() noexcept {
    if (!active_) return;
    restore_hook();
    active_ = false;
  }

  /// Buckets, hence reductions per step.
  int num_buckets() const noexcept { return static_cast<int>(buckets_.size()); }
  /// Scalars reduced per step.
  Index numel() const noexcept { return static_cast<Index>(flat_.size()); }
  /// Buckets of the last overlapped step that started during the backward pass (the others
  /// started in `finish`).
  int started_in_backward() const noexcept { return started_in_backward_; }
  /// Seconds spent in this object's MPI calls and copies (blocking reductions, starts, progress
  /// calls, the final wait) since construction.
  double seconds() const noexcept { return seconds_; }

 private:
  static constexpr Index kChunk = Index(1) << 30;
  struct Bucket {
    std::size_t first, last;
    Index offset, count;
    int req, nreq;
  };
  struct Entry {
    const T* grad;
    int bucket;
  };

  void pack(const Bucket& b) {
    T* dst = flat_.data() + b.offset;
    for (std::size_t i = b.first; i < b.last; ++i) {
      const Index n = params_[i]->numel();
      const T* g = params_[i]->grad().data();
      std::copy(g, g + n, dst);
      dst += n;
    }
  }
  void unpack(const Bucket& b) {
    const T scale = T(1) / static_cast<T>(comm_.size());
    const T* src = flat_.data() + b.offset;
    for (std::size_t i = b.first; i < b.last; ++i) {
      const Index n = params_[i]->numel();
      T* g = params_[i]->grad().data();
      for (Index k = 0; k < n; ++k) g[k] = src[k] * scale;
      src += n;
    }
  }
  // Starts the next bucket in launch order (last bucket first).
  void launch() {
    const Bucket& b = buckets_[buckets_.size() - 1 - next_];
    pack(b);
    for (int c = 0; c < b.nreq; ++c) {
      const Index off = b.offset + static_cast<Index>(c) * kChunk;
      const Index n = std::min(kChunk, b.offset + b.count - off);
      comm_.iallreduce_sum(flat_.data() + off, n, &requests_[static_cast<std::size_t>(b.req + c)]);
    }
    launched_req_ = b.req + b.nreq;
    in_flight_ = true;
    ++next_;
  }
  static void on_node(void* self, std::size_t k) {
    static_cast<GradientAllreducer*>(self)->node_done(k);
  }
  void node_done(std::size_t k) {
    if (!armed_ || (next_ == buckets_.size() && !in_flight_)) return;
    const double t0 = MPI_Wtime();
    while (next_ < buckets_.size() && kmin_[buckets_.size() - 1 - next_] >= k) {
      launch();
      ++started_in_backward_;
    }
    if (in_flight_) in_flight_ = !Communicator::test_all(requests_.data(), launched_req_);
    seconds_ += MPI_Wtime() - t0;
  }
  void restore_hook() noexcept {
    if (tape_ && tape_->backward_hook() == &GradientAllreducer::on_node &&
        tape_->backward_hook_context() == this)
      tape_->set_backward_hook(prev_hook_, prev_context_);
    tape_ = nullptr;
  }

  Communicator comm_;
  std::vector<nn::Parameter<T>*> params_;
  std::vector<Bucket> buckets_;
  std::vector<T> flat_;
  std::vector<MPI_Request> requests_;
  std::vector<std::size_t> kmin_;
  std::vector<Entry> lookup_;
  std::vector<int> var_bucket_;
  std::size_t next_ = 0;
  int launched_req_ = 0, started_in_backward_ = 0;
  bool armed_ = false, active_ = false, in_flight_ = false;
  autograd::Tape<T>* tape_ = nullptr;
  typename autograd::Tape<T>::BackwardHook prev_hook_ = nullptr;
  void* prev_context_ = nullptr;
  double seconds_ = 0;
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

  /// The gradient reduction to arm once the combined direction is known (representation
  /// mode: the pass that back-propagates it through the trunk completes the gradients, so the
  /// buckets can start during it). Set by `DistributedTrainStep`; nullptr for none.
  void set_overlap(GradientAllreducer<T>* reducer) noexcept { overlap_ = reducer; }
  GradientAllreducer<T>* overlap() const noexcept { return overlap_; }

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
    // Next comes the back-propagation of d through the trunk: the last pass of the step.
    if (source_ == weighting::GradientSource::Representation && overlap_ && overlap_->active())
      overlap_->arm();
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
  GradientAllreducer<T>* overlap_ = nullptr;
};

/// What `DistributedTrainStep` does with buffers (BatchNorm running statistics) after a step.
enum class BufferSync {
  None,      ///< each rank keeps its own
  Average,   ///< averaged over the ranks after every step (default)
  Broadcast  ///< rank 0's copied to every rank after every step
};

/// Options of `DistributedTrainStep`: `bucket_mb` (size of a fused gradient bucket, default 25),
/// `overlap` (start each bucket's reduction during the backward pass as soon as its gradients
/// are final, default true), `buffers` (`BufferSync`), `non_finite` (as
/// `train::TrainStepOptions`).
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
  DataParallelOptions& overlap(bool on) {
    overlap_ = on;
    return *this;
  }
  DataParallelOptions& non_finite(train::NonFinitePolicy p) {
    policy_ = p;
    return *this;
  }
  double bucket_mb_ = 25.0;
  bool overlap_ = true;
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
/// (balanced) backward, during which the gradients of every trained parameter are averaged in
/// fused buckets, each started as soon as the backward is done with it (see
/// `GradientAllreducer`; `DataParallelOptions().overlap(false)`: after the backward); the
/// optimizer step; buffers synchronised; the balancer's after-step hook. `result()` holds the
/// global mean losses. No heap allocation in steady state from onestone (MPI's own internals
/// excepted).
///
/// Overlap by balancer family: static weights and loss weightings back-propagate one total, so
/// every bucket can start during that pass. Gradient methods in representation mode: the
/// per-task passes through the heads and the Jacobian's collective come first, then the
/// combined direction is back-propagated through the trunk; buckets start during that last
/// pass (the heads' buckets at its first node). Parameter mode: the shared gradients exist
/// only once the direction is combined (written at once, no backward pass follows), so the
/// buckets are reduced after it, as without overlap. A strategy regularizer in a
/// gradient-balanced step adds a pass after the trunk's: no overlap then.
///
/// `accumulate(batch)` + `apply()` split the step for gradient accumulation (the Trainer):
/// several batches' gradients (each balanced on its own) are summed and reduced once — during
/// the backward of the batch passed with `last = true`, or in `apply()`.
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
    DistributedBalancer<T>* db = distribute_balancer(comm_, model_);
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
    if (db) {
      // Kept alive by a reference of our own, so the destructor can unhook it even when the
      // model is gone first.
      for (const auto& c : model_.named_children())
        if (c.first == "balancer")
          balancer_ = std::dynamic_pointer_cast<DistributedBalancer<T>>(c.second);
      if (balancer_) balancer_->set_overlap(&reducer_);
    }
  }
  DistributedTrainStep(const DistributedTrainStep&) = delete;
  DistributedTrainStep& operator=(const DistributedTrainStep&) = delete;
  ~DistributedTrainStep() {
    if (balancer_ && balancer_->overlap() == &reducer_) balancer_->set_overlap(nullptr);
  }

  /// One step on this rank's `batch` (every rank calls it, with batches of the same size).
  const train::StepResult& operator()(const data::Batch<T>& batch) {
    opt_.zero_grad();
    accumulated_ = 0;
    reduced_ = false;
    if (!accumulate(batch, true)) {
      opt_.zero_grad();
      autograd::Tape<T>::current().request_reset();
      return result_;
    }
    apply();
    return result_;
  }

  /// Forward and (balanced) backward of `batch`, adding to the parameters' gradients; false
  /// (nothing added) when the step is skipped, on every rank alike. With `last` the batch ends
  /// the group: the group's gradients are averaged over the ranks during its backward. Call
  /// `apply()` after the group's last batch.
  bool accumulate(const data::Batch<T>& batch, bool last = false) {
    if (reduced_)
      throw std::logic_error(
          "DistributedTrainStep::accumulate: the group's gradients were already reduced (a "
          "batch passed with last = true); call apply() first");
    autograd::Tape<T>& tape = autograd::Tape<T>::current();
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
      return false;
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
    if (result_.skipped) return false;
    weighting::Balancer<T>* b = model_.balancer();
    const bool gradient_method = b && b->needs_gradients();
    const bool overlap = last && overlap_allowed(b);
    // The reduction starts during the backward: at once for one pass of the total, when the
    // balancer arms it for a gradient method (representation mode).
    if (overlap) reducer_.begin(tape, !gradient_method);
    Abandon guard{overlap ? &reducer_ : nullptr};
    if (b) {
      if (gradient_method && model_.gradient_source() == weighting::GradientSource::Parameters &&
          shared_.empty())
        shared_ = model_.strategy().shared_parameters();
      Context ctx(*this, total);
      b->backward(ctx);
    } else {
      total.backward();
    }
    if (last) {
      if (overlap) {
        reducer_.finish();
        guard.reducer = nullptr;
      } else {
        reducer_.average();
      }
      reduced_ = true;
    }
    last_batch_ = &batch;
    ++accumulated_;
    return true;
  }

  /// The optimizer step after `accumulate`: the gradients averaged over the ranks (unless the
  /// last batch did it) and over the accumulated batches, the step, buffers synchronised, the
  /// balancer's after-step hook on the last batch.
  void apply() {
    if (accumulated_ == 0 && !reduced_) return;
    if (!reduced_) reducer_.average();
    reduced_ = false;
    if (accumulated_ > 1)
      for (auto* p : opt_.params()) p->grad().vector() /= static_cast<T>(accumulated_);
    accumulated_ = 0;
    opt_.step();
    sync_buffers();
    weighting::Balancer<T>* b = model_.balancer();
    if (b && b->wants_loss_after_step() && last_batch_)
      train::detail::after_step_losses(model_, *b, *last_batch_, after_);
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
  const DataParallelOptions& options() const noexcept { return options_; }
  /// Seconds spent in collectives by the step (gradient buckets — with overlap, the starts and
  /// progress calls during the backward and the final wait —, losses, buffers) and by the
  /// balancer (Jacobians, losses) since construction.
  double communication_seconds() const noexcept {
    double s = comm_seconds_ + reducer_.seconds();
    if (auto* d = dynamic_cast<const DistributedBalancer<T>*>(model_.balancer()))
      s += d->communication_seconds();
    return s;
  }
  model::MultiTaskModel<T>& model() noexcept { return model_; }
  optim::Optimizer<T>& optimizer() noexcept { return opt_; }

 private:
  struct Abandon {
    GradientAllreducer<T>* reducer;
    ~Abandon() {
      if (reducer) reducer->abandon();
    }
  };
  // Whether this step's reduction can overlap its backward (see the class comment).
  bool overlap_allowed(weighting::Balancer<T>* b) const {
    if (!options_.overlap_ || comm_.size() == 1) return false;
    if (!b || !b->needs_gradients()) return true;
    if (model_.gradient_source() != weighting::GradientSource::Representation) return false;
    const Var<T>& reg = model_.regularizer();
    return !(reg.defined() && reg.requires_grad());
  }
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
  std::shared_ptr<DistributedBalancer<T>> balancer_;
  train::StepResult result_;
  weighting::BalancedBackward<T> balanced_;
  std::vector<nn::Parameter<T>*> shared_;
  std::vector<Tensor<T>*> buffers_;
  std::vector<T> flat_buffers_;
  std::vector<double> pack_;
  std::vector<std::int64_t> scratch_;
  weighting::Vector<T> after_;
  const data::Batch<T>* last_batch_ = nullptr;
  int accumulated_ = 0;
  bool reduced_ = false;
  std::int64_t steps_ = 0;
  double comm_seconds_ = 0;
};

}  // namespace distributed
}  // namespace onestone
