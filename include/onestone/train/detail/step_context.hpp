#pragma once
/// @file step_context.hpp
/// Internals shared by `train::TrainStep` and `distributed::DistributedTrainStep`: the step as
/// a balancer's backward sees it, and the after-step losses some balancers (FAMO) need.

#include <cstddef>
#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/model/multi_task_model.hpp"
#include "onestone/optim/optimizer.hpp"
#include "onestone/weighting/balanced_backward.hpp"
#include "onestone/weighting/balancer.hpp"
#include "onestone/weighting/step_context.hpp"

namespace onestone {
namespace train {
namespace detail {

/// A training step of `model` with `opt` as `weighting::StepContext` presents it to a balancer:
/// the total loss, the present tasks' losses, the shared representation or parameters, the
/// balanced-backward workspace. Meta batches are the step's own business
/// (`forward_meta_batch`).
template <typename T>
class ModelStepContext : public weighting::StepContext<T> {
 public:
  ModelStepContext(model::MultiTaskModel<T>& model, optim::Optimizer<T>& opt,
                   const std::vector<nn::Parameter<T>*>& shared,
                   weighting::BalancedBackward<T>& balanced, const Var<T>& total)
      : model_(model), opt_(opt), shared_(shared), balanced_(balanced), total_(total) {}
  const Var<T>& total() override { return total_; }
  const std::vector<Var<T>>& losses() override { return model_.present_losses(); }
  const std::vector<int>& tasks() override { return model_.present_tasks(); }
  weighting::GradientSource source() override { return model_.gradient_source(); }
  Var<T> shared_representation() override { return model_.strategy().shared_representation(); }
  const std::vector<nn::Parameter<T>*>& shared_parameters() override { return shared_; }
  Var<T> regularizer() override { return model_.regularizer(); }
  weighting::BalancedBackward<T>& balanced_backward() override { return balanced_; }
  const std::vector<nn::Parameter<T>*>& trained_parameters() override { return opt_.params(); }
  double learning_rate() override { return opt_.lr(); }

 protected:
  model::MultiTaskModel<T>& model_;
  optim::Optimizer<T>& opt_;
  const std::vector<nn::Parameter<T>*>& shared_;
  weighting::BalancedBackward<T>& balanced_;
  const Var<T>& total_;
};

/// After the optimizer step: the present tasks' losses on the same `batch` (no gradient, no
/// combination, so the balancer's state does not move), handed to `b.after_step` (FAMO).
/// `after` is the caller's reusable buffer.
template <typename T>
void after_step_losses(model::MultiTaskModel<T>& model, weighting::Balancer<T>& b,
                       const data::Batch<T>& batch, weighting::Vector<T>& after) {
  autograd::Tape<T>& tape = autograd::Tape<T>::current();
  NoGradGuard no_grad;
  GraphScope<T> scope(tape);
  model.compute_losses(batch);
  const auto& ids = model.present_tasks();
  after.resize(static_cast<Eigen::Index>(ids.size()));
  for (std::size_t k = 0; k < ids.size(); ++k)
    after[static_cast<Eigen::Index>(k)] = model.present_losses()[k].item();
  weighting::StepInfo<T> info;
  info.rows = after.size();
  info.tasks = ids.data();
  info.losses = &after;
  b.after_step(after, info);
}

}  // namespace detail
}  // namespace train
}  // namespace onestone
