#pragma once
/// @file multi_task_model.hpp
/// `MultiTaskModel<T>`: a sharing strategy, one head per task, the per-task losses over each
/// task's labelled samples and the total L = Σ λᵢ Lᵢ (+ the strategy's regularizer),
/// thread-safe `predict`, and per-task evaluation. The training step (the balanced backward and
/// the optimizer step) lives in `train::TrainStep`.

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/loader.hpp"
#include "onestone/metrics/metric.hpp"
#include "onestone/model/eval_report.hpp"
#include "onestone/model/task.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/sharing/strategy.hpp"
#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace model {

/// A multi-task model: a sharing strategy maps the input to one representation per task, each
/// task's head maps its representation to a prediction, each task's loss compares it with the
/// task's target over the batch's labelled samples, and the total is L = Σ λᵢ Lᵢ over the tasks
/// present in the batch, plus the strategy's regularizer. A task none of whose samples in a
/// batch is labelled (all weights 0) is absent from that step: no loss, no gradient.
///
/// Parameters are named "strategy.*", "heads.<task>.*" and "balancer.*".
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
/// train::TrainStep<float> step(model, opt);
/// for (const auto& batch : loader) step(batch);
/// auto report = model.evaluate(test_loader);
/// auto outputs = model.predict(x);           // thread-safe serving
/// @endcode
template <typename T>
class MultiTaskModel : public nn::Module<T> {
 public:
  explicit MultiTaskModel(std::shared_ptr<sharing::SharingStrategy<T>> strategy)
      : strategy_(this->register_module("strategy", std::move(strategy))),
        heads_(this->register_module("heads", std::make_shared<nn::ModuleDict<T>>())) {}

  /// Adds a task; its head must accept the strategy's `output_features()`.
  MultiTaskModel& add_task(const TaskOptions<T>& opt);

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

  /// Balances the tasks with `b` (any family; see weighting/). Gradient methods use `source`:
  /// the shared representation's gradients (fast; needs a strategy with
  /// `shared_representation()`, e.g. hard sharing) or the shared parameters' (T backward passes).
  /// The static weights λᵢ are then not used. Set the balancer after adding the tasks and before
  /// creating the optimizer (its learnable weights, if any, are among `parameters()` as
  /// "balancer.*"). Pass nullptr to go back to static weights.
  void set_balancer(std::shared_ptr<weighting::Balancer<T>> b,
                    weighting::GradientSource source = weighting::GradientSource::Representation);
  weighting::Balancer<T>* balancer() const noexcept { return balancer_.get(); }
  weighting::GradientSource gradient_source() const noexcept { return source_; }
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

  /// Every task's prediction for inputs x (no tape kept, no gradient, modules in evaluation
  /// behaviour), as tensors. Safe to call from several threads at once on one model (each
  /// thread uses its own tape and workspaces; the model is only read), as long as no thread
  /// trains or changes the model meanwhile.
  std::vector<Tensor<T>> predict(const Tensor<T>& x) const {
    std::vector<Tensor<T>> out;
    predict(x, out);
    return out;
  }
  /// Same, into reused tensors (no allocation once they have their sizes).
  void predict(const Tensor<T>& x, std::vector<Tensor<T>>& out) const;

  /// Builds the graph for a batch: every present task's loss (in `task_losses()`, `present()`),
  /// and returns the total Σ λᵢ Lᵢ over them (or the loss balancer's combination) plus the
  /// regularizer. Throws std::invalid_argument when no task has a labelled sample.
  Var<T> loss(const data::Batch<T>& batch);
  /// Builds the graph of every present task's loss for a batch (in `task_losses()`,
  /// `present()`, `present_tasks()`, `present_losses()`) without combining them: the balancer is
  /// not consulted, so its state does not move (e.g. FAMO's losses after the optimizer step).
  /// Throws std::invalid_argument when no task has a labelled sample.
  void compute_losses(const data::Batch<T>& batch);
  /// Per-task loss variables of the last `loss()` call (undefined for absent tasks).
  const std::vector<Var<T>>& task_losses() const noexcept { return losses_; }
  /// Whether each task was present (had a labelled sample) in the last `loss()` call.
  bool present(int i) const { return present_.at(static_cast<std::size_t>(i)) != 0; }
  /// Ids of the present tasks, and their losses, of the last `loss()` call.
  const std::vector<int>& present_tasks() const noexcept { return present_ids_; }
  const std::vector<Var<T>>& present_losses() const noexcept { return present_losses_; }
  /// The strategy's regularizer of the last `loss()` call (undefined when none).
  const Var<T>& regularizer() const noexcept { return reg_; }

  /// The loss of task i for prediction `pred` against the batch's target of the task.
  Var<T> task_loss(int i, const Var<T>& pred, const data::Batch<T>& batch) {
    return tasks_[static_cast<std::size_t>(i)].compute_loss(pred, target_for(i, batch));
  }
  /// The batch's target of task i (by the task's target name).
  const data::Target<T>& target_for(int i, const data::Batch<T>& batch);

  /// Evaluates every task over the loader's data (no gradients, evaluation behaviour): its mean
  /// loss over the labelled samples and its metrics (the task's, or its preset's).
  EvalReport evaluate(data::DataLoader<T>& loader);

  std::string name() const override { return "MultiTaskModel"; }

 private:
  std::shared_ptr<sharing::SharingStrategy<T>> strategy_;
  std::shared_ptr<nn::ModuleDict<T>> heads_;
  std::vector<Task<T>> tasks_;
  std::vector<Var<T>> reps_, outputs_, losses_, present_losses_;
  std::vector<std::uint8_t> present_;
  std::vector<int> present_ids_;
  Var<T> reg_;
  std::vector<int> target_index_;
  std::shared_ptr<weighting::Balancer<T>> balancer_;
  weighting::GradientSource source_ = weighting::GradientSource::Representation;
};

template <typename T>
MultiTaskModel<T>& MultiTaskModel<T>::add_task(const TaskOptions<T>& opt) {
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
  present_.assign(tasks_.size(), 1);
  target_index_.assign(tasks_.size(), -1);
  if (balancer_) balancer_->reset(num_tasks());
  return *this;
}

template <typename T>
void MultiTaskModel<T>::set_balancer(std::shared_ptr<weighting::Balancer<T>> b,
                                     weighting::GradientSource source) {
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

template <typename T>
void MultiTaskModel<T>::predict(const Tensor<T>& x, std::vector<Tensor<T>>& out) const {
  if (tasks_.empty()) throw std::logic_error("MultiTaskModel::predict: no tasks were added");
  InferenceGuard serving;
  autograd::Tape<T>& tape = autograd::Tape<T>::current();
  GraphScope<T> scope(tape);
  thread_local std::vector<Var<T>> reps;
  reps.resize(tasks_.size());
  strategy_->forward_tasks(Var<T>::from(x, tape), reps.data());
  out.resize(tasks_.size());
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    Var<T> y = heads_->at(i).forward(reps[i]);
    out[i].resize(y.shape());
    std::copy(y.data(), y.data() + y.numel(), out[i].data());
  }
  for (auto& r : reps) r = Var<T>();
}

template <typename T>
Var<T> MultiTaskModel<T>::loss(const data::Batch<T>& batch) {
  compute_losses(batch);
  Var<T> total;
  if (balancer_ && !balancer_->needs_gradients()) {
    total = balancer_->combine_losses(present_losses_, present_ids_);
  } else {
    for (std::size_t k = 0; k < present_ids_.size(); ++k) {
      const auto& tk = tasks_[static_cast<std::size_t>(present_ids_[k])];
      Var<T> term = affine(present_losses_[k], static_cast<T>(tk.weight_), T(0));
      total = total.defined() ? total + term : term;
    }
  }
  reg_ = strategy_->regularizer();
  if (reg_.defined()) total = total + reg_;
  return total;
}

template <typename T>
void MultiTaskModel<T>::compute_losses(const data::Batch<T>& batch) {
  if (batch.size() == 0) throw std::invalid_argument("MultiTaskModel::loss: empty batch");
  forward_tasks(batch.x);
  present_ids_.clear();
  present_losses_.clear();
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    const data::Target<T>& tg = target_for(static_cast<int>(i), batch);
    const bool present = tg.labelled_count() > 0;
    present_[i] = present ? 1 : 0;
    if (!present) {
      losses_[i] = Var<T>();
      continue;
    }
    losses_[i] = tasks_[i].compute_loss(outputs_[i], tg);
    if (losses_[i].numel() != 1)
      throw std::invalid_argument("MultiTaskModel: the loss of task '" + tasks_[i].name_ +
                                  "' has shape " + losses_[i].shape().str() + ", not one element");
    present_ids_.push_back(static_cast<int>(i));
    present_losses_.push_back(losses_[i]);
  }
  if (present_ids_.empty())
    throw std::invalid_argument(
        "MultiTaskModel::loss: no task has a labelled sample in this batch");
}

template <typename T>
const data::Target<T>& MultiTaskModel<T>::target_for(int i, const data::Batch<T>& batch) {
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
  if (tk.wants_labels() && tg.labels.numel() == 0)
    throw std::invalid_argument("MultiTaskModel: task '" + tk.name_ + "' uses " +
                                loss_name(tk.loss_) + " but its target '" + tg.name +
                                "' holds no class labels");
  if (tk.wants_values() && tg.values.numel() == 0)
    throw std::invalid_argument("MultiTaskModel: task '" + tk.name_ + "' uses " +
                                loss_name(tk.loss_) + " but its target '" + tg.name +
                                "' holds no real values");
  return tg;
}

template <typename T>
EvalReport MultiTaskModel<T>::evaluate(data::DataLoader<T>& loader) {
  autograd::Tape<T>& tape = autograd::Tape<T>::current();
  tape.sync();
  InferenceGuard serving;
  std::vector<std::vector<std::shared_ptr<metrics::Metric<T>>>> mets(tasks_.size());
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    mets[i] = tasks_[i].make_metrics();
    for (auto& m : mets[i]) m->reset();
  }
  std::vector<double> loss_sum(tasks_.size(), 0.0), labelled(tasks_.size(), 0.0);
  std::size_t samples = 0;
  data::Batch<T> batch;
  Tensor<T> out;
  loader.start_epoch();
  while (loader.next(batch)) {
    GraphScope<T> scope(tape);
    forward_tasks(batch.x);
    samples += static_cast<std::size_t>(batch.size());
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      const data::Target<T>& tg = target_for(static_cast<int>(i), batch);
      const double n = static_cast<double>(tg.labelled_count());
      if (n == 0) continue;
      loss_sum[i] += static_cast<double>(tasks_[i].compute_loss(outputs_[i], tg).item()) * n;
      labelled[i] += n;
      out.resize(outputs_[i].shape());
      std::copy(outputs_[i].data(), outputs_[i].data() + out.numel(), out.data());
      for (auto& m : mets[i]) m->update(out, tg);
    }
  }
  if (samples == 0)
    throw std::invalid_argument("MultiTaskModel::evaluate: the loader yielded no data");
  EvalReport rep;
  rep.samples = samples;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    TaskMetrics m;
    m.task = tasks_[i].name_;
    m.labelled = static_cast<std::size_t>(labelled[i]);
    m.loss = labelled[i] > 0 ? loss_sum[i] / labelled[i] : std::nan("");
    std::vector<metrics::MetricValue> vals;
    for (auto& mt : mets[i]) mt->values(vals);
    for (auto& v : vals) m.add(v.name, v.value, v.higher_is_better);
    m.primary = tasks_[i].primary_metric_;
    rep.tasks.push_back(std::move(m));
  }
  return rep;
}
ONESTONE_EXTERN_CLASS(MODEL, MultiTaskModel)

}  // namespace model
using model::LossKind;
using model::MultiTaskModel;
using model::TaskOptions;
}  // namespace onestone
