#pragma once
/// @file multi_task_model.hpp
/// `MultiTaskModel<T>`: a sharing strategy, one head per task, the total loss L = Σ λᵢ Lᵢ (+ the
/// strategy's regularizer), a training step, and per-task evaluation.

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/autograd/autograd.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/loader.hpp"
#include "onestone/losses/binary_cross_entropy.hpp"
#include "onestone/losses/cross_entropy.hpp"
#include "onestone/losses/regression.hpp"
#include "onestone/metrics/classification.hpp"
#include "onestone/metrics/regression.hpp"
#include "onestone/model/eval_report.hpp"
#include "onestone/model/task.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/optim/optimizer.hpp"
#include "onestone/sharing/strategy.hpp"
#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace model {

/// What a training step does when a task's loss is NaN or infinite.
enum class NonFinitePolicy {
  Throw,  ///< throw std::runtime_error naming the task and the step (default)
  Skip    ///< drop the step: no update, gradients cleared, `StepResult::skipped` set
};

/// The outcome of one `train_step`: the total loss, each task's (unweighted) loss, whether the
/// step was skipped. Its vector is reused between steps.
struct StepResult {
  double total = 0.0;
  std::vector<double> task_losses;
  bool skipped = false;
  std::int64_t step = 0;
};

/// A multi-task model: a sharing strategy maps the input to one representation per task, each
/// task's head maps its representation to a prediction, each task's loss compares it with the
/// task's labels, and the total is L = Σ λᵢ Lᵢ plus the strategy's regularizer.
///
/// Parameters are named "strategy.*" and "heads.<task>.*".
///
/// Example:
/// @code
/// using namespace onestone;
/// auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({784, 256, 256}));
/// MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, 256));
/// model.add_task(TaskOptions<float>("item")
///                    .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(256, 10)))
///                    .loss(LossKind::CrossEntropy));
/// optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
/// for (const auto& batch : loader) model.train_step(batch, opt);
/// auto report = model.evaluate(test_loader);
/// @endcode
template <typename T>
class MultiTaskModel : public nn::Module<T> {
 public:
  explicit MultiTaskModel(std::shared_ptr<sharing::SharingStrategy<T>> strategy)
      : strategy_(this->register_module("strategy", std::move(strategy))),
        heads_(this->register_module("heads", std::make_shared<nn::ModuleDict<T>>())) {}

  /// Adds a task; its head must accept the strategy's `output_features()`.
  MultiTaskModel& add_task(const TaskOptions<T>& opt) {
    if (!opt.head_)
      throw std::invalid_argument("MultiTaskModel::add_task: task '" + opt.name_ + "' has no head");
    if (!(opt.weight_ >= 0) || !std::isfinite(opt.weight_))
      throw std::invalid_argument("MultiTaskModel::add_task: task '" + opt.name_ +
                                  "' has an invalid weight " + std::to_string(opt.weight_));
    for (auto& t : tasks_)
      if (t.name_ == opt.name_)
        throw std::invalid_argument("MultiTaskModel::add_task: duplicate task '" + opt.name_ + "'");
    heads_->insert(opt.name_, opt.head_);
    tasks_.push_back(opt);
    strategy_->set_num_tasks(num_tasks());
    reps_.resize(tasks_.size());
    outputs_.resize(tasks_.size());
    losses_.resize(tasks_.size());
    result_.task_losses.resize(tasks_.size());
    scratch_.resize(tasks_.size());
    target_index_.assign(tasks_.size(), -1);
    if (balancer_) balancer_->reset(num_tasks());
    return *this;
  }

  int num_tasks() const noexcept { return static_cast<int>(tasks_.size()); }
  const Task<T>& task(int i) const { return tasks_.at(static_cast<std::size_t>(i)); }
  int task_index(const std::string& name) const {
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      if (tasks_[i].name_ == name) return static_cast<int>(i);
    throw std::invalid_argument("MultiTaskModel: no task named '" + name + "'");
  }
  sharing::SharingStrategy<T>& strategy() { return *strategy_; }
  nn::Module<T>& head(int i) { return heads_->at(static_cast<std::size_t>(i)); }

  /// Static task weights λ (one per task).
  void set_task_weights(const std::vector<double>& w) {
    if (w.size() != tasks_.size())
      throw std::invalid_argument("MultiTaskModel::set_task_weights: " + std::to_string(w.size()) +
                                  " weights for " + std::to_string(tasks_.size()) + " tasks");
    for (std::size_t i = 0; i < w.size(); ++i) tasks_[i].weight_ = w[i];
  }
  void set_non_finite_policy(NonFinitePolicy p) noexcept { policy_ = p; }

  /// Balances the tasks with `b` (loss weighting or gradient combining; see `weighting/`).
  /// Gradient methods use `source`: the shared representation's gradients (fast; needs a
  /// strategy with `shared_representation()`, e.g. hard sharing) or the shared parameters'
  /// (T backward passes). The static weights λᵢ of the tasks are then not used. Set the balancer
  /// after adding the tasks and before creating the optimizer (its learnable weights, if any,
  /// are among `parameters()` as "balancer.*"). Pass nullptr to go back to static weights.
  void set_balancer(std::shared_ptr<weighting::Balancer<T>> b,
                    weighting::GradientSource source = weighting::GradientSource::Representation) {
    balancer_ = b;
    source_ = source;
    if (b) {
      if (source == weighting::GradientSource::Representation && !b->supports_representation())
        throw std::invalid_argument("MultiTaskModel::set_balancer: " + b->name() +
                                    " needs parameter gradients (GradientSource::Parameters)");
      b->reset(num_tasks());
      this->replace_module("balancer", std::shared_ptr<nn::Module<T>>(b));
    } else {
      this->replace_module("balancer", std::make_shared<nn::Module<T>>());
    }
  }
  weighting::Balancer<T>* balancer() const noexcept { return balancer_.get(); }
  /// Tells epoch-level balancers (DWA) that an epoch ended.
  void end_epoch() {
    if (balancer_) balancer_->end_epoch();
  }

  /// Runs the strategy and every head; returns one output per task (valid until the next call).
  const std::vector<Var<T>>& forward_tasks(const Var<T>& x) {
    if (tasks_.empty()) throw std::logic_error("MultiTaskModel: no tasks were added");
    strategy_->forward_tasks(x, reps_.data());
    for (std::size_t i = 0; i < tasks_.size(); ++i) outputs_[i] = heads_->at(i).forward(reps_[i]);
    return outputs_;
  }
  /// Forward of a batch's inputs (viewed, not copied).
  const std::vector<Var<T>>& forward_tasks(const Tensor<T>& x) {
    return forward_tasks(Var<T>::from(x));
  }

  /// Builds the graph for a batch and returns the total loss Σ λᵢ Lᵢ (+ regularizer); each
  /// task's loss is then in `task_losses()`.
  Var<T> loss(const data::Batch<T>& batch) {
    if (batch.size() == 0) throw std::invalid_argument("MultiTaskModel::loss: empty batch");
    forward_tasks(batch.x);
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      losses_[i] = task_loss(static_cast<int>(i), outputs_[i], batch);
    Var<T> total;
    if (balancer_ && !balancer_->needs_gradients()) {
      total = balancer_->combine_losses(losses_);
    } else {
      for (std::size_t i = 0; i < tasks_.size(); ++i) {
        Var<T> term = affine(losses_[i], static_cast<T>(tasks_[i].weight_), T(0));
        total = total.defined() ? total + term : term;
      }
    }
    reg_ = strategy_->regularizer();
    if (reg_.defined()) total = total + reg_;
    return total;
  }
  /// Per-task loss variables of the last `loss()` call.
  const std::vector<Var<T>>& task_losses() const noexcept { return losses_; }

  /// The loss of task i for prediction `pred` against the batch's labels.
  Var<T> task_loss(int i, const Var<T>& pred, const data::Batch<T>& batch) {
    const Task<T>& tk = tasks_[static_cast<std::size_t>(i)];
    const data::Target<T>& tg = target_for(i, batch);
    switch (tk.loss_) {
      case LossKind::CrossEntropy: {
        losses::CrossEntropyOptions<T> o;
        o.ignore_index(tk.ignore_index_);
        if (tk.class_weights_.numel() > 0) o.weight(tk.class_weights_);
        return losses::cross_entropy(pred, tg.labels, o);
      }
      case LossKind::BinaryCrossEntropy:
        return losses::binary_cross_entropy_with_logits(pred, tg.values);
      case LossKind::MSE:
        return losses::mse_loss(pred, tg.values);
      case LossKind::L1:
        return losses::l1_loss(pred, tg.values);
      default:
        return losses::huber_loss(pred, tg.values, static_cast<T>(tk.huber_delta_));
    }
  }

  /// One training step: new graph, zero gradients, L = Σ λᵢ Lᵢ, backward once, optimizer step.
  /// Allocation-free after the first step of a given batch shape.
  const StepResult& train_step(const data::Batch<T>& batch, optim::Optimizer<T>& opt) {
    autograd::Tape<T>& tape = autograd::Tape<T>::current();
    tape.reset();
    opt.zero_grad();
    Var<T> total = loss(batch);
    result_.skipped = false;
    result_.step = steps_;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      const double li = static_cast<double>(losses_[i].item());
      result_.task_losses[i] = li;
      if (!std::isfinite(li)) {
        if (policy_ == NonFinitePolicy::Throw)
          throw std::runtime_error(
              "MultiTaskModel::train_step: the loss of task '" + tasks_[i].name_ + "' is " +
              (std::isnan(li) ? "NaN" : "infinite") + " at step " + std::to_string(steps_));
        result_.skipped = true;
      }
    }
    result_.total = static_cast<double>(total.item());
    if (!result_.skipped && !std::isfinite(result_.total)) {
      if (policy_ == NonFinitePolicy::Throw)
        throw std::runtime_error(
            "MultiTaskModel::train_step: the total loss is not finite at step " +
            std::to_string(steps_));
      result_.skipped = true;
    }
    ++steps_;
    if (result_.skipped) {
      tape.request_reset();
      return result_;
    }
    if (balancer_ && balancer_->needs_gradients())
      balanced_backward();
    else
      total.backward();
    opt.step();
    if (balancer_ && balancer_->wants_loss_after_step()) {
      // The losses on the same batch after the update (FAMO).
      NoGradGuard no_grad;
      GraphScope<T> scope(tape);
      forward_tasks(batch.x);
      loss_values_.resize(num_tasks());
      for (std::size_t i = 0; i < tasks_.size(); ++i)
        loss_values_[static_cast<Eigen::Index>(i)] =
            task_loss(static_cast<int>(i), outputs_[i], batch).item();
      balancer_->after_step(loss_values_);
    }
    return result_;
  }

  /// The Jacobian of the last gradient-balanced step (one row per task).
  const weighting::Jacobian<T>& last_jacobian() const noexcept { return jac_; }

  /// Evaluates every task over the loader's data (no gradients; eval mode during the call):
  /// loss, plus accuracy and macro-F1 (classification), accuracy (binary), MSE and MAE
  /// (regression).
  EvalReport evaluate(data::DataLoader<T>& loader) {
    const bool was_training = this->is_training();
    this->eval();
    autograd::Tape<T>& tape = autograd::Tape<T>::current();
    tape.sync();
    NoGradGuard no_grad;
    std::vector<metrics::ConfusionMatrix> conf;
    std::vector<metrics::RegressionMeter> reg(tasks_.size());
    std::vector<double> loss_sum(tasks_.size(), 0.0);
    std::vector<double> bin_correct(tasks_.size(), 0.0), bin_total(tasks_.size(), 0.0);
    std::size_t samples = 0;
    data::Batch<T> batch;
    loader.start_epoch();
    while (loader.next(batch)) {
      GraphScope<T> scope(tape);
      forward_tasks(batch.x);
      const Index B = batch.size();
      samples += static_cast<std::size_t>(B);
      for (std::size_t i = 0; i < tasks_.size(); ++i) {
        const Task<T>& tk = tasks_[i];
        const data::Target<T>& tg = target_for(static_cast<int>(i), batch);
        loss_sum[i] +=
            static_cast<double>(task_loss(static_cast<int>(i), outputs_[i], batch).item()) *
            static_cast<double>(B);
        Tensor<T>& out = scratch_[i];
        out.resize(outputs_[i].shape());
        std::copy(outputs_[i].data(), outputs_[i].data() + out.numel(), out.data());
        if (tk.loss_ == LossKind::CrossEntropy) {
          if (conf.size() <= i) {
            while (conf.size() < i) conf.emplace_back(1);
            conf.emplace_back(out.cols());
          }
          conf[i].update(out, tg.labels);
        } else if (tk.loss_ == LossKind::BinaryCrossEntropy) {
          for (Index k = 0; k < out.numel(); ++k)
            bin_correct[i] += ((out[k] > T(0)) == (tg.values[k] > T(0.5))) ? 1.0 : 0.0;
          bin_total[i] += static_cast<double>(out.numel());
        } else {
          reg[i].update(out, tg.values);
        }
      }
    }
    if (samples == 0)
      throw std::invalid_argument("MultiTaskModel::evaluate: the loader yielded no data");
    EvalReport rep;
    rep.samples = samples;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      TaskMetrics m;
      m.task = tasks_[i].name_;
      m.loss = loss_sum[i] / static_cast<double>(samples);
      if (tasks_[i].loss_ == LossKind::CrossEntropy) {
        m.values.emplace_back("accuracy", conf[i].accuracy());
        m.values.emplace_back("macro_f1", conf[i].macro_f1());
      } else if (tasks_[i].loss_ == LossKind::BinaryCrossEntropy) {
        m.values.emplace_back("accuracy", bin_total[i] > 0 ? bin_correct[i] / bin_total[i] : 0.0);
      } else {
        m.values.emplace_back("mse", reg[i].mse());
        m.values.emplace_back("mae", reg[i].mae());
      }
      rep.tasks.push_back(std::move(m));
    }
    this->train(was_training);
    return rep;
  }

  std::int64_t steps() const noexcept { return steps_; }
  std::string name() const override { return "MultiTaskModel"; }

 private:
  /// Per-task gradients → balancer → combined gradient, in representation or parameter mode.
  void balanced_backward() {
    const Index Tn = num_tasks();
    loss_values_.resize(Tn);
    for (Index i = 0; i < Tn; ++i) loss_values_[i] = losses_[static_cast<std::size_t>(i)].item();
    Var<T> z = strategy_->shared_representation();
    if (source_ == weighting::GradientSource::Representation) {
      if (!z.defined())
        throw std::logic_error("MultiTaskModel: " + strategy_->name() +
                               " has no shared representation; use GradientSource::Parameters");
      autograd::Tape<T>& tape = z.tape();
      const Index D = z.numel();
      if (jac_.rows() != Tn || jac_.cols() != D) jac_.resize(Tn, D);
      for (Index i = 0; i < Tn; ++i) {
        // Through task i's head only: stops at z, whose gradient is row i.
        tape.backward(losses_[static_cast<std::size_t>(i)].id(), nullptr, z.id());
        const T* g = tape.grad_in(z.id());
        if (g)
          jac_.row(i) = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(g, D);
        else
          jac_.row(i).setZero();
      }
      balancer_->combine_gradients(jac_, loss_values_, dir_);
      z.backward(dir_.data());
    } else {
      if (shared_.empty()) shared_ = strategy_->shared_parameters();
      if (shared_.empty())
        throw std::logic_error("MultiTaskModel: " + strategy_->name() +
                               " shares no parameters to balance");
      Index P = 0;
      for (auto* p : shared_) P += p->numel();
      if (jac_.rows() != Tn || jac_.cols() != P) jac_.resize(Tn, P);
      for (Index i = 0; i < Tn; ++i) {
        for (auto* p : shared_) p->zero_grad();
        losses_[static_cast<std::size_t>(i)].backward();
        Index off = 0;
        for (auto* p : shared_) {
          jac_.row(i).segment(off, p->numel()) =
              Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(p->grad().data(), p->numel());
          off += p->numel();
        }
      }
      balancer_->combine_gradients(jac_, loss_values_, dir_);
      Index off = 0;
      for (auto* p : shared_) {
        Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(p->grad().data(), p->numel()) =
            dir_.segment(off, p->numel());
        off += p->numel();
      }
    }
    if (reg_.defined() && reg_.requires_grad()) reg_.backward();
  }

  const data::Target<T>& target_for(int i, const data::Batch<T>& batch) {
    const Task<T>& tk = tasks_[static_cast<std::size_t>(i)];
    int& idx = target_index_[static_cast<std::size_t>(i)];
    if (idx < 0 || static_cast<std::size_t>(idx) >= batch.targets.size() ||
        batch.targets[static_cast<std::size_t>(idx)].name != tk.target_) {
      idx = -1;
      for (std::size_t k = 0; k < batch.targets.size(); ++k)
        if (batch.targets[k].name == tk.target_) idx = static_cast<int>(k);
      if (idx < 0)
        throw std::invalid_argument("MultiTaskModel: the batch has no target named '" + tk.target_ +
                                    "' for task '" + tk.name_ + "'");
    }
    const data::Target<T>& tg = batch.targets[static_cast<std::size_t>(idx)];
    const bool wants_labels = is_classification(tk.loss_);
    if (wants_labels != (tg.kind == data::TargetKind::Class))
      throw std::invalid_argument(
          "MultiTaskModel: task '" + tk.name_ + "' uses " + loss_name(tk.loss_) +
          " but its target '" + tg.name + "' holds " +
          (tg.kind == data::TargetKind::Class ? "class labels" : "real values"));
    return tg;
  }

  std::shared_ptr<sharing::SharingStrategy<T>> strategy_;
  std::shared_ptr<nn::ModuleDict<T>> heads_;
  std::vector<Task<T>> tasks_;
  std::vector<Var<T>> reps_, outputs_, losses_;
  Var<T> reg_;
  std::vector<Tensor<T>> scratch_;
  std::vector<int> target_index_;
  StepResult result_;
  std::shared_ptr<weighting::Balancer<T>> balancer_;
  weighting::GradientSource source_ = weighting::GradientSource::Representation;
  weighting::Jacobian<T> jac_;
  weighting::Vector<T> dir_, loss_values_;
  std::vector<nn::Parameter<T>*> shared_;
  NonFinitePolicy policy_ = NonFinitePolicy::Throw;
  std::int64_t steps_ = 0;
};
ONESTONE_EXTERN_CLASS(MODEL, MultiTaskModel)

}  // namespace model
using model::LossKind;
using model::MultiTaskModel;
using model::TaskOptions;
}  // namespace onestone
