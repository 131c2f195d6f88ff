#pragma once
/// @file balancer.hpp
/// `Balancer<T>`: the interface of every task-balancing method, as `MultiTaskModel` uses it.

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/nn/extra_state.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/weighting/jacobian.hpp"

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

/// A task-balancing method. Two families share this interface:
///
/// - **loss weighting** (`needs_gradients() == false`): `combine_losses` turns the per-task
///   losses into the total loss L (by default Σᵢ wᵢLᵢ with weights from `update_weights`, or any
///   differentiable expression, possibly with learnable parameters of its own);
/// - **gradient combining** (`needs_gradients() == true`): `combine_gradients` receives the
///   Jacobian J (one row per task: the task's gradient with respect to the shared
///   representation or the shared parameters) and the loss values, and writes the direction d
///   that replaces Σᵢ gᵢ.
///
/// `weights()` reports the task weights of the last step (for methods that have them).
/// Hooks: `end_epoch()` (epoch-level methods such as DWA), `wants_loss_after_step()` and
/// `after_step(new_losses)` (FAMO). A balancer is a `Module`: methods with learnable weights
/// register them as parameters, and the model lists them among its own ("balancer.*"), so one
/// optimizer trains them.
///
/// Example (a custom loss weighting):
/// @code
/// template <typename T>
/// struct Inverse : onestone::weighting::Balancer<T> {
///   std::string name() const override { return "inverse"; }
///   void update_weights(const onestone::weighting::Vector<T>& l) override {
///     this->weights_ = l.cwiseInverse();   // wᵢ = 1/Lᵢ
///   }
/// };
/// @endcode
template <typename T>
class Balancer : public nn::Module<T> {
 public:
  using Vec = Vector<T>;
  using Jac = Jacobian<T>;

  std::string name() const override = 0;
  /// Sizes the method's state for `num_tasks` tasks (called by the model; clears history).
  virtual void reset(int num_tasks) {
    num_tasks_ = num_tasks;
    weights_ = Vec::Ones(num_tasks);
  }
  int num_tasks() const noexcept { return num_tasks_; }

  /// True for methods that combine per-task gradients.
  virtual bool needs_gradients() const { return false; }
  /// True when the method may use representation gradients (some need parameter gradients).
  virtual bool supports_representation() const { return true; }

  /// The total loss from the per-task losses (loss weighting). Default: Σᵢ wᵢLᵢ with wᵢ from
  /// `update_weights` (treated as constants).
  virtual Var<T> combine_losses(const std::vector<Var<T>>& losses) {
    values_.resize(static_cast<Eigen::Index>(losses.size()));
    for (std::size_t i = 0; i < losses.size(); ++i)
      values_[static_cast<Eigen::Index>(i)] = losses[i].item();
    update_weights(values_);
    Var<T> total;
    for (std::size_t i = 0; i < losses.size(); ++i) {
      Var<T> term = affine(losses[i], weights_[static_cast<Eigen::Index>(i)], T(0));
      total = total.defined() ? total + term : term;
    }
    return total;
  }
  /// The combined direction d from the Jacobian J (T × D) and the loss values (gradient methods).
  /// Default: d = Jᵀ·w with w from `update_weights`.
  virtual void combine_gradients(const Jac& J, const Vec& losses, Vec& d) {
    update_weights(losses);
    d.noalias() = J.transpose() * weights_;
  }

  /// Called at the end of every epoch (by `MultiTaskModel::end_epoch`).
  virtual void end_epoch() {}
  /// True for methods that need the losses on the same batch after the optimizer step (FAMO).
  virtual bool wants_loss_after_step() const { return false; }
  /// Receives those losses.
  virtual void after_step(const Vec& /*new_losses*/) {}
  /// Task weights used in the last step.
  const Vec& weights() const noexcept { return weights_; }

  /// Saves the current weights (methods with more state add theirs), for checkpoints.
  void get_extra_state(nn::ExtraState& s) const override { s.put("weights", weights_); }
  /// Restores what `get_extra_state` saved; the sizes must match `num_tasks()`.
  void set_extra_state(const nn::ExtraState& s) override { weights_ = read_weights(s); }

 protected:
  /// Loss-weighting methods set `weights_` from the current loss values (and their history).
  virtual void update_weights(const Vec& /*losses*/) {}
  /// The "weights" entry of `s`, checked to hold `num_tasks()` values (for `set_extra_state`
  /// of derived methods, which read everything before changing anything).
  Vec read_weights(const nn::ExtraState& s) const {
    Vec w;
    s.get("weights", w, static_cast<Eigen::Index>(num_tasks_));
    return w;
  }

  int num_tasks_ = 0;
  Vec weights_;
  Vec values_;
};

namespace detail {
template <typename C, typename T, typename = void>
struct combine_takes_losses : std::false_type {};
template <typename C, typename T>
struct combine_takes_losses<C, T,
                            decltype(std::declval<C&>().combine(std::declval<const Jacobian<T>&>(),
                                                                std::declval<Vector<T>&>(),
                                                                std::declval<const Vector<T>*>()),
                                     void())> : std::true_type {};
template <typename C, typename = void>
struct has_reset : std::false_type {};
template <typename C>
struct has_reset<C, decltype(std::declval<C&>().reset(), void())> : std::true_type {};
template <typename C, typename = void>
struct has_extra_state : std::false_type {};
template <typename C>
struct has_extra_state<
    C, decltype(std::declval<const C&>().save_state(std::declval<nn::ExtraState&>()),
                std::declval<C&>().load_state(std::declval<const nn::ExtraState&>()), void())>
    : std::true_type {};
template <typename C, typename T, typename = void>
struct has_weights : std::false_type {};
template <typename C, typename T>
struct has_weights<C, T, decltype(std::declval<const C&>().weights(), void())> : std::true_type {};
}  // namespace detail

/// Adapts a gradient combiner (any class with `combine(J, d)` or `combine(J, d, losses*)`, such
/// as `MGDA<T>`, `PCGrad<T>`, `NashMTL<T>`) to the `Balancer` interface.
///
/// Example: `auto b = std::make_shared<GradientBalancer<float, PCGrad<float>>>("pcgrad",
/// PCGrad<float>(7));`
template <typename T, typename Combiner>
class GradientBalancer : public Balancer<T> {
 public:
  GradientBalancer(std::string name, Combiner c, bool representation_ok = true)
      : name_(std::move(name)), c_(std::move(c)), representation_ok_(representation_ok) {}
  std::string name() const override { return name_; }
  bool needs_gradients() const override { return true; }
  bool supports_representation() const override { return representation_ok_; }
  void reset(int num_tasks) override {
    Balancer<T>::reset(num_tasks);
    if constexpr (detail::has_reset<Combiner>::value) c_.reset();
  }
  void combine_gradients(const Jacobian<T>& J, const Vector<T>& losses, Vector<T>& d) override {
    // Combiners with per-coordinate state (MoCo) restart it when the width changes, e.g. on a
    // smaller last batch in representation mode (use drop_last to avoid it).
    if constexpr (detail::has_reset<Combiner>::value) {
      if (J.cols() != last_cols_) c_.reset();
    }
    last_cols_ = J.cols();
    try {
      if constexpr (detail::combine_takes_losses<Combiner, T>::value)
        c_.combine(J, d, &losses);
      else
        c_.combine(J, d);
      if constexpr (detail::has_weights<Combiner, T>::value) {
        if (c_.weights().size() == J.rows()) this->weights_ = c_.weights();
      }
    } catch (const std::exception& e) {
      // A combiner that cannot decide on this Jacobian (e.g. a task with a zero gradient for
      // IMTL-G/ConFIG, or no Nash solution for opposed gradients) must not stop training: the
      // step falls back to the last weights that worked (1 at first), as Nash-MTL's reference
      // code keeps its previous α. Counted in `fallbacks()`.
      ++fallbacks_;
      last_error_ = e.what();
      if (this->weights_.size() != J.rows()) this->weights_ = Vector<T>::Ones(J.rows());
      d.noalias() = J.transpose() * this->weights_;
    }
  }
  /// Steps on which the combiner failed and the previous weights were used instead.
  /// Saves the weights, the combiner's state (generators, moving averages, warm starts), the
  /// Jacobian width seen last and the fallback count.
  void get_extra_state(nn::ExtraState& s) const override {
    Balancer<T>::get_extra_state(s);
    s.put("last_cols", static_cast<std::int64_t>(last_cols_));
    s.put("fallbacks", static_cast<std::int64_t>(fallbacks_));
    if constexpr (detail::has_extra_state<Combiner>::value) c_.save_state(s);
  }
  /// Restores what `get_extra_state` saved, all or nothing.
  void set_extra_state(const nn::ExtraState& s) override {
    Vector<T> w = this->read_weights(s);
    const std::int64_t cols = s.get_int("last_cols", -1, std::numeric_limits<std::int64_t>::max());
    const std::int64_t fb = s.get_int("fallbacks", 0, std::numeric_limits<std::int64_t>::max());
    if constexpr (detail::has_extra_state<Combiner>::value) c_.load_state(s);
    this->weights_ = std::move(w);
    last_cols_ = static_cast<Eigen::Index>(cols);
    fallbacks_ = static_cast<long>(fb);
  }
  long fallbacks() const noexcept { return fallbacks_; }
  /// The message of the last such failure.
  const std::string& last_error() const noexcept { return last_error_; }
  Combiner& combiner() { return c_; }

 private:
  std::string name_;
  Combiner c_;
  bool representation_ok_;
  Eigen::Index last_cols_ = -1;
  long fallbacks_ = 0;
  std::string last_error_;
};

}  // namespace weighting
}  // namespace onestone
