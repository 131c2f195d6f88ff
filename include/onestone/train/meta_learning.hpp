#pragma once
/// @file meta_learning.hpp
/// Meta-learning over a family of tasks — learning an initialisation that adapts to a new task
/// in a few gradient steps: first-order MAML (`FOMAML`, Finn et al. 2017) and `Reptile`
/// (Nichol et al. 2018), with the pieces they share: a snapshot of parameter values
/// (`ParameterSnapshot`), a few plain SGD steps on a support batch (`adapt`), and the query loss
/// after 0, 1, ..., n such steps (`adapt_and_evaluate`, parameters restored afterwards).
///
/// The model is anything whose loss on a `data::Batch` can be written as a graph: a
/// `MultiTaskModel` (`[&](const data::Batch<T>& b) { return model.loss(b); }`) or any module.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/nn/parameter.hpp"
#include "onestone/optim/optimizer.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone {
namespace train {

/// One task of a meta-learning family: a support batch (the few labelled samples adaptation
/// uses) and a query batch (held-out samples of the same task that measure the adaptation).
///
/// @code
/// onestone::train::MetaTask<float> task;
/// task.support = ...;   // e.g. K = 10 points of one sine wave
/// task.query = ...;     // other points of the same wave
/// @endcode
template <typename T>
struct MetaTask {
  data::Batch<T> support;
  data::Batch<T> query;
};

/// The loss of the model on a batch, as a graph on the current tape (a scalar `Var`).
/// Example: `MetaLossFn<float> f = [&](const data::Batch<float>& b) { return model.loss(b); };`
template <typename T>
using MetaLossFn = std::function<Var<T>(const data::Batch<T>&)>;

/// Draws one task of the family from a generator (used by `MetaLearner::step(sampler)`).
/// Example: `MetaTaskSampler<float> s = [&](Generator& g) { return family.sample(g); };`
template <typename T>
using MetaTaskSampler = std::function<MetaTask<T>(Generator&)>;

/// Options of `FOMAML` and `Reptile`, with chained builders (invalid values throw
/// std::invalid_argument at once).
///
/// @code
/// auto opts = onestone::train::MetaOptions().inner_lr(0.01).inner_steps(1)
///                 .meta_lr(1e-3).meta_batch_size(25).seed(7);
/// @endcode
struct MetaOptions {
  /// Learning rate α of the inner (adaptation) SGD steps. Default 0.01.
  MetaOptions& inner_lr(double a) {
    if (!(a > 0) || !std::isfinite(a))
      throw std::invalid_argument("MetaOptions::inner_lr: must be finite and > 0");
    inner_lr_ = a;
    return *this;
  }
  /// SGD steps of the inner loop on each task's support batch. Default 1.
  MetaOptions& inner_steps(int k) {
    if (k < 1)
      throw std::invalid_argument("MetaOptions::inner_steps: must be >= 1, got " +
                                  std::to_string(k));
    inner_steps_ = k;
    return *this;
  }
  /// Meta learning rate β (FOMAML) or ε (Reptile) of the outer update when no meta optimizer
  /// is set (plain SGD on the meta-gradient). Default 1e-3.
  MetaOptions& meta_lr(double b) {
    if (!(b > 0) || !std::isfinite(b))
      throw std::invalid_argument("MetaOptions::meta_lr: must be finite and > 0");
    meta_lr_ = b;
    return *this;
  }
  /// Tasks per meta-step when tasks are drawn by a sampler. Default 25.
  MetaOptions& meta_batch_size(int n) {
    if (n < 1)
      throw std::invalid_argument("MetaOptions::meta_batch_size: must be >= 1, got " +
                                  std::to_string(n));
    meta_batch_size_ = n;
    return *this;
  }
  /// Seed of the learner's generator, which drives the task sampler. Default 0x5eed.
  MetaOptions& seed(std::uint64_t s) {
    seed_ = s;
    return *this;
  }
  double inner_lr_ = 0.01;
  int inner_steps_ = 1;
  double meta_lr_ = 1e-3;
  int meta_batch_size_ = 25;
  std::uint64_t seed_ = 0x5eedULL;
};

/// The values of a list of parameters, saved once and put back any number of times (no
/// allocation after construction).
///
/// @code
/// onestone::train::ParameterSnapshot<float> snap(model.parameters());
/// onestone::train::adapt<float>(model.parameters(), loss, task.support, 5, 0.01);
/// snap.restore();   // back to the meta-learned initialisation
/// @endcode
template <typename T>
class ParameterSnapshot {
 public:
  explicit ParameterSnapshot(std::vector<nn::Parameter<T>*> params) : params_(std::move(params)) {
    for (auto* p : params_)
      if (!p) throw std::invalid_argument("ParameterSnapshot: null parameter");
    values_.reserve(params_.size());
    for (auto* p : params_) values_.push_back(static_cast<const nn::Parameter<T>&>(*p).value());
  }
  /// Saves the current values again.
  void save() {
    check();
    for (std::size_t k = 0; k < params_.size(); ++k)
      copy(static_cast<const nn::Parameter<T>&>(*params_[k]).value(), values_[k]);
  }
  /// Puts the saved values back.
  void restore() {
    check();
    for (std::size_t k = 0; k < params_.size(); ++k) params_[k]->set_value(values_[k]);
  }
  /// The saved value of parameter k.
  const Tensor<T>& value(std::size_t k) const { return values_.at(k); }
  const std::vector<nn::Parameter<T>*>& params() const noexcept { return params_; }

 private:
  void check() const {
    for (std::size_t k = 0; k < params_.size(); ++k)
      if (params_[k]->shape() != values_[k].shape())
        throw std::logic_error("ParameterSnapshot: parameter " + std::to_string(k) +
                               " changed shape since the snapshot");
  }
  static void copy(const Tensor<T>& from, Tensor<T>& to) {
    std::copy(from.data(), from.data() + from.numel(), to.data());
  }
  std::vector<nn::Parameter<T>*> params_;
  std::vector<Tensor<T>> values_;
};

namespace detail {

// Clears the gradients, builds the loss of `batch` on a fresh graph and back-propagates it;
// returns the loss value.
template <typename T>
double meta_backward(const std::vector<nn::Parameter<T>*>& params, const MetaLossFn<T>& loss,
                     const data::Batch<T>& batch) {
  if (batch.size() == 0) throw std::invalid_argument("meta-learning: empty batch");
  for (auto* p : params) p->zero_grad();
  autograd::Tape<T>& tape = autograd::Tape<T>::current();
  tape.reset();
  Var<T> l = loss(batch);
  if (l.numel() != 1)
    throw std::invalid_argument("meta-learning: the loss has shape " + l.shape().str() +
                                ", not one element");
  const double v = static_cast<double>(l.item());
  if (!std::isfinite(v)) throw std::runtime_error("meta-learning: the loss is not finite");
  l.backward();
  return v;
}

}  // namespace detail

/// The loss of the model on `batch`, without recording a graph.
/// Example: `double mse = onestone::train::evaluate_loss<float>(loss, task.query);`
template <typename T>
double evaluate_loss(const MetaLossFn<T>& loss, const data::Batch<T>& batch) {
  if (batch.size() == 0) throw std::invalid_argument("evaluate_loss: empty batch");
  autograd::Tape<T>& tape = autograd::Tape<T>::current();
  tape.sync();
  NoGradGuard no_grad;
  GraphScope<T> scope(tape);
  return static_cast<double>(loss(batch).item());
}

/// `steps` plain SGD steps (p ← p − lr·∇L) on `support`, in place, over the parameters that
/// require gradients. Returns the support loss before the last step. Leaves the gradients of
/// the last step in the parameters.
///
/// @code
/// onestone::train::adapt<float>(net->parameters(), loss, support, 5, 0.01);
/// @endcode
template <typename T>
double adapt(const std::vector<nn::Parameter<T>*>& params, const MetaLossFn<T>& loss,
             const data::Batch<T>& support, int steps, double lr) {
  if (steps < 0) throw std::invalid_argument("adapt: steps must be >= 0");
  if (!(lr >= 0) || !std::isfinite(lr))
    throw std::invalid_argument("adapt: the learning rate must be finite and >= 0");
  double last = std::nan("");
  const T a = static_cast<T>(lr);
  for (int s = 0; s < steps; ++s) {
    last = detail::meta_backward(params, loss, support);
    for (auto* p : params) {
      if (!p->requires_grad()) continue;
      T* w = p->value().data();
      const T* g = p->grad().data();
      for (Index i = 0, n = p->numel(); i < n; ++i) w[i] -= a * g[i];
    }
    autograd::Tape<T>::current().request_reset();
  }
  return last;
}

/// Few-shot evaluation: for each n in `steps` (ascending, ≥ 0), the query loss after n SGD
/// steps of rate `lr` on the task's support batch, starting from the current parameters; the
/// parameters are put back afterwards (also when an exception is thrown).
///
/// @code
/// auto mse = onestone::train::adapt_and_evaluate<float>(net->parameters(), loss, task,
///                                                       {0, 1, 5, 10}, 0.01);
/// @endcode
template <typename T>
std::vector<double> adapt_and_evaluate(const std::vector<nn::Parameter<T>*>& params,
                                       const MetaLossFn<T>& loss, const MetaTask<T>& task,
                                       const std::vector<int>& steps, double lr) {
  for (std::size_t k = 0; k < steps.size(); ++k)
    if (steps[k] < 0 || (k > 0 && steps[k] < steps[k - 1]))
      throw std::invalid_argument("adapt_and_evaluate: steps must be ascending and >= 0");
  ParameterSnapshot<T> snap(params);
  std::vector<double> out;
  out.reserve(steps.size());
  try {
    int done = 0;
    for (int n : steps) {
      adapt(params, loss, task.support, n - done, lr);
      done = n;
      out.push_back(evaluate_loss(loss, task.query));
    }
  } catch (...) {
    snap.restore();
    throw;
  }
  snap.restore();
  return out;
}

/// The common part of `FOMAML` and `Reptile`: the parameters θ being meta-learned, the loss, the
/// options, an optional meta optimizer and the generator that draws tasks.
///
/// A meta-step adapts a copy of θ to each task of the meta-batch with `inner_steps` SGD steps of
/// rate `inner_lr` on its support batch, turns the adapted parameters into a meta-gradient g
/// (the method's rule), puts θ back and updates it: θ ← θ − meta_lr·g, or, with a meta
/// optimizer (e.g. Adam, built over the same parameters in the same order), g is written into
/// the parameters' gradients and the optimizer steps. Parameters that do not require gradients
/// are left as they are.
template <typename T>
class MetaLearner {
 public:
  MetaLearner(std::vector<nn::Parameter<T>*> params, MetaLossFn<T> loss, MetaOptions options)
      : params_(std::move(params)),
        loss_(std::move(loss)),
        options_(options),
        generator_(options.seed_),
        snapshot_(params_) {
    if (params_.empty()) throw std::invalid_argument(name_() + ": no parameters");
    if (!loss_) throw std::invalid_argument(name_() + ": no loss function");
    for (auto* p : params_) meta_grad_.emplace_back(p->shape());
  }
  virtual ~MetaLearner() = default;
  MetaLearner(const MetaLearner&) = delete;
  MetaLearner& operator=(const MetaLearner&) = delete;

  /// Uses `opt` for the outer update instead of plain SGD at `meta_lr` (kept by reference; it
  /// must hold exactly this learner's parameters, in the same order).
  MetaLearner& set_meta_optimizer(optim::Optimizer<T>& opt) {
    if (opt.params() != params_)
      throw std::invalid_argument(name_() +
                                  "::set_meta_optimizer: the optimizer's parameters differ from "
                                  "the learner's");
    meta_opt_ = &opt;
    return *this;
  }

  /// One meta-step over `tasks`; returns the mean loss the method reports (see the subclass).
  double step(const std::vector<MetaTask<T>>& tasks) {
    if (tasks.empty()) throw std::invalid_argument(name_() + "::step: no tasks");
    snapshot_.save();
    for (auto& g : meta_grad_) g.zero_();
    double reported = 0.0;
    const T inv = T(1) / static_cast<T>(tasks.size());
    try {
      for (const auto& task : tasks) {
        snapshot_.restore();
        const double support_loss =
            adapt(params_, loss_, task.support, options_.inner_steps_, options_.inner_lr_);
        reported += task_meta_gradient(task, inv, support_loss);
      }
    } catch (...) {
      snapshot_.restore();
      throw;
    }
    snapshot_.restore();
    outer_update();
    ++steps_;
    return reported / static_cast<double>(tasks.size());
  }
  /// One meta-step over `meta_batch_size` tasks drawn from `sampler` with the learner's
  /// generator (so a run is determined by the seed).
  double step(const MetaTaskSampler<T>& sampler) {
    tasks_.clear();
    for (int i = 0; i < options_.meta_batch_size_; ++i) tasks_.push_back(sampler(generator_));
    return step(tasks_);
  }

  /// The meta-gradient of the last step (one tensor per parameter).
  const std::vector<Tensor<T>>& meta_gradient() const noexcept { return meta_grad_; }
  const std::vector<nn::Parameter<T>*>& params() const noexcept { return params_; }
  const MetaOptions& options() const noexcept { return options_; }
  std::int64_t steps() const noexcept { return steps_; }
  Generator& generator() noexcept { return generator_; }
  /// "FOMAML" or "Reptile".
  virtual std::string name() const = 0;

 protected:
  // Adds this task's share (scaled by `inv` = 1 / tasks) of the meta-gradient, the parameters
  // being adapted to the task (`support_loss`: the support loss before the last inner step);
  // returns the loss to report for the task.
  virtual double task_meta_gradient(const MetaTask<T>& task, T inv, double support_loss) = 0;
  // The value of parameter k at the start of the step (θ).
  const Tensor<T>& initial_value(std::size_t k) const { return snapshot_.value(k); }

  std::vector<nn::Parameter<T>*> params_;
  MetaLossFn<T> loss_;
  std::vector<Tensor<T>> meta_grad_;

 private:
  static std::string name_() { return "MetaLearner"; }
  void outer_update() {
    if (meta_opt_) {
      for (std::size_t k = 0; k < params_.size(); ++k) {
        Tensor<T>& g = params_[k]->grad();
        std::copy(meta_grad_[k].data(), meta_grad_[k].data() + g.numel(), g.data());
      }
      meta_opt_->step();
      return;
    }
    const T b = static_cast<T>(options_.meta_lr_);
    for (std::size_t k = 0; k < params_.size(); ++k) {
      if (!params_[k]->requires_grad()) continue;
      T* w = params_[k]->value().data();
      const T* g = meta_grad_[k].data();
      for (Index i = 0, n = params_[k]->numel(); i < n; ++i) w[i] -= b * g[i];
    }
    autograd::Tape<T>::current().request_reset();
  }

  MetaOptions options_;
  Generator generator_;
  ParameterSnapshot<T> snapshot_;
  optim::Optimizer<T>* meta_opt_ = nullptr;
  std::vector<MetaTask<T>> tasks_;
  std::int64_t steps_ = 0;
};

/// First-order MAML (Finn, Abbeel & Levine 2017, §5.2): for each task, θᵢ = θ adapted by
/// `inner_steps` SGD steps on its support batch; the meta-gradient is the mean over the tasks
/// of ∇L_query(θᵢ), the query-loss gradient at the adapted parameters (MAML's second-order
/// term dropped). `step` returns the mean query loss at the adapted parameters.
///
/// @code
/// using namespace onestone;
/// auto net = std::make_shared<nn::MLP<float>>(nn::MLPOptions({1, 40, 40,
/// 1}).activate_last(false)); train::MetaLossFn<float> loss = [&](const data::Batch<float>& b) {
///   return losses::mse_loss(net->forward(Var<float>::from(b.x)), b.targets[0].values);
/// };
/// train::FOMAML<float> maml(net->parameters(), loss,
///     train::MetaOptions().inner_lr(0.01).inner_steps(1).meta_batch_size(25));
/// optim::Adam<float> meta_opt(net->parameters(), optim::AdamOptions(1e-3));
/// maml.set_meta_optimizer(meta_opt);
/// for (int it = 0; it < 10000; ++it) maml.step(sampler);
/// @endcode
template <typename T>
class FOMAML final : public MetaLearner<T> {
 public:
  FOMAML(std::vector<nn::Parameter<T>*> params, MetaLossFn<T> loss,
         MetaOptions options = MetaOptions())
      : MetaLearner<T>(std::move(params), std::move(loss), options) {}
  std::string name() const override { return "FOMAML"; }

 protected:
  double task_meta_gradient(const MetaTask<T>& task, T inv, double /*support_loss*/) override {
    const double q = detail::meta_backward(this->params_, this->loss_, task.query);
    for (std::size_t k = 0; k < this->params_.size(); ++k) {
      T* acc = this->meta_grad_[k].data();
      const T* g = this->params_[k]->grad().data();
      for (Index i = 0, n = this->params_[k]->numel(); i < n; ++i) acc[i] += inv * g[i];
    }
    autograd::Tape<T>::current().request_reset();
    return q;
  }
};

/// Reptile (Nichol, Achiam & Schulman 2018): for each task, θᵢ = θ adapted by `inner_steps` SGD
/// steps on its support batch (the query batch is not used for training); the meta-gradient is
/// θ − mean θᵢ, so plain SGD at rate ε = `meta_lr` gives θ ← θ + ε (mean θᵢ − θ). `step`
/// returns the mean support loss seen at the last inner step.
///
/// @code
/// onestone::train::Reptile<float> reptile(net->parameters(), loss,
///     onestone::train::MetaOptions().inner_lr(0.02).inner_steps(5).meta_lr(0.1));
/// for (int it = 0; it < 10000; ++it) reptile.step(sampler);
/// @endcode
template <typename T>
class Reptile final : public MetaLearner<T> {
 public:
  Reptile(std::vector<nn::Parameter<T>*> params, MetaLossFn<T> loss,
          MetaOptions options = MetaOptions())
      : MetaLearner<T>(std::move(params), std::move(loss), options) {}
  std::string name() const override { return "Reptile"; }

 protected:
  double task_meta_gradient(const MetaTask<T>& /*task*/, T inv, double support_loss) override {
    for (std::size_t k = 0; k < this->params_.size(); ++k) {
      T* acc = this->meta_grad_[k].data();
      const T* w = this->params_[k]->value().data();
      const T* w0 = this->initial_value(k).data();
      for (Index i = 0, n = this->params_[k]->numel(); i < n; ++i) acc[i] += inv * (w0[i] - w[i]);
    }
    return support_loss;
  }
};

}  // namespace train
}  // namespace onestone
