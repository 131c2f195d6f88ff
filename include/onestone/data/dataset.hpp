#pragma once
/// @file dataset.hpp
/// `Dataset<T>`: in-memory inputs with any number of named classification / regression targets,
/// and `Batch<T>`: the reusable buffers a `DataLoader` fills.

#include <algorithm>
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

/// What a target holds as its main field: class labels (`Class`, in `labels`), real values
/// (`Value`, in `values`), or both and more (`Composite`, e.g. boxes and their classes, or
/// survival times and events).
///
/// @code
/// if (target.kind == onestone::data::TargetKind::Class) { /* use target.labels */ }
/// @endcode
enum class TargetKind { Class, Value, Composite };

/// The labels of one task, for a whole dataset or for one batch: any number of tensors whose
/// first dimension is the sample, plus optional per-sample weights.
///
/// @tparam T element type of real-valued fields (`float` or `double`).
///
/// Fields:
/// - `name`, `kind`, `num_classes` (classes for class labels, 0 otherwise);
/// - `labels`: integer labels `[N]` or `[N, ...]` (per pixel, per token), empty if none;
/// - `values`: real values `[N, k]` or `[N, ...]`, empty if none;
/// - `fields` / `label_fields`: further named tensors (`[N, ...]`), e.g. {"event", ...};
/// - `weight`: `[N]` per-sample weights, empty when every sample counts with weight 1. A weight
///   of 0 marks a sample as unlabelled for this task: its loss ignores it and a batch where
///   every weight is 0 leaves the task out of that step.
///
/// @code
/// const auto& t = batch.targets[0];
/// std::int64_t first = t.labels[0];       // class labels
/// bool labelled = t.is_labelled(3);       // weight of sample 3 > 0
/// const auto& event = t.field("event");   // a named real field
/// @endcode
template <class T>
struct Target {
  std::string name;
  TargetKind kind = TargetKind::Class;
  Index num_classes = 0;
  Tensor<std::int64_t> labels;
  Tensor<T> values;
  std::vector<std::pair<std::string, Tensor<T>>> fields;
  std::vector<std::pair<std::string, Tensor<std::int64_t>>> label_fields;
  Tensor<T> weight;

  /// Samples of this target (first dimension of its tensors).
  Index size() const {
    if (labels.rank() > 0) return labels.size(0);
    if (values.rank() > 0) return values.size(0);
    for (const auto& f : fields)
      if (f.second.rank() > 0) return f.second.size(0);
    for (const auto& f : label_fields)
      if (f.second.rank() > 0) return f.second.size(0);
    return 0;
  }
  /// True when per-sample weights are set.
  bool weighted() const { return weight.numel() > 0; }
  /// Weight of sample i (1 without weights).
  T weight_of(Index i) const { return weighted() ? weight[i] : T(1); }
  /// True when sample i counts for this task (weight > 0).
  bool is_labelled(Index i) const { return weight_of(i) > T(0); }
  /// Number of samples with a weight > 0.
  Index labelled_count() const {
    if (!weighted()) return size();
    Index n = 0;
    for (Index i = 0; i < weight.numel(); ++i) n += weight[i] > T(0) ? 1 : 0;
    return n;
  }
  /// The real field `fname`; throws std::invalid_argument naming the known fields.
  const Tensor<T>& field(const std::string& fname) const {
    for (const auto& f : fields)
      if (f.first == fname) return f.second;
    throw std::invalid_argument("Target '" + name + "': no real field '" + fname + "'" +
                                known_fields());
  }
  /// The integer field `fname`; throws std::invalid_argument naming the known fields.
  const Tensor<std::int64_t>& label_field(const std::string& fname) const {
    for (const auto& f : label_fields)
      if (f.first == fname) return f.second;
    throw std::invalid_argument("Target '" + name + "': no integer field '" + fname + "'" +
                                known_fields());
  }
  bool has_field(const std::string& fname) const {
    for (const auto& f : fields)
      if (f.first == fname) return true;
    for (const auto& f : label_fields)
      if (f.first == fname) return true;
    return false;
  }

 private:
  std::string known_fields() const {
    std::string k;
    for (const auto& f : fields) k += (k.empty() ? "" : ", ") + f.first;
    for (const auto& f : label_fields) k += (k.empty() ? "" : ", ") + f.first;
    return " (fields: " + (k.empty() ? std::string("none") : k) + ")";
  }
};

/// One mini-batch: gathered inputs `x` (`[B, ...]`) and one `Target` per task with the batch's
/// rows of every field and weight. The tensors are resized in place, so a batch reused across
/// calls stops allocating once it has held its largest batch.
///
/// @tparam T element type of inputs and real-valued fields.
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
  /// The target named `name` (throws std::invalid_argument listing the names).
  const Target<T>& target(const std::string& name) const {
    for (const auto& t : targets)
      if (t.name == name) return t;
    std::string known;
    for (const auto& t : targets) known += (known.empty() ? "" : ", ") + t.name;
    throw std::invalid_argument("Batch: no target named '" + name + "' (targets: " + known + ")");
  }
};

/// An in-memory multi-task dataset: inputs `[N, ...]` (rank 2..4) plus named targets.
///
/// @tparam T element type of inputs and real-valued fields (`float` or `double`).
///
/// Targets may have any shape whose first dimension is the sample: class labels `[N]` or
/// `[N, ...]` (per pixel, per token) in `[0, num_classes)` (or equal to an ignore value),
/// real values `[N, k]` or `[N, ...]` (a `[N]` tensor is stored as `[N, 1]`), or several
/// tensors together (`add_target`). Any target may carry per-sample weights; weight 0 marks a
/// sample as unlabelled for that task (`set_labelled`, `set_sample_weights`). Integer inputs
/// (token ids, category codes) are stored as values of T, exact below 2^24 for float.
///
/// @code
/// onestone::data::Dataset<float> ds(onestone::Tensor<float>({100, 8}));
/// ds.add_classification("kind", onestone::Tensor<std::int64_t>({100}), 3)
///   .add_regression("score", onestone::Tensor<float>({100}));
/// ds.set_labelled("score", has_score);                  // Mask [100]: 1 = labelled
/// auto [train, valid] = ds.split(0.8, /*seed=*/1);      // 80 / 20 samples, shuffled
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

  /// Adds a classification task with labels `[N]` (or `[N, 1]`) or `[N, ...]` (per pixel or
  /// token) in `[0, num_classes)`; labels equal to `ignore_index` (default −100, as PyTorch)
  /// are allowed and skipped by the cross-entropy loss. Throws std::invalid_argument on a
  /// duplicate name, a wrong shape, `num_classes < 1`, or a label out of range (the message
  /// names the task, the position and the value).
  Dataset& add_classification(const std::string& name, Tensor<std::int64_t> labels,
                              Index num_classes, Index ignore_index = -100);

  /// Adds a regression task with `[N]` (stored as `[N, 1]`), `[N, k]` or `[N, ...]` values.
  /// Throws std::invalid_argument on a duplicate name or a wrong shape.
  Dataset& add_regression(const std::string& name, Tensor<T> values);

  /// Adds a target of any composition (e.g. `values` = boxes `[N, 4]` and `labels` = their
  /// classes `[N]`; or `values` = survival times and a field "event"). Every tensor's first
  /// dimension must be N, `weight` (if set) must be `[N]`, finite and non-negative. Throws
  /// std::invalid_argument naming the task and the offending field.
  Dataset& add_target(Target<T> t);

  /// Per-sample weights `[N]` (finite, >= 0) of task `name`: its loss weighs sample n by w[n]
  /// (e.g. a conversion loss only on clicked rows); 0 marks the sample unlabelled.
  Dataset& set_sample_weights(const std::string& name, Tensor<T> w);
  /// Which samples of task `name` are labelled (`mask[n]` nonzero); the others get weight 0.
  /// Combines with existing weights (an unlabelled sample gets 0, a labelled keeps its weight).
  Dataset& set_labelled(const std::string& name, const Tensor<std::uint8_t>& mask);

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
  Index task_index(const std::string& name) const;

  /// Copies the sample indices `indices[0..count)` of inputs and every target field and weight
  /// into `out`, resizing its tensors in place (no allocation once `out` has reached capacity).
  /// Throws std::out_of_range on an index outside `[0, N)`.
  void gather(const Index* indices, Index count, Batch<T>& out) const;

  /// A new dataset holding the samples `indices` (in that order) of every tensor.
  Dataset select(const std::vector<Index>& indices) const;

  /// A new dataset holding samples `[begin, end)`; throws std::out_of_range on a bad range.
  Dataset subset(Index begin, Index end) const;

  /// Shuffles the samples with `Generator(seed)` and splits them into a first dataset of
  /// `round(fraction * N)` samples and a second one with the rest. Throws
  /// std::invalid_argument unless `0 <= fraction <= 1`.
  std::pair<Dataset, Dataset> split(double fraction, std::uint64_t seed) const;

 private:
  /// dst = the rows `indices` of src (a tensor whose first dimension is the sample; an empty
  /// src gives an empty dst).
  template <class U>
  static void gather_tensor(const Tensor<U>& src, const Index* indices, Index count,
                            Tensor<U>& dst) {
    if (src.rank() == 0) {
      if (dst.rank() != 0 || dst.numel() != 0) dst = Tensor<U>();
      return;
    }
    Shape s = src.shape();
    s.set(0, count);
    dst.resize(s);
    const Index width = src.size(0) ? src.numel() / src.size(0) : 0;
    if (width == 0 || count == 0) return;
    const U* from = src.data();
    U* to = dst.data();
    for (Index i = 0; i < count; ++i)
      std::copy(from + indices[i] * width, from + (indices[i] + 1) * width, to + i * width);
  }

  void check_weights(const std::string& name, const Tensor<T>& w, const char* op) const;

  void check_new_name(const std::string& name, const char* op) const;

  Tensor<T> inputs_;
  std::vector<Target<T>> targets_;
};

template <class T>
Dataset<T>& Dataset<T>::add_classification(const std::string& name, Tensor<std::int64_t> labels,
                                           Index num_classes, Index ignore_index) {
  check_new_name(name, "add_classification");
  if (num_classes < 1)
    throw std::invalid_argument("Dataset::add_classification: task '" + name +
                                "' needs num_classes >= 1, got " + std::to_string(num_classes));
  const bool column = labels.rank() == 2 && labels.size(1) == 1;
  if (labels.rank() < 1 || labels.size(0) != size())
    throw std::invalid_argument("Dataset::add_classification: task '" + name + "' labels " +
                                labels.shape().str() + " do not match inputs " +
                                inputs_.shape().str() + " (expected [" + std::to_string(size()) +
                                "] or [" + std::to_string(size()) + ", ...])");
  if (column) labels.reshape_(Shape{size()});
  for (Index i = 0; i < labels.numel(); ++i) {
    const std::int64_t v = labels[i];
    if ((v < 0 || v >= num_classes) && v != ignore_index)
      throw std::invalid_argument("Dataset::add_classification: task '" + name +
                                  "' label at position " + std::to_string(i) + " is " +
                                  std::to_string(v) + ", outside [0, " +
                                  std::to_string(num_classes) + ") and not the ignore value " +
                                  std::to_string(ignore_index));
  }
  Target<T> t;
  t.name = name;
  t.kind = TargetKind::Class;
  t.num_classes = num_classes;
  t.labels = std::move(labels);
  targets_.push_back(std::move(t));
  return *this;
}

template <class T>
Dataset<T>& Dataset<T>::add_regression(const std::string& name, Tensor<T> values) {
  check_new_name(name, "add_regression");
  if (values.rank() < 1 || values.size(0) != size() || values.numel() == 0)
    throw std::invalid_argument("Dataset::add_regression: task '" + name + "' values " +
                                values.shape().str() + " do not match inputs " +
                                inputs_.shape().str() + " (expected [" + std::to_string(size()) +
                                "] or [" + std::to_string(size()) + ", ...])");
  if (values.rank() == 1) values.reshape_(Shape{size(), 1});
  Target<T> t;
  t.name = name;
  t.kind = TargetKind::Value;
  t.num_classes = 0;
  t.values = std::move(values);
  targets_.push_back(std::move(t));
  return *this;
}

template <class T>
Dataset<T>& Dataset<T>::add_target(Target<T> t) {
  check_new_name(t.name, "add_target");
  auto check = [&](const Shape& s, const std::string& field) {
    if (s.rank() < 1 || s.at(0) != size())
      throw std::invalid_argument("Dataset::add_target: task '" + t.name + "' field '" + field +
                                  "' has shape " + s.str() + ", expected first dimension " +
                                  std::to_string(size()));
  };
  bool any = false;
  if (t.labels.numel() > 0 || t.labels.rank() > 0) check(t.labels.shape(), "labels"), any = true;
  if (t.values.numel() > 0 || t.values.rank() > 0) check(t.values.shape(), "values"), any = true;
  for (const auto& f : t.fields) check(f.second.shape(), f.first), any = true;
  for (const auto& f : t.label_fields) check(f.second.shape(), f.first), any = true;
  if (!any)
    throw std::invalid_argument("Dataset::add_target: task '" + t.name + "' holds no tensor");
  if (t.weighted()) check_weights(t.name, t.weight, "add_target");
  if (t.num_classes > 0)
    for (Index i = 0; i < t.labels.numel(); ++i)
      if (t.labels[i] >= t.num_classes)
        throw std::invalid_argument("Dataset::add_target: task '" + t.name + "' label at " +
                                    "position " + std::to_string(i) + " is " +
                                    std::to_string(t.labels[i]) + ", not below num_classes " +
                                    std::to_string(t.num_classes));
  targets_.push_back(std::move(t));
  return *this;
}

template <class T>
Dataset<T>& Dataset<T>::set_sample_weights(const std::string& name, Tensor<T> w) {
  Target<T>& t = targets_[static_cast<std::size_t>(task_index(name))];
  if (w.rank() == 2 && w.size(1) == 1) w.reshape_(Shape{w.size(0)});
  check_weights(name, w, "set_sample_weights");
  t.weight = std::move(w);
  return *this;
}

template <class T>
Dataset<T>& Dataset<T>::set_labelled(const std::string& name, const Tensor<std::uint8_t>& mask) {
  Target<T>& t = targets_[static_cast<std::size_t>(task_index(name))];
  if (mask.numel() != size())
    throw std::invalid_argument("Dataset::set_labelled: task '" + name + "' mask of shape " +
                                mask.shape().str() + " for " + std::to_string(size()) + " samples");
  if (!t.weighted()) t.weight = Tensor<T>::ones(Shape{size()});
  for (Index i = 0; i < size(); ++i)
    if (!mask[i]) t.weight[i] = T(0);
  return *this;
}

template <class T>
Index Dataset<T>::task_index(const std::string& name) const {
  for (std::size_t i = 0; i < targets_.size(); ++i)
    if (targets_[i].name == name) return static_cast<Index>(i);
  std::string known;
  for (const auto& t : targets_) known += (known.empty() ? "'" : ", '") + t.name + "'";
  throw std::invalid_argument("Dataset::task_index: unknown task '" + name +
                              "' (known: " + (known.empty() ? std::string("none") : known) + ")");
}

template <class T>
void Dataset<T>::gather(const Index* indices, Index count, Batch<T>& out) const {
  const Index n = size();
  for (Index i = 0; i < count; ++i)
    if (indices[i] < 0 || indices[i] >= n)
      throw std::out_of_range("Dataset::gather: index " + std::to_string(indices[i]) +
                              " at position " + std::to_string(i) + " outside [0, " +
                              std::to_string(n) + ")");
  gather_tensor(inputs_, indices, count, out.x);
  if (out.targets.size() != targets_.size()) out.targets.resize(targets_.size());
  for (std::size_t t = 0; t < targets_.size(); ++t) {
    const Target<T>& src = targets_[t];
    Target<T>& dst = out.targets[t];
    if (dst.name != src.name) dst.name = src.name;
    dst.kind = src.kind;
    dst.num_classes = src.num_classes;
    gather_tensor(src.labels, indices, count, dst.labels);
    gather_tensor(src.values, indices, count, dst.values);
    gather_tensor(src.weight, indices, count, dst.weight);
    if (dst.fields.size() != src.fields.size()) dst.fields.resize(src.fields.size());
    for (std::size_t f = 0; f < src.fields.size(); ++f) {
      if (dst.fields[f].first != src.fields[f].first) dst.fields[f].first = src.fields[f].first;
      gather_tensor(src.fields[f].second, indices, count, dst.fields[f].second);
    }
    if (dst.label_fields.size() != src.label_fields.size())
      dst.label_fields.resize(src.label_fields.size());
    for (std::size_t f = 0; f < src.label_fields.size(); ++f) {
      if (dst.label_fields[f].first != src.label_fields[f].first)
        dst.label_fields[f].first = src.label_fields[f].first;
      gather_tensor(src.label_fields[f].second, indices, count, dst.label_fields[f].second);
    }
  }
}

template <class T>
Dataset<T> Dataset<T>::select(const std::vector<Index>& indices) const {
  Batch<T> b;
  gather(indices.data(), static_cast<Index>(indices.size()), b);
  Dataset d(std::move(b.x));
  d.targets_ = std::move(b.targets);
  return d;
}

template <class T>
Dataset<T> Dataset<T>::subset(Index begin, Index end) const {
  if (begin < 0 || end < begin || end > size())
    throw std::out_of_range("Dataset::subset: range [" + std::to_string(begin) + ", " +
                            std::to_string(end) + ") invalid for " + std::to_string(size()) +
                            " samples");
  std::vector<Index> idx(static_cast<std::size_t>(end - begin));
  std::iota(idx.begin(), idx.end(), begin);
  return select(idx);
}

template <class T>
std::pair<Dataset<T>, Dataset<T>> Dataset<T>::split(double fraction, std::uint64_t seed) const {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw std::invalid_argument("Dataset::split: fraction " + std::to_string(fraction) +
                                " outside [0, 1]");
  std::vector<Index> idx(static_cast<std::size_t>(size()));
  std::iota(idx.begin(), idx.end(), Index(0));
  Generator gen(seed);
  gen.shuffle(idx.begin(), idx.end());
  const auto first = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(size())));
  std::vector<Index> a(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(first));
  std::vector<Index> b(idx.begin() + static_cast<std::ptrdiff_t>(first), idx.end());
  return {select(a), select(b)};
}

template <class T>
void Dataset<T>::check_weights(const std::string& name, const Tensor<T>& w, const char* op) const {
  if (w.rank() != 1 || w.size(0) != size())
    throw std::invalid_argument(std::string("Dataset::") + op + ": task '" + name +
                                "' weights of shape " + w.shape().str() + ", expected [" +
                                std::to_string(size()) + "]");
  for (Index i = 0; i < w.numel(); ++i)
    if (!std::isfinite(static_cast<double>(w[i])) || w[i] < T(0))
      throw std::invalid_argument(std::string("Dataset::") + op + ": task '" + name +
                                  "' weight at position " + std::to_string(i) + " is " +
                                  std::to_string(static_cast<double>(w[i])) +
                                  " (must be finite and >= 0)");
}

template <class T>
void Dataset<T>::check_new_name(const std::string& name, const char* op) const {
  if (name.empty())
    throw std::invalid_argument(std::string("Dataset::") + op + ": task name must not be empty");
  for (const auto& t : targets_)
    if (t.name == name)
      throw std::invalid_argument(std::string("Dataset::") + op + ": task '" + name +
                                  "' already exists");
}
ONESTONE_EXTERN_CLASS(DATA, Dataset)

}  // namespace onestone::data
