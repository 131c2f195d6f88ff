#pragma once
/// @file classification.hpp
/// `ConfusionMatrix`: accumulates predictions against labels; accuracy, precision, recall, F1.

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/tensor/shape.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::metrics {

/// A `num_classes x num_classes` confusion matrix (rows: true class, columns: predicted class)
/// accumulated over batches. `update` takes scores (logits or probabilities) `[N, C]` and
/// predicts each row's argmax (the first maximum on ties); `update_labels` takes predicted class
/// indices. Updates never allocate.
///
/// @param num_classes number of classes C (>= 1).
///
/// @code
/// onestone::metrics::ConfusionMatrix cm(10);
/// cm.update(logits, batch.targets[0].labels);   // logits [B, 10], labels [B]
/// double acc = cm.accuracy(), f1 = cm.macro_f1();
/// @endcode
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(Index num_classes) : num_classes_(num_classes) {
    if (num_classes < 1)
      throw std::invalid_argument("ConfusionMatrix: num_classes must be >= 1, got " +
                                  std::to_string(num_classes));
    counts_.assign(static_cast<std::size_t>(num_classes * num_classes), 0);
  }

  Index num_classes() const { return num_classes_; }

  /// Adds the argmax of each row of `scores` ([N, C]) against `labels` ([N] or [N, 1]).
  /// Throws std::invalid_argument naming both shapes when they disagree, or naming the index
  /// and value of a label outside [0, C).
  template <class T>
  void update(const Tensor<T>& scores, const Tensor<std::int64_t>& labels) {
    const Index n = scores.rank() == 2 ? scores.size(0) : -1;
    if (scores.rank() != 2 || scores.size(1) != num_classes_ || !is_label_vector(labels, n))
      throw std::invalid_argument("ConfusionMatrix::update: scores " + scores.shape().str() +
                                  " and labels " + labels.shape().str() +
                                  " do not match (expected [N, " + std::to_string(num_classes_) +
                                  "] and [N])");
    check_labels(labels, "ConfusionMatrix::update", "label");
    const auto m = scores.matrix();
    for (Index i = 0; i < n; ++i) {
      Eigen::Index best = 0;
      m.row(i).maxCoeff(&best);
      add_unchecked(labels[i], static_cast<Index>(best));
    }
  }

  /// Adds predicted class indices `predictions` against `labels` (both [N] or [N, 1]).
  /// Throws std::invalid_argument naming both shapes, or a value outside [0, C).
  void update_labels(const Tensor<std::int64_t>& predictions, const Tensor<std::int64_t>& labels) {
    const Index n = predictions.numel();
    if (!is_label_vector(predictions, n) || !is_label_vector(labels, n))
      throw std::invalid_argument("ConfusionMatrix::update_labels: predictions " +
                                  predictions.shape().str() + " and labels " +
                                  labels.shape().str() + " do not match (expected [N] and [N])");
    check_labels(labels, "ConfusionMatrix::update_labels", "label");
    check_labels(predictions, "ConfusionMatrix::update_labels", "prediction");
    for (Index i = 0; i < n; ++i) add_unchecked(labels[i], predictions[i]);
  }

  /// Adds one sample.
  void add(Index truth, Index predicted) {
    if (truth < 0 || truth >= num_classes_ || predicted < 0 || predicted >= num_classes_)
      throw std::invalid_argument("ConfusionMatrix::add: (truth " + std::to_string(truth) +
                                  ", predicted " + std::to_string(predicted) + ") outside [0, " +
                                  std::to_string(num_classes_) + ")");
    add_unchecked(truth, predicted);
  }

  /// Samples of true class `truth` predicted as `predicted`.
  std::int64_t at(Index truth, Index predicted) const {
    if (truth < 0 || truth >= num_classes_ || predicted < 0 || predicted >= num_classes_)
      throw std::out_of_range("ConfusionMatrix::at: (" + std::to_string(truth) + ", " +
                              std::to_string(predicted) + ") outside " +
                              std::to_string(num_classes_) + "x" + std::to_string(num_classes_));
    return counts_[static_cast<std::size_t>(truth * num_classes_ + predicted)];
  }

  /// Samples accumulated so far.
  std::int64_t count() const { return total_; }

  /// Fraction of samples predicted correctly (0 when empty).
  double accuracy() const {
    if (total_ == 0) return 0.0;
    std::int64_t correct = 0;
    for (Index c = 0; c < num_classes_; ++c) correct += cell(c, c);
    return static_cast<double>(correct) / static_cast<double>(total_);
  }

  /// Precision of class `c`: TP / (samples predicted as c); 0 when nothing was predicted as c.
  double precision(Index c) const {
    check_class(c, "precision");
    const std::int64_t p = predicted_count(c);
    return p == 0 ? 0.0 : static_cast<double>(cell(c, c)) / static_cast<double>(p);
  }

  /// Recall of class `c`: TP / (samples of true class c); 0 when class c never occurred.
  double recall(Index c) const {
    check_class(c, "recall");
    const std::int64_t t = true_count(c);
    return t == 0 ? 0.0 : static_cast<double>(cell(c, c)) / static_cast<double>(t);
  }

  /// F1 of class `c`: 2 TP / (2 TP + FP + FN); 0 when c occurs in neither labels nor
  /// predictions.
  double f1(Index c) const {
    check_class(c, "f1");
    const std::int64_t tp = cell(c, c);
    const std::int64_t denom = true_count(c) + predicted_count(c);  // = 2TP + FP + FN
    return denom == 0 ? 0.0 : 2.0 * static_cast<double>(tp) / static_cast<double>(denom);
  }

  /// Mean of `f1(c)` over the classes that occur in the labels or the predictions (0 when
  /// empty).
  double macro_f1() const {
    double sum = 0.0;
    Index present = 0;
    for (Index c = 0; c < num_classes_; ++c) {
      if (true_count(c) + predicted_count(c) == 0) continue;
      sum += f1(c);
      ++present;
    }
    return present == 0 ? 0.0 : sum / static_cast<double>(present);
  }

  /// Clears all counts.
  void reset() {
    std::fill(counts_.begin(), counts_.end(), std::int64_t(0));
    total_ = 0;
  }

 private:
  static bool is_label_vector(const Tensor<std::int64_t>& t, Index n) {
    if (n < 0) return false;
    if (t.rank() == 1) return t.size(0) == n;
    return t.rank() == 2 && t.size(0) == n && t.size(1) == 1;
  }
  void check_labels(const Tensor<std::int64_t>& t, const char* op, const char* what) const {
    for (Index i = 0; i < t.numel(); ++i)
      if (t[i] < 0 || t[i] >= num_classes_)
        throw std::invalid_argument(std::string(op) + ": " + what + " at index " +
                                    std::to_string(i) + " is " + std::to_string(t[i]) +
                                    ", outside [0, " + std::to_string(num_classes_) + ")");
  }
  void check_class(Index c, const char* op) const {
    if (c < 0 || c >= num_classes_)
      throw std::out_of_range(std::string("ConfusionMatrix::") + op + ": class " +
                              std::to_string(c) + " outside [0, " + std::to_string(num_classes_) +
                              ")");
  }
  std::int64_t cell(Index t, Index p) const {
    return counts_[static_cast<std::size_t>(t * num_classes_ + p)];
  }
  std::int64_t true_count(Index c) const {
    std::int64_t s = 0;
    for (Index p = 0; p < num_classes_; ++p) s += cell(c, p);
    return s;
  }
  std::int64_t predicted_count(Index c) const {
    std::int64_t s = 0;
    for (Index t = 0; t < num_classes_; ++t) s += cell(t, c);
    return s;
  }
  void add_unchecked(Index truth, Index predicted) {
    ++counts_[static_cast<std::size_t>(truth * num_classes_ + predicted)];
    ++total_;
  }

  Index num_classes_;
  std::vector<std::int64_t> counts_;
  std::int64_t total_ = 0;
};

}  // namespace onestone::metrics
