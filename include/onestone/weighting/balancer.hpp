#pragma once
/// @file balancer.hpp
/// `Balancer<T>`: the interface of every task-balancing method, in three families:
///   - `LossWeighting<T>`: sees the task losses only and forms the total loss;
///   - `GramianWeighting<T>`: a weighting of the Gram matrix G = JJᵀ (plus losses and its own
///     state) giving w; the direction d = Jᵀw is formed once, here, by the aggregator;
///   - `GradientMethod<T>`: gradient methods that are not of that form (GradDrop, MoCo, DB-MTL,
///     ExcessMTL) and give d directly.
/// Every method saves and restores its state one way (`get_extra_state` / `set_extra_state`),
/// and every method takes the tasks of a step as a subset (`StepInfo`): a task without a
/// labelled sample in a batch is left out of that step, its per-task state untouched.

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/extra_state.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/weighting/jacobian.hpp"
#include "onestone/weighting/options.hpp"
#include "onestone/weighting/step_context.hpp"

namespace onestone {
namespace weighting {

template <typename T>
class Balancer;
namespace detail {
/// The gradient families' backward (defined in balanced_backward.hpp, included at the end).
template <typename T>
void balanced_step_backward(Balancer<T>& b, StepContext<T>& ctx);
}  // namespace detail

/// The three families of balancing methods (see `Balancer`).
enum class Family { Loss, Gramian, Gradient };

inline const char* family_name(Family f) {
  return f == Family::Loss ? "loss" : (f == Family::Gramian ? "gramian" : "gradient");
}

/// The tasks taking part in one step: row r of the Jacobian (or entry r of the losses) belongs to
/// task `task(r)`; `losses` holds one loss per row when the method needs them.
///
/// @code
/// int ids[] = {0, 2};                       // task 1 had no labelled sample
/// onestone::weighting::StepInfo<float> info;
/// info.rows = 2; info.tasks = ids; info.losses = &two_losses;
/// balancer.combine_gradients(J_two_rows, info, d);
/// @endcode
template <typename T>
struct StepInfo {
  Eigen::Index rows = 0;              ///< tasks present (rows of J)
  const int* tasks = nullptr;         ///< task id of each row; null: row r is task r
  const Vector<T>* losses = nullptr;  ///< one loss per row, or null
  int task(Eigen::Index r) const { return tasks ? tasks[r] : static_cast<int>(r); }
  /// True when every one of `n` tasks is present in natural order.
  bool complete(int n) const {
    if (rows != n) return false;
    for (Eigen::Index r = 0; r < rows; ++r)
      if (task(r) != r) return false;
    return true;
  }
};

namespace detail {

/// √diag(G), the norms of the present tasks' gradients, into `norms`; throws
/// std::runtime_error naming `method` and the task when one is zero (for the methods that divide
/// by them: IMTL-G, ConFIG).
template <typename T>
void gradient_norms(const std::string& method, const Matrix<T>& G, const StepInfo<T>& info,
                    Vector<T>& norms) {
  norms = G.diagonal().cwiseSqrt();
  for (Eigen::Index i = 0; i < G.rows(); ++i)
    if (!(norms[i] > T(0)))
      throw std::runtime_error(method + ": task " + std::to_string(info.task(i)) +
                               " has a zero gradient");
}

}  // namespace detail

/// A task-balancing method. The model holds one as its "balancer" submodule: learnable weights
/// of a method are its parameters ("balancer.*"), its other state is saved by checkpoints
/// through `get_extra_state` / `set_extra_state`.
///
/// A method is sized for `num_tasks()` tasks (`reset`); each step passes the present tasks.
/// `weights()` reports, per task, the weight of the last step (0 for an absent task).
///
/// Example (a custom loss weighting):
/// @code
/// template <typename T>
/// struct Inverse : onestone::weighting::LossWeighting<T> {
///   std::string name() const override { return "inverse"; }
///   void update_weights(const onestone::weighting::Vector<T>& l,
///                       const onestone::weighting::StepInfo<T>&,
///                       onestone::weighting::Vector<T>& w) override {
///     w = l.cwiseInverse();   // wᵢ = 1/Lᵢ
///   }
/// };
/// @endcode
template <typename T>
class Balancer : public nn::Module<T> {
 public:
  using Vec = Vector<T>;
  using Jac = Jacobian<T>;
  using Info = StepInfo<T>;

  std::string name() const override = 0;
  virtual Family family() const = 0;
  /// True for methods that combine per-task gradients.
  bool needs_gradients() const { return family() != Family::Loss; }
  /// True when the method may use representation gradients.
  virtual bool supports_representation() const { return true; }
  /// True when the gradient method needs the task losses.
  virtual bool needs_losses() const { return false; }
  /// True for double-sampling methods (MoDo, SDMGrad) that weigh a cross-Gram matrix
  /// A = J₁J₂ᵀ of two independent gradient estimates.
  virtual bool needs_cross_gramian() const { return false; }
  /// True when the method keeps state per gradient coordinate (its Jacobian width must not
  /// change between steps).
  virtual bool per_coordinate_state() const { return false; }
  /// True when the method keeps per-task state across steps (then its number of tasks is fixed
  /// by `reset`; a method without one adapts to each Jacobian it is given on its own).
  virtual bool keeps_task_state() const { return false; }

  /// Sizes the method for `num_tasks` tasks and clears its history.
  virtual void reset(int num_tasks) {
    num_tasks_ = num_tasks;
    weights_ = Vec::Ones(num_tasks);
    steps_ = 0;
    fallbacks_ = 0;
  }
  int num_tasks() const noexcept { return num_tasks_; }
  /// Steps taken (calls of combine_losses or combine_gradients).
  std::int64_t steps() const noexcept { return steps_; }

  /// The total loss from the losses of the present tasks: `losses[k]` is task `tasks[k]`'s.
  /// Loss weighting only.
  virtual Var<T> combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) {
    (void)losses, (void)tasks;
    throw std::logic_error(name() + " is a gradient method: use combine_gradients");
  }
  /// Same with every task present.
  Var<T> combine_losses(const std::vector<Var<T>>& losses) {
    all_tasks_.resize(losses.size());
    for (std::size_t k = 0; k < losses.size(); ++k) all_tasks_[k] = static_cast<int>(k);
    return combine_losses(losses, all_tasks_);
  }

  /// The combined direction d (length J.cols()) from the Jacobian J of the present tasks (row
  /// r = task info.task(r)). Gradient families only.
  virtual void combine_gradients(const Jac& J, const Info& info, Vec& d) {
    (void)J, (void)info, (void)d;
    throw std::logic_error(name() + " is a loss weighting: use combine_losses");
  }
  /// Double sampling: d from J and the cross-Gram matrix A = J₁J₂ᵀ of two independent
  /// estimates of J (methods with `needs_cross_gramian()`; others ignore A).
  virtual void combine_gradients(const Jac& J, const Matrix<T>& cross, const Info& info, Vec& d) {
    (void)cross;
    combine_gradients(J, info, d);
  }
  /// Every task present (row r = task r), no losses.
  void combine_gradients(const Jac& J, Vec& d) {
    Info info;
    info.rows = J.rows();
    combine_gradients(J, info, d);
  }
  /// Every task present, with their losses.
  void combine_gradients(const Jac& J, const Vec& losses, Vec& d) {
    Info info;
    info.rows = J.rows();
    info.losses = &losses;
    combine_gradients(J, info, d);
  }

  /// The backward of one training step (called by `train::TrainStep` after the forward): the
  /// loss family back-propagates the total; the gradient families take per-task gradients and
  /// back-propagate their combined direction (`BalancedBackward`); a method with its own
  /// procedure (Auto-Lambda's look-ahead) overrides this.
  virtual void backward(StepContext<T>& ctx) { ctx.total().backward(); }

  /// Called at the end of every epoch (epoch-level methods such as DWA).
  virtual void end_epoch() {}
  /// True for methods that need the losses on the same batch after the optimizer step (FAMO).
  virtual bool wants_loss_after_step() const { return false; }
  /// Receives those losses (one per present task of the step).
  virtual void after_step(const Vec& new_losses, const Info& info) { (void)new_losses, (void)info; }
  /// Same with every task present.
  void after_step(const Vec& new_losses) {
    Info info;
    info.rows = new_losses.size();
    after_step(new_losses, info);
  }

  /// Task weights of the last step, one per task (0 for a task absent from it).
  const Vec& weights() const noexcept { return weights_; }
  /// Steps on which the method could not decide (a solver failed) and fell back to its previous
  /// weights.
  std::int64_t fallbacks() const noexcept { return fallbacks_; }
  /// The message of the last such failure.
  const std::string& last_error() const noexcept { return last_error_; }

  /// Saves the weights and counters; every method adds its own state (all of it: histories,
  /// moving averages, generators, warm starts).
  void get_extra_state(nn::ExtraState& s) const override {
    s.put("weights", weights_);
    s.put("steps", steps_);
    s.put("fallbacks", fallbacks_);
  }
  /// Restores what `get_extra_state` saved. Methods read all of their entries before changing
  /// anything (all or nothing).
  void set_extra_state(const nn::ExtraState& s) override {
    Vec w;
    s.get("weights", w, static_cast<Eigen::Index>(num_tasks_));
    const std::int64_t st = s.get_int("steps", 0, std::numeric_limits<std::int64_t>::max());
    const std::int64_t fb = s.get_int("fallbacks", 0, std::numeric_limits<std::int64_t>::max());
    weights_ = std::move(w);
    steps_ = st;
    fallbacks_ = fb;
  }

 protected:
  /// A method used on its own (not sized by a model) takes the number of tasks of its input:
  /// at the first call, or at every call when it keeps no per-task state.
  void adapt(Eigen::Index rows, const Info& info) {
    if (num_tasks_ == 0 || (!keeps_task_state() && info.tasks == nullptr && rows != num_tasks_))
      reset(static_cast<int>(rows));
  }
  /// Checks the step's rows against the method's size.
  void check_info(const Info& info, Eigen::Index rows, const char* what) const {
    if (info.rows != rows)
      throw std::invalid_argument(name() + ": " + std::to_string(rows) + " " + what +
                                  " but the step lists " + std::to_string(info.rows) + " tasks");
    for (Eigen::Index r = 0; r < rows; ++r)
      if (info.task(r) < 0 || info.task(r) >= num_tasks_)
        throw std::invalid_argument(name() + ": task id " + std::to_string(info.task(r)) +
                                    " outside the method's " + std::to_string(num_tasks_) +
                                    " tasks (call reset(num_tasks) first)");
  }
  /// weights_ = 0 for every task, then w[r] for task(r).
  void scatter_weights(const Vec& w, const Info& info) {
    if (weights_.size() != num_tasks_) weights_.resize(num_tasks_);
    weights_.setZero();
    for (Eigen::Index r = 0; r < w.size(); ++r) weights_[info.task(r)] = w[r];
  }
  /// sub[r] = full[task(r)] (per-task state restricted to the step's tasks).
  static void gather(const Vec& full, const Info& info, Vec& sub) {
    sub.resize(info.rows);
    for (Eigen::Index r = 0; r < info.rows; ++r) sub[r] = full[info.task(r)];
  }
  /// full[task(r)] = sub[r].
  static void scatter(const Vec& sub, const Info& info, Vec& full) {
    for (Eigen::Index r = 0; r < info.rows; ++r) full[info.task(r)] = sub[r];
  }
  /// The previous weights of the step's tasks (1 where never set), for fallbacks.
  void previous_weights(const Info& info, Vec& w) const {
    w.resize(info.rows);
    for (Eigen::Index r = 0; r < info.rows; ++r) {
      const T v = weights_.size() == num_tasks_ ? weights_[info.task(r)] : T(1);
      w[r] = v == T(0) ? T(1) : v;
    }
  }
  void record_failure(const std::exception& e) {
    ++fallbacks_;
    last_error_ = e.what();
  }

  int num_tasks_ = 0;
  Vec weights_;
  std::int64_t steps_ = 0;
  std::int64_t fallbacks_ = 0;
  std::string last_error_;
  std::vector<int> all_tasks_;
};

/// Loss weighting: the total loss is Σ wᵢLᵢ over the present tasks with wᵢ from
/// `update_weights` (treated as constants), or any differentiable expression when a method
/// overrides `combine_losses` (uncertainty weighting's learned variances).
template <typename T>
class LossWeighting : public Balancer<T> {
 public:
  using Vec = Vector<T>;
  using Balancer<T>::combine_losses;
  Family family() const override { return Family::Loss; }
  Var<T> combine_losses(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) override {
    prepare(losses, tasks);
    update_weights(values_, info_, w_);
    if (w_.size() != values_.size())
      throw std::logic_error(this->name() + ": update_weights gave " + std::to_string(w_.size()) +
                             " weights for " + std::to_string(values_.size()) + " losses");
    this->scatter_weights(w_, info_);
    ++this->steps_;
    return weighted_sum(losses, w_);
  }

 protected:
  /// The weights w (one per present task, in order) from the losses' values.
  virtual void update_weights(const Vec& losses, const StepInfo<T>& info, Vec& w) {
    (void)info;
    w.setOnes(losses.size());
  }
  /// Fills values_ and info_ for the step (for methods overriding combine_losses).
  void prepare(const std::vector<Var<T>>& losses, const std::vector<int>& tasks) {
    if (losses.size() != tasks.size() || losses.empty())
      throw std::invalid_argument(this->name() + ": " + std::to_string(losses.size()) +
                                  " losses for " + std::to_string(tasks.size()) + " task ids");
    StepInfo<T> probe;
    probe.tasks = tasks.data();
    this->adapt(static_cast<Eigen::Index>(losses.size()), probe);
    values_.resize(static_cast<Eigen::Index>(losses.size()));
    for (std::size_t k = 0; k < losses.size(); ++k)
      values_[static_cast<Eigen::Index>(k)] = losses[k].item();
    info_.rows = values_.size();
    info_.tasks = tasks.data();
    info_.losses = &values_;
    this->check_info(info_, info_.rows, "losses");
  }
  /// Σₖ w[k]·losses[k] as a graph (the weights are constants).
  static Var<T> weighted_sum(const std::vector<Var<T>>& losses, const Vec& w) {
    Var<T> total;
    for (std::size_t k = 0; k < losses.size(); ++k) {
      Var<T> term = affine(losses[k], w[static_cast<Eigen::Index>(k)], T(0));
      total = total.defined() ? total + term : term;
    }
    return total;
  }
  Vec values_, w_;
  StepInfo<T> info_;
};

/// A weighting of the Gram matrix: the method computes w from G = JJᵀ (and the losses and its
/// state); the aggregator forms d = Jᵀw here, once, for every such method. Options shared by all
/// (`aggregate`): "sum" (the method's own scale, default), "mean" (w divided by the number m of
/// tasks in the step: TorchJD's convention for Aligned-MTL, PCGrad's mean variant) or
/// "times_tasks" (w multiplied by m: FairGrad's and SDMGrad's reference code, which scale d by
/// the number of tasks "to match the sum loss"), and `max_norm` (> 0: d rescaled to at most that
/// norm after the aggregate, as Nash-MTL's, FairGrad's and SDMGrad's reference code clip the
/// update).
///
/// A method whose solver fails on a step (opposed or zero gradients) does not stop training:
/// the step uses the method's previous weights of the present tasks (1 at first), counted in
/// `fallbacks()`.
template <typename T>
class GramianWeighting : public Balancer<T> {
 public:
  using Vec = Vector<T>;
  using Jac = Jacobian<T>;
  using Info = StepInfo<T>;
  using Balancer<T>::combine_gradients;
  Family family() const override { return Family::Gramian; }
  void backward(StepContext<T>& ctx) override { detail::balanced_step_backward(*this, ctx); }

  void combine_gradients(const Jac& J, const Info& info, Vec& d) override {
    detail::check_jacobian(this->name().c_str(), J);
    prepare(J, info);
    gram(J, G_);
    run(G_, &J, info);
    d.noalias() = J.transpose() * w_;
    finish(J, info, d);
  }
  void combine_gradients(const Jac& J, const Matrix<T>& cross, const Info& info, Vec& d) override {
    if (!this->needs_cross_gramian()) {
      combine_gradients(J, info, d);
      return;
    }
    detail::check_jacobian(this->name().c_str(), J);
    prepare(J, info);
    if (cross.rows() != J.rows() || cross.cols() != J.rows() || !detail::all_finite(cross))
      throw std::invalid_argument(this->name() + ": cross-Gram matrix of shape " +
                                  detail::shape_str(cross.rows(), cross.cols()) + " for " +
                                  std::to_string(J.rows()) + " tasks, or not finite");
    run(cross, &J, info);
    d.noalias() = J.transpose() * w_;
    finish(J, info, d);
  }
  /// The weights from a Gram matrix alone (no Jacobian: e.g. G reduced across MPI ranks), one
  /// per row of the step. Methods that read J (the dual-cone projections) factor G instead.
  void weigh_gramian(const Matrix<T>& G, const Info& info, Vec& w) {
    detail::check_square(this->name().c_str(), G);
    this->adapt(G.rows(), info);
    info_ = info;
    this->check_info(info, G.rows(), "rows of the Gram matrix");
    run(G, nullptr, info);
    w = w_;
    this->scatter_weights(w_, info);
    ++this->steps_;
  }

  /// How w is scaled after the method (see the class comment).
  enum class Aggregate { sum, mean, times_tasks };
  void set_aggregate(Aggregate a) { aggregate_ = a; }
  Aggregate aggregate() const { return aggregate_; }
  /// "mean" (true) or "sum" (false).
  void set_aggregate_mean(bool mean) { aggregate_ = mean ? Aggregate::mean : Aggregate::sum; }
  bool aggregate_mean() const { return aggregate_ == Aggregate::mean; }
  /// Cap on ‖d‖ (0 = none).
  void set_max_norm(double v) {
    if (!(v >= 0) || !std::isfinite(v))
      throw std::invalid_argument(this->name() + ": max_norm must be finite and >= 0");
    max_norm_ = v;
  }
  double max_norm() const { return max_norm_; }
  /// Reads the aggregator options `aggregate` (sum | mean | times_tasks) and `max_norm`
  /// (registry factories).
  void read_aggregator_options(const MethodOptions& o) {
    const char* now = aggregate_ == Aggregate::mean          ? "mean"
                      : aggregate_ == Aggregate::times_tasks ? "times_tasks"
                                                             : "sum";
    const std::string a = o.word("aggregate", now, {"sum", "mean", "times_tasks"});
    aggregate_ = a == "mean"          ? Aggregate::mean
                 : a == "times_tasks" ? Aggregate::times_tasks
                                      : Aggregate::sum;
    set_max_norm(o.number("max_norm", max_norm_));
  }

 protected:
  /// w (one per row of G, in row order) from G (or a cross-Gram matrix), J when available.
  virtual void weigh(const Matrix<T>& G, const Jac* J, const Info& info, Vec& w) = 0;

  void prepare(const Jac& J, const Info& info) {
    this->adapt(J.rows(), info);
    Info in = info;
    if (in.rows == 0) in.rows = J.rows();
    this->check_info(in, J.rows(), "rows in the Jacobian");
    if (this->needs_losses() || in.losses)
      detail::check_losses(this->name().c_str(), J, in.losses, false);
    info_ = in;
  }
  void run(const Matrix<T>& G, const Jac* J, const Info& info) {
    bool solved = true;
    try {
      weigh(G, J, info_, w_);
      if (w_.size() != G.rows() || !detail::all_finite(w_))
        throw std::runtime_error(this->name() + ": the weighting gave " +
                                 std::to_string(w_.size()) + " weights for " +
                                 std::to_string(G.rows()) + " tasks, or non-finite ones");
    } catch (const std::invalid_argument&) {
      throw;
    } catch (const std::exception& e) {
      this->record_failure(e);
      this->previous_weights(info, w_);  // already in the aggregate's scale
      solved = false;
    }
    if (!solved) return;
    if (aggregate_ == Aggregate::mean)
      w_ /= static_cast<T>(w_.size());
    else if (aggregate_ == Aggregate::times_tasks)
      w_ *= static_cast<T>(w_.size());
  }
  void finish(const Jac& J, const Info& info, Vec& d) {
    (void)J;
    if (max_norm_ > 0) {
      const T n = d.norm();
      if (n > static_cast<T>(max_norm_)) {
        const T s = static_cast<T>(max_norm_) / n;
        d *= s;
        w_ *= s;
      }
    }
    this->scatter_weights(w_, info);
    ++this->steps_;
  }

  Matrix<T> G_;
  Vec w_;
  Info info_;
  Aggregate aggregate_ = Aggregate::sum;
  double max_norm_ = 0;
};

/// A gradient method that is not a weighting of the Gram matrix: it gives d from J directly
/// (per-coordinate rules or per-coordinate state). A failure falls back to d = Σ wᵢgᵢ with the
/// method's previous weights.
template <typename T>
class GradientMethod : public Balancer<T> {
 public:
  using Vec = Vector<T>;
  using Jac = Jacobian<T>;
  using Info = StepInfo<T>;
  using Balancer<T>::combine_gradients;
  Family family() const override { return Family::Gradient; }
  void backward(StepContext<T>& ctx) override { detail::balanced_step_backward(*this, ctx); }

  void combine_gradients(const Jac& J, const Info& info, Vec& d) override {
    detail::check_jacobian(this->name().c_str(), J);
    this->adapt(J.rows(), info);
    Info in = info;
    if (in.rows == 0) in.rows = J.rows();
    this->check_info(in, J.rows(), "rows in the Jacobian");
    if (this->needs_losses() || in.losses)
      detail::check_losses(this->name().c_str(), J, in.losses, false);
    try {
      direction(J, in, d, w_);
      if (d.size() != J.cols() || !detail::all_finite(d))
        throw std::runtime_error(this->name() + ": the direction has " + std::to_string(d.size()) +
                                 " entries for " + std::to_string(J.cols()) +
                                 " coordinates, or non-finite ones");
    } catch (const std::invalid_argument&) {
      throw;
    } catch (const std::exception& e) {
      this->record_failure(e);
      this->previous_weights(in, w_);
      d.noalias() = J.transpose() * w_;
    }
    this->scatter_weights(w_, in);
    ++this->steps_;
  }

 protected:
  /// d from J; `w` receives the task weights to report (one per row) when the method has them.
  virtual void direction(const Jac& J, const Info& info, Vec& d, Vec& w) = 0;
  Vec w_;
};

}  // namespace weighting
}  // namespace onestone

#include "onestone/weighting/balanced_backward.hpp"
