#pragma once
/// @file step_context.hpp
/// `StepContext<T>`: what a balancing method's backward (`Balancer::backward`) sees of the
/// training step that calls it — the present tasks' losses, the total loss, the shared
/// representation or parameters, the regularizer, the trained parameters and learning rate,
/// and a forward on a held-out batch. `train::TrainStep` implements it.
///
/// The backward of each family lives with the family (the loss family back-propagates the
/// total; the gradient families run `BalancedBackward`; Auto-Lambda its look-ahead), so a
/// program instantiates only the backward passes of the methods it uses.

#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/nn/parameter.hpp"

namespace onestone {
namespace weighting {

/// Which per-task gradients a gradient-based method combines.
enum class GradientSource {
  /// ∂Lᵢ/∂z for the representation z shared by all tasks (hard sharing): one forward, the heads
  /// back-propagated per task, the trunk once with the combined gradient. The fast default.
  Representation,
  /// ∂Lᵢ/∂θ for the strategy's shared parameters: T backward passes through the whole model.
  Parameters
};

template <typename T>
class BalancedBackward;

/// The training step as a balancing method's backward sees it (implemented by
/// `train::TrainStep`; a user's own loop can implement it too).
///
/// Example (a method's backward that back-propagates the plain sum):
/// @code
/// void backward(onestone::weighting::StepContext<float>& ctx) override {
///   ctx.total().backward();
/// }
/// @endcode
template <typename T>
class StepContext {
 public:
  virtual ~StepContext() = default;
  /// The total loss as the balancer combined it (loss family) or Σ λᵢLᵢ.
  virtual const Var<T>& total() = 0;
  /// The present tasks' losses, and their task indices (same order).
  virtual const std::vector<Var<T>>& losses() = 0;
  virtual const std::vector<int>& tasks() = 0;
  /// Where the gradient families take per-task gradients.
  virtual GradientSource source() = 0;
  /// The strategy's shared representation (representation mode).
  virtual Var<T> shared_representation() = 0;
  /// The shared parameters (parameter mode).
  virtual const std::vector<nn::Parameter<T>*>& shared_parameters() = 0;
  /// The model's regularizer (undefined when it has none).
  virtual Var<T> regularizer() = 0;
  /// The step's reusable per-task-gradient machinery (its buffers persist across steps).
  virtual BalancedBackward<T>& balanced_backward() = 0;
  /// Every parameter the optimizer trains, and its learning rate.
  virtual const std::vector<nn::Parameter<T>*>& trained_parameters() = 0;
  virtual double learning_rate() = 0;
  /// A new graph with the losses of a held-out (meta) batch at the current parameter values;
  /// `losses()` and `tasks()` then refer to it.
  virtual void forward_meta_batch() = 0;
};

}  // namespace weighting
}  // namespace onestone
