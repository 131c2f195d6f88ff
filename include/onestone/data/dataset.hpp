#pragma once
/// @file dataset.hpp
/// `Dataset<T>`: in-memory inputs with any number of named classification / regression targets,
/// and `Batch<T>`: the reusable buffers a `DataLoader` fills.

#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/shape.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::data {

/// What a task predicts: a class index (`Class`) or a real vector (`Value`).
///
/// @code
/// if (target.kind == onestone::data::TargetKind::Class) { /* use target.labels */ }
/// @endcode
enum class TargetKind { Class, Value };

/// The labels of one task, for a whole dataset or for one batch.
///
/// @tparam T element type of regression values (`float` or `double`).
/// Fields: `name` (task name), `kind`, `num_classes` (classes for `Class`, 0 for `Value`),
/// `labels` (`[N]` class indices when `kind == Class`, empty otherwise) and `values`
/// (`[N, k]` regression targets when `kind == Value`, empty otherwise).
///
/// @code
/// const auto& t = dataset.targets()[0];
/// std::int64_t first_label = t.labels[0];   // when t.kind == TargetKind::Class
/// @endcode
template <class T>
struct Target {
  std::string name;
  TargetKind kind = TargetKind::Class;
  Index num_classes = 0;
  Tensor<std::int64_t> labels;  ///< [N] when kind == Class
  Tensor<T> values;             ///< [N, k] when kind == Value
};

/// One mini-batch: gathered inputs `x` (`[B, ...]`) and one `Target` per task (`[B]` labels or
/// `[B, k]` values). The tensors are resized in place, so a batch reused across calls stops
/// allocating once it has held its largest batch.
///
/// @tparam T element type of inputs and regression values.
///
/// @code
/// onestone::data::Batch<float> batch;
/// while (loader.next(batch)) {
///   auto x = batch.x.matrix();                      // [B, 784]
///   const auto& y = batch.targets[0].labels;        // [B]
/// }
/// @endcode
template <class T>
struct Batch {
  Tensor<T> x;
  std::vector<Target<T>> targets;

  /// Number of samples in the batch (0 when empty).
  Index size() const { return x.rank() > 0 ? x.size(0) : 0; }
};

/// An in-memory multi-task dataset: inputs `[N, ...]` (rank 2..4) plus named targets.
///
/// @tparam T element type of inputs and regression values (`float` or `double`).
///
/// Classification targets hold `[N]` labels in `[0, num_classes)`; regression targets hold
/// `[N, k]` values (a `[N]` tensor is stored as `[N, 1]`). Tasks are addressed by position
/// (the order they were added) or by name through `task_index`.
///
/// @code
/// onestone::data::Dataset<float> ds(onestone::Tensor<float>({100, 8}));
/// ds.add_classification("kind", onestone::Tensor<std::int64_t>({100}), 3)
///   .add_regression("score", onestone::Tensor<float>({100}));
/// auto [train, valid] = ds.split(0.8, /*seed=*/1);   // 80 / 20 samples, shuffled
/// @endcode
template <class T>
class Dataset {
 public:
  /// Wraps `inputs` of shape `[N, ...]` (rank 2..4); throws std::invalid_argument otherwise.
  explicit Dataset(Tensor<T> inputs) : inputs_(std::move(inputs)) {
    if (inputs_.rank() < 2 || inputs_.rank() > 4)
      throw std::invalid_argument("Dataset: inputs must have rank 2..4 ([N, ...]), got shape " +
                                  inputs_.shape().str());
  }

  /// Adds a classification task with `[N]` labels in `[0, num_classes)`. Throws
  /// std::invalid_argument on a duplicate name, a wrong shape, `num_classes < 1`, or a label out
  /// of range (the message names the task, the sample index and the value).
  Dataset& add_classification(const std::string& name, Tensor<std::int64_t> labels,
                              Index num_classes) {
    check_new_name(name, "add_classification");
    if (num_classes < 1)
      throw std::invalid_argument("Dataset::add_classification: task '" + name +
                                  "' needs num_classes >= 1, got " + std::to_string(num_classes));
    const bool column = labels.rank() == 2 && labels.size(1) == 1;
    if ((labels.rank() != 1 && !column) || labels.size(0) != size())
      throw std::invalid_argument("Dataset::add_classification: task '" + name + "' labels " +
                                  labels.shape().str() + " do not match inputs " +
                                  inputs_.shape().str() + " (expected [" + std::to_string(size()) +
                                  "])");
    if (column) labels.reshape_(Shape{size()});
    for (Index i = 0; i < labels.numel(); ++i) {
      const std::int64_t v = labels[i];
      if (v < 0 || v >= num_classes)
        throw std::invalid_argument(
            "Dataset::add_classification: task '" + name + "' label at index " + std::to_string(i) +
            " is " + std::to_string(v) + ", outside [0, " + std::to_string(num_classes) + ")");
    }
    Target<T> t;
    t.name = name;
    t.kind = TargetKind::Class;
    t.num_classes = num_classes;
    t.labels = std::move(labels);
    targets_.push_back(std::move(t));
    return *this;
  }

  /// Adds a regression task with `[N]` (stored as `[N, 1]`) or `[N, k]` values. Throws
  /// std::invalid_argument on a duplicate name or a wrong shape.
  Dataset& add_regression(const std::string& name, Tensor<T> values) {
    check_new_name(name, "add_regression");
    if ((values.rank() != 1 && values.rank() != 2) || values.size(0) != size() ||
        (values.rank() == 2 && values.size(1) < 1))
      throw std::invalid_argument("Dataset::add_regression: task '" + name + "' values " +
                                  values.shape().str() + " do not match inputs " +
                                  inputs_.shape().str() + " (expected [" + std::to_string(size()) +
                                  "] or [" + std::to_string(size()) + ", k])");
    if (values.rank() == 1) values.reshape_(Shape{size(), 1});
    Target<T> t;
    t.name = name;
    t.kind = TargetKind::Value;
    t.num_classes = 0;
    t.values = std::move(values);
    targets_.push_back(std::move(t));
    return *this;
  }

  /// Number of samples N.
  Index size() const { return inputs_.size(0); }
  /// The inputs `[N, ...]`.
  const Tensor<T>& inputs() const { return inputs_; }
  /// Shape of one sample (the input shape without its first dimension).
  Shape sample_shape() const {
    Shape s;
    for (int i = 1; i < inputs_.rank(); ++i) s.push_back(inputs_.size(i));
    return s;
  }
  /// Number of input values per sample.
  Index sample_numel() const { return sample_shape().numel(); }
  /// All targets, in the order they were added.
  const std::vector<Target<T>>& targets() const { return targets_; }
  /// Target `i` (bounds-checked).
  const Target<T>& target(Index i) const {
    if (i < 0 || i >= num_tasks())
      throw std::out_of_range("Dataset::target: task " + std::to_string(i) + " out of range (" +
                              std::to_string(num_tasks()) + " tasks)");
    return targets_[static_cast<std::size_t>(i)];
  }
  /// The target named `name` (see `task_index`).
  const Target<T>& target(const std::string& name) const { return target(task_index(name)); }
  /// Number of tasks.
  Index num_tasks() const { return static_cast<Index>(targets_.size()); }

  /// Position of the task named `name`; throws std::invalid_argument listing the known names.
  Index task_index(const std::string& name) const {
    for (std::size_t i = 0; i < targets_.size(); ++i)
      if (targets_[i].name == name) return static_cast<Index>(i);
    std::string known;
    for (const auto& t : targets_) known += (known.empty() ? "'" : ", '") + t.name + "'";
    throw std::invalid_argument("Dataset::task_index: unknown task '" + name +
                                "' (known: " + (known.empty() ? std::string("none") : known) + ")");
  }

  /// Copies the sample indices `indices[0..count)` of inputs and every target into `out`,
  /// resizing its tensors in place (no allocation once `out` has reached capacity). Throws
  /// std::out_of_range on an index outside `[0, N)`.
  void gather(const Index* indices, Index count, Batch<T>& out) const {
    const Index n = size();
    for (Index i = 0; i < count; ++i)
      if (indices[i] < 0 || indices[i] >= n)
        throw std::out_of_range("Dataset::gather: index " + std::to_string(indices[i]) +
                                " at position " + std::to_string(i) + " outside [0, " +
                                std::to_string(n) + ")");
    Shape xs = inputs_.shape();
    xs.set(0, count);
    out.x.resize(xs);
    gather_rows(inputs_.data(), n, sample_numel(), indices, count, out.x.data());

    if (out.targets.size() != targets_.size()) out.targets.resize(targets_.size());
    for (std::size_t t = 0; t < targets_.size(); ++t) {
      const Target<T>& src = targets_[t];
      Target<T>& dst = out.targets[t];
      if (dst.name != src.name) dst.name = src.name;
      dst.kind = src.kind;
      dst.num_classes = src.num_classes;
      if (src.kind == TargetKind::Class) {
        dst.labels.resize(Shape{count});
        for (Index i = 0; i < count; ++i) dst.labels[i] = src.labels[indices[i]];
      } else {
        const Index k = src.values.size(1);
        dst.values.resize(Shape{count, k});
        gather_rows(src.values.data(), n, k, indices, count, dst.values.data());
      }
    }
  }

  /// A new dataset holding the samples `indices` (in that order) of every tensor.
  Dataset select(const std::vector<Index>& indices) const {
    Batch<T> b;
    gather(indices.data(), static_cast<Index>(indices.size()), b);
    Dataset d(std::move(b.x));
    d.targets_ = std::move(b.targets);
    return d;
  }

  /// A new dataset holding samples `[begin, end)`; throws std::out_of_range on a bad range.
  Dataset subset(Index begin, Index end) const {
    if (begin < 0 || end < begin || end > size())
      throw std::out_of_range("Dataset::subset: range [" + std::to_string(begin) + ", " +
                              std::to_string(end) + ") invalid for " + std::to_string(size()) +
                              " samples");
    std::vector<Index> idx(static_cast<std::size_t>(end - begin));
    std::iota(idx.begin(), idx.end(), begin);
    return select(idx);
  }

  /// Shuffles the samples with `Generator(seed)` and splits them into a first dataset of
  /// `round(fraction * N)` samples and a second one with the rest. Throws
  /// std::invalid_argument unless `0 <= fraction <= 1`.
  std::pair<Dataset, Dataset> split(double fraction, std::uint64_t seed) const {
    if (!(fraction >= 0.0 && fraction <= 1.0))
      throw std::invalid_argument("Dataset::split: fraction " + std::to_string(fraction) +
                                  " outside [0, 1]");
    std::vector<Index> idx(static_cast<std::size_t>(size()));
    std::iota(idx.begin(), idx.end(), Index(0));
    Generator gen(seed);
    gen.shuffle(idx.begin(), idx.end());
    const auto first =
        static_cast<std::size_t>(std::llround(fraction * static_cast<double>(size())));
    std::vector<Index> a(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(first));
    std::vector<Index> b(idx.begin() + static_cast<std::ptrdiff_t>(first), idx.end());
    return {select(a), select(b)};
  }

 private:
  static void gather_rows(const T* src, Index src_rows, Index width, const Index* indices,
                          Index count, T* dst) {
    if (width == 0 || count == 0) return;
    ConstMatrixMap<T> from(src, src_rows, width);
    MatrixMap<T> to(dst, count, width);
    for (Index i = 0; i < count; ++i) to.row(i) = from.row(indices[i]);
  }

  void check_new_name(const std::string& name, const char* op) const {
    if (name.empty())
      throw std::invalid_argument(std::string("Dataset::") + op + ": task name must not be empty");
    for (const auto& t : targets_)
      if (t.name == name)
        throw std::invalid_argument(std::string("Dataset::") + op + ": task '" + name +
                                    "' already exists");
  }

  Tensor<T> inputs_;
  std::vector<Target<T>> targets_;
};
ONESTONE_EXTERN_CLASS(DATA, Dataset)

}  // namespace onestone::data
