#pragma once
/// @file balanced_backward.hpp
/// `BalancedBackward<T>`: the backward pass of a gradient-balanced step — per-task gradients of
/// the shared representation or of the shared parameters (present tasks only), the balancer's
/// combined direction, and the back-propagation of that direction.

#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/parameter.hpp"
#include "onestone/weighting/balancer.hpp"

namespace onestone {
namespace weighting {

/// Runs the backward of one step for a gradient-based balancer.
///
/// Representation mode: forward once; for each present task, its loss is back-propagated
/// through its head only, down to the shared representation z, giving row r of J = ∂Lᵢ/∂z; the
/// balancer combines the rows into d; d is back-propagated through the trunk once. For
/// double-sampling methods the cross-Gram matrix of the two halves of the batch is formed too:
/// A = 2 Σ_{b<B/2} J_b J_{b+B/2}ᵀ (J_b the columns of sample b), an unbiased estimate of the
/// squared mean gradient where JJᵀ carries the sample noise.
///
/// Parameter mode: each present task's loss is back-propagated through the whole model and the
/// shared parameters' gradients form row r of J (T backward passes); d is written into those
/// parameters' gradients, the task-specific parameters keep their own (each head receives only
/// its task's gradient). Buffers are kept: no heap allocation in steady state.
///
/// Example (what `train::TrainStep` does):
/// @code
/// onestone::weighting::BalancedBackward<float> bb;
/// bb.run(*model.balancer(), model.gradient_source(), model.present_losses(),
///        model.present_tasks(), z, shared_params, model.regularizer());
/// @endcode
template <typename T>
class BalancedBackward {
 public:
  /// `losses[k]` is task `tasks[k]`'s loss; `z` the shared representation (representation
  /// mode), `shared` the shared parameters (parameter mode); `extra` (if defined) is
  /// back-propagated as usual (a regularizer).
  void run(Balancer<T>& b, GradientSource source, const std::vector<Var<T>>& losses,
           const std::vector<int>& tasks, const Var<T>& z,
           const std::vector<nn::Parameter<T>*>& shared, const Var<T>& extra = Var<T>());

  /// The Jacobian of the last step (one row per present task).
  const Jacobian<T>& jacobian() const noexcept { return J_; }
  /// The combined direction of the last step.
  const Vector<T>& direction() const noexcept { return d_; }
  /// The step's task ids and losses as the balancer saw them.
  const StepInfo<T>& info() const noexcept { return info_; }

 private:
  void combine(Balancer<T>& b, Index batch);

  Jacobian<T> J_;
  Matrix<T> A_;
  Vector<T> d_, values_, saved_;
  StepInfo<T> info_;
};

template <typename T>
void BalancedBackward<T>::run(Balancer<T>& b, GradientSource source,
                              const std::vector<Var<T>>& losses, const std::vector<int>& tasks,
                              const Var<T>& z, const std::vector<nn::Parameter<T>*>& shared,
                              const Var<T>& extra) {
  const Eigen::Index m = static_cast<Eigen::Index>(losses.size());
  if (m == 0 || tasks.size() != losses.size())
    throw std::invalid_argument("BalancedBackward: " + std::to_string(losses.size()) +
                                " losses for " + std::to_string(tasks.size()) + " tasks");
  values_.resize(m);
  for (Eigen::Index r = 0; r < m; ++r) values_[r] = losses[static_cast<std::size_t>(r)].item();
  info_.rows = m;
  info_.tasks = tasks.data();
  info_.losses = &values_;
  if (source == GradientSource::Representation) {
    if (!z.defined())
      throw std::logic_error(
          "BalancedBackward: the strategy has no shared representation; use "
          "GradientSource::Parameters");
    autograd::Tape<T>& tape = z.tape();
    const Index D = z.numel();
    if (J_.rows() != m || J_.cols() != D) J_.resize(m, D);
    for (Eigen::Index r = 0; r < m; ++r) {
      // Through task r's head only: stops at z, whose gradient is row r.
      tape.backward(losses[static_cast<std::size_t>(r)].id(), nullptr, z.id());
      const T* g = tape.grad_in(z.id());
      if (g)
        J_.row(r) = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(g, D);
      else
        J_.row(r).setZero();
    }
    combine(b, z.shape().rank() > 0 ? z.shape()[0] : 1);
    z.backward(d_.data());
  } else {
    if (shared.empty())
      throw std::logic_error("BalancedBackward: the strategy shares no parameters to balance");
    Index P = 0;
    for (auto* p : shared) P += p->numel();
    if (J_.rows() != m || J_.cols() != P) J_.resize(m, P);
    // Task-specific gradients accumulate over the T passes (each head sees only its own
    // task); the shared ones are captured per pass, and d is added at the end to what they
    // held before the step (gradient accumulation over batches).
    saved_.resize(P);
    {
      Index off = 0;
      for (auto* p : shared) {
        saved_.segment(off, p->numel()) =
            Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, 1>>(p->grad().data(), p->numel());
        off += p->numel();
      }
    }
    for (Eigen::Index r = 0; r < m; ++r) {
      for (auto* p : shared) p->zero_grad();
      losses[static_cast<std::size_t>(r)].backward();
      Index off = 0;
      for (auto* p : shared) {
        J_.row(r).segment(off, p->numel()) =
            Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(p->grad().data(), p->numel());
        off += p->numel();
      }
    }
    combine(b, 1);
    Index off = 0;
    for (auto* p : shared) {
      Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(p->grad().data(), p->numel()) =
          saved_.segment(off, p->numel()) + d_.segment(off, p->numel());
      off += p->numel();
    }
  }
  if (extra.defined() && extra.requires_grad()) extra.backward();
}

template <typename T>
void BalancedBackward<T>::combine(Balancer<T>& b, Index batch) {
  if (b.needs_cross_gramian() && batch >= 2) {
    const Eigen::Index m = J_.rows();
    const Index h = batch / 2, per = J_.cols() / batch;
    A_.setZero(m, m);
    for (Index s = 0; s < h; ++s)
      A_.noalias() += J_.middleCols(s * per, per) * J_.middleCols((s + h) * per, per).transpose();
    A_ *= T(2);
    b.combine_gradients(J_, A_, info_, d_);
  } else {
    b.combine_gradients(J_, info_, d_);
  }
}
ONESTONE_EXTERN_CLASS(WEIGHTING, BalancedBackward)

namespace detail {
template <typename T>
void balanced_step_backward(Balancer<T>& b, StepContext<T>& ctx) {
  ctx.balanced_backward().run(b, ctx.source(), ctx.losses(), ctx.tasks(),
                              ctx.shared_representation(), ctx.shared_parameters(),
                              ctx.regularizer());
}
}  // namespace detail

}  // namespace weighting
}  // namespace onestone
