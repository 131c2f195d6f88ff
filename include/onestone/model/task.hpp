#pragma once
/// @file task.hpp
/// `TaskOptions<T>` / `Task<T>`: a task's name, head, loss and weight λ.

#include <memory>
#include <stdexcept>
#include <string>

#include "onestone/nn/module.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone {
namespace model {

/// The loss a task is trained with; it also decides the task's metrics and label type.
enum class LossKind {
  CrossEntropy,        ///< integer labels; metrics: accuracy, macro-F1
  BinaryCrossEntropy,  ///< 0/1 targets per output (multi-label); metric: accuracy at 0.5
  MSE,                 ///< real targets; metrics: MSE, MAE
  L1,                  ///< real targets; metrics: MSE, MAE
  Huber                ///< real targets; metrics: MSE, MAE
};

inline const char* loss_name(LossKind k) {
  switch (k) {
    case LossKind::CrossEntropy:
      return "cross_entropy";
    case LossKind::BinaryCrossEntropy:
      return "binary_cross_entropy";
    case LossKind::MSE:
      return "mse";
    case LossKind::L1:
      return "l1";
    default:
      return "huber";
  }
}
/// True for losses that take integer class labels.
inline bool is_classification(LossKind k) { return k == LossKind::CrossEntropy; }

/// Options describing one task of a `MultiTaskModel`.
///
/// @param name   the task's name; by default also the name of its target in the dataset
/// The head maps the task representation to the prediction (logits or values).
///
/// Example:
/// @code
/// TaskOptions<float>("item").head(std::make_shared<Linear<float>>(LinearOptions(256, 10)))
///     .loss(LossKind::CrossEntropy).weight(1.0);
/// @endcode
template <typename T>
struct TaskOptions {
  explicit TaskOptions(std::string name) : name_(std::move(name)), target_(name_) {}
  TaskOptions& head(std::shared_ptr<nn::Module<T>> h) {
    head_ = std::move(h);
    return *this;
  }
  TaskOptions& loss(LossKind k) {
    loss_ = k;
    return *this;
  }
  /// Static weight λ of this task in L = Σ λᵢ Lᵢ (default 1).
  TaskOptions& weight(double w) {
    weight_ = w;
    return *this;
  }
  /// Name of the dataset target holding this task's labels (default: the task name).
  TaskOptions& target(std::string t) {
    target_ = std::move(t);
    return *this;
  }
  /// Per-class weights for cross entropy.
  TaskOptions& class_weights(Tensor<T> w) {
    class_weights_ = std::move(w);
    return *this;
  }
  /// Label value skipped by cross entropy (default −100, as in PyTorch).
  TaskOptions& ignore_index(Index i) {
    ignore_index_ = i;
    return *this;
  }
  /// Threshold of the Huber loss (default 1).
  TaskOptions& huber_delta(double d) {
    huber_delta_ = d;
    return *this;
  }

  std::string name_;
  std::string target_;
  std::shared_ptr<nn::Module<T>> head_;
  LossKind loss_ = LossKind::CrossEntropy;
  double weight_ = 1.0;
  Tensor<T> class_weights_;
  Index ignore_index_ = -100;
  double huber_delta_ = 1.0;
};

/// A registered task (its options, validated).
template <typename T>
using Task = TaskOptions<T>;

}  // namespace model
}  // namespace onestone
