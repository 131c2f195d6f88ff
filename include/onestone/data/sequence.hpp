#pragma once
/// @file sequence.hpp
/// Token sequences to a `Dataset<T>`: ids padded to a fixed length into inputs `[N, L]`,
/// sentence-level class targets `[N]` and token-level tag targets `[N, L]` (−100 at padding),
/// with missing labels as weight 0. Pair it with `LoaderOptions::bucket_by_length` and
/// `trim_padding` for batches of similar lengths without wasted positions.

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/vocabulary.hpp"
#include "onestone/tensor/shape.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::data {

/// Options of `SequenceDatasetBuilder`.
///
/// Fields:
/// - `max_length` (default 0 = the longest sequence, at least 1): the padded length L;
/// - `truncate` (default true): a longer sequence (and its tags) is cut to L; with false it is
///   an error;
/// - `pad_id` (default 0, `Vocabulary::pad_id()`): the id written after each sequence;
/// - `ignore_index` (default −100): the tag label at padding and of missing labels, skipped by
///   the cross-entropy loss and the metrics.
///
/// @code
/// auto opts = onestone::data::SequenceOptions().max_length(64).truncate(true);
/// @endcode
struct SequenceOptions {
  SequenceOptions& max_length(Index v) {
    max_length_ = v;
    return *this;
  }
  SequenceOptions& truncate(bool v) {
    truncate_ = v;
    return *this;
  }
  SequenceOptions& pad_id(Index v) {
    pad_id_ = v;
    return *this;
  }
  SequenceOptions& ignore_index(Index v) {
    ignore_index_ = v;
    return *this;
  }
  Index max_length() const { return max_length_; }
  bool truncate() const { return truncate_; }
  Index pad_id() const { return pad_id_; }
  Index ignore_index() const { return ignore_index_; }

 private:
  Index max_length_ = 0;
  bool truncate_ = true;
  Index pad_id_ = 0;
  Index ignore_index_ = -100;
};

/// Ids of every sentence (`Vocabulary::encode` on each).
///
/// @code
/// auto ids = onestone::data::encode_sentences(vocab, sentences);
/// @endcode
inline std::vector<std::vector<Index>> encode_sentences(
    const Vocabulary& vocab, const std::vector<std::vector<std::string>>& sentences) {
  std::vector<std::vector<Index>> out;
  out.reserve(sentences.size());
  for (const auto& s : sentences) out.push_back(vocab.encode(s));
  return out;
}

/// Builds a `Dataset<T>` from token-id sequences: inputs `[N, L]` holding the ids as values of
/// T (exact below 2^24 for float) followed by `pad_id`, plus any number of tasks:
/// - `add_class_target`: one class per sequence, labels `[N]`; a missing label (−1, or an empty
///   string) gets weight 0 and label `ignore_index`;
/// - `add_tag_target`: one tag per token, labels `[N, L]` with `ignore_index` at padding; a
///   sequence given no tags at all (an empty list) is unlabelled (weight 0, all `ignore_index`).
///
/// `lengths()` gives each sample's length after truncation (for
/// `LoaderOptions::bucket_by_length`).
///
/// @tparam T element type of the dataset (`float` or `double`).
///
/// @code
/// using namespace onestone::data;
/// auto conll = read_conll("train.conll");
/// std::vector<std::vector<std::string>> words, tags;
/// for (auto& s : conll) { words.push_back(s.tokens); tags.push_back(s.tags); }
/// auto vocab = Vocabulary::build(words);
/// auto tagset = LabelSet::from_labels(tags);
/// SequenceDatasetBuilder<float> b(encode_sentences(vocab, words),
/// SequenceOptions().max_length(48)); b.add_tag_target("ner", tags, tagset); Dataset<float> ds =
/// b.build(); DataLoader<float> loader(ds, LoaderOptions().batch_size(32)
///     .bucket_by_length(b.lengths()).trim_padding(vocab.pad_id()));
/// @endcode
template <class T>
class SequenceDatasetBuilder {
 public:
  /// Takes the sequences (ids must be >= 0). Throws std::invalid_argument on a negative id,
  /// a negative `max_length`, or (without `truncate`) a sequence longer than `max_length`.
  explicit SequenceDatasetBuilder(std::vector<std::vector<Index>> ids,
                                  const SequenceOptions& options = SequenceOptions())
      : ids_(std::move(ids)), options_(options) {
    if (options_.max_length() < 0)
      throw std::invalid_argument("SequenceDatasetBuilder: max_length must be >= 0, got " +
                                  std::to_string(options_.max_length()));
    Index longest = 0;
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      longest = std::max(longest, static_cast<Index>(ids_[i].size()));
      for (std::size_t j = 0; j < ids_[i].size(); ++j)
        if (ids_[i][j] < 0)
          throw std::invalid_argument("SequenceDatasetBuilder: sequence " + std::to_string(i) +
                                      ", position " + std::to_string(j) + " has id " +
                                      std::to_string(ids_[i][j]) + " (ids must be >= 0)");
    }
    length_ = options_.max_length() > 0 ? options_.max_length() : std::max<Index>(longest, 1);
    lengths_.reserve(ids_.size());
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      const auto n = static_cast<Index>(ids_[i].size());
      if (n > length_ && !options_.truncate())
        throw std::invalid_argument("SequenceDatasetBuilder: sequence " + std::to_string(i) +
                                    " has " + std::to_string(n) + " tokens, more than max_length " +
                                    std::to_string(length_) + " (set truncate(true) to cut it)");
      lengths_.push_back(std::min(n, length_));
    }
  }

  /// Adds a sentence-level class task: `labels[i]` in `[0, num_classes)` or −1 (missing: weight
  /// 0). Throws std::invalid_argument on a wrong count, a duplicate name or a label out of range.
  ///
  /// @code
  /// builder.add_class_target("topic", {0, 2, -1, 1}, 4);
  /// @endcode
  SequenceDatasetBuilder& add_class_target(const std::string& name,
                                           const std::vector<Index>& labels, Index num_classes) {
    check_count(name, labels.size());
    if (num_classes < 1)
      throw std::invalid_argument("SequenceDatasetBuilder: task '" + name +
                                  "' needs num_classes >= 1, got " + std::to_string(num_classes));
    Task t;
    t.name = name;
    t.tags = false;
    t.num_classes = num_classes;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const Index y = labels[i];
      if (y < -1 || y >= num_classes)
        throw std::invalid_argument("SequenceDatasetBuilder: task '" + name + "' sample " +
                                    std::to_string(i) + " has label " + std::to_string(y) +
                                    ", outside [0, " + std::to_string(num_classes) +
                                    ") and not -1 (missing)");
    }
    t.labels.push_back(labels);
    add_task(std::move(t));
    return *this;
  }
  /// As above with label strings mapped through `classes`; an empty string is a missing label.
  /// Throws std::invalid_argument naming the sample on an unknown label.
  ///
  /// @code
  /// auto topics = LabelSet::from_labels(table.labels[0]);
  /// builder.add_class_target("topic", table.labels[0], topics);
  /// @endcode
  SequenceDatasetBuilder& add_class_target(const std::string& name,
                                           const std::vector<std::string>& labels,
                                           const LabelSet& classes) {
    std::vector<Index> ids(labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i)
      ids[i] = labels[i].empty() ? Index(-1) : lookup(classes, labels[i], name, i, -1);
    return add_class_target(name, ids, classes.size());
  }

  /// Adds a token-level tag task: `tags[i]` holds one tag in `[0, num_tags)` per token of
  /// sequence i (cut like the sequence), or is empty (sequence unlabelled: weight 0); a tag
  /// equal to `ignore_index` is allowed (that token is skipped). Throws std::invalid_argument
  /// on a wrong count, a tag list whose length differs from its sequence, or a tag out of range.
  ///
  /// @code
  /// builder.add_tag_target("ner", {{0, 1, 2}, {0, 0}}, 7);
  /// @endcode
  SequenceDatasetBuilder& add_tag_target(const std::string& name,
                                         const std::vector<std::vector<Index>>& tags,
                                         Index num_tags) {
    check_count(name, tags.size());
    if (num_tags < 1)
      throw std::invalid_argument("SequenceDatasetBuilder: task '" + name +
                                  "' needs num_tags >= 1, got " + std::to_string(num_tags));
    for (std::size_t i = 0; i < tags.size(); ++i) {
      if (tags[i].empty()) continue;
      if (tags[i].size() != ids_[i].size())
        throw std::invalid_argument("SequenceDatasetBuilder: task '" + name + "' sample " +
                                    std::to_string(i) + " has " + std::to_string(tags[i].size()) +
                                    " tags for " + std::to_string(ids_[i].size()) + " tokens");
      for (std::size_t j = 0; j < tags[i].size(); ++j) {
        const Index y = tags[i][j];
        if ((y < 0 || y >= num_tags) && y != options_.ignore_index())
          throw std::invalid_argument("SequenceDatasetBuilder: task '" + name + "' sample " +
                                      std::to_string(i) + ", token " + std::to_string(j) +
                                      " has tag " + std::to_string(y) + ", outside [0, " +
                                      std::to_string(num_tags) + ")");
      }
    }
    Task t;
    t.name = name;
    t.tags = true;
    t.num_classes = num_tags;
    t.labels = tags;
    add_task(std::move(t));
    return *this;
  }
  /// As above with tag strings mapped through `tagset` (unknown tag: std::invalid_argument
  /// naming the sample and token).
  ///
  /// @code
  /// builder.add_tag_target("ner", tag_strings, LabelSet::from_labels(tag_strings));
  /// @endcode
  SequenceDatasetBuilder& add_tag_target(const std::string& name,
                                         const std::vector<std::vector<std::string>>& tags,
                                         const LabelSet& tagset) {
    check_count(name, tags.size());
    std::vector<std::vector<Index>> ids(tags.size());
    for (std::size_t i = 0; i < tags.size(); ++i) {
      ids[i].reserve(tags[i].size());
      for (std::size_t j = 0; j < tags[i].size(); ++j)
        ids[i].push_back(lookup(tagset, tags[i][j], name, i, static_cast<Index>(j)));
    }
    return add_tag_target(name, ids, tagset.size());
  }

  /// The dataset: inputs `[N, L]` and the tasks in the order they were added.
  ///
  /// @code
  /// onestone::data::Dataset<float> ds = builder.build();
  /// @endcode
  Dataset<T> build() const {
    const Index N = size(), L = length_;
    Tensor<T> x(Shape{N, L});
    for (Index i = 0; i < N; ++i) {
      const auto& s = ids_[static_cast<std::size_t>(i)];
      const Index n = lengths_[static_cast<std::size_t>(i)];
      for (Index j = 0; j < L; ++j)
        x[i * L + j] = static_cast<T>(j < n ? s[static_cast<std::size_t>(j)] : options_.pad_id());
    }
    Dataset<T> ds(std::move(x));
    for (const Task& t : tasks_) {
      Tensor<T> w = Tensor<T>::ones(Shape{N});
      bool any_missing = false;
      if (!t.tags) {
        Tensor<std::int64_t> y(Shape{N});
        const auto& lab = t.labels[0];
        for (Index i = 0; i < N; ++i) {
          const Index v = lab[static_cast<std::size_t>(i)];
          y[i] = v < 0 ? options_.ignore_index() : v;
          if (v < 0) w[i] = T(0), any_missing = true;
        }
        ds.add_classification(t.name, std::move(y), t.num_classes, options_.ignore_index());
      } else {
        Tensor<std::int64_t> y = Tensor<std::int64_t>::full(
            Shape{N, L}, static_cast<std::int64_t>(options_.ignore_index()));
        for (Index i = 0; i < N; ++i) {
          const auto& tg = t.labels[static_cast<std::size_t>(i)];
          if (tg.empty() && !ids_[static_cast<std::size_t>(i)].empty()) {
            w[i] = T(0), any_missing = true;
            continue;
          }
          const Index n = lengths_[static_cast<std::size_t>(i)];
          for (Index j = 0; j < n; ++j) y[i * L + j] = tg[static_cast<std::size_t>(j)];
        }
        ds.add_classification(t.name, std::move(y), t.num_classes, options_.ignore_index());
      }
      if (any_missing) ds.set_sample_weights(t.name, std::move(w));
    }
    return ds;
  }

  /// Number of sequences N.
  Index size() const { return static_cast<Index>(ids_.size()); }
  /// The padded length L.
  Index max_length() const { return length_; }
  /// Each sequence's length after truncation (`<= max_length()`).
  const std::vector<Index>& lengths() const { return lengths_; }
  const SequenceOptions& options() const { return options_; }

 private:
  struct Task {
    std::string name;
    bool tags = false;
    Index num_classes = 0;
    std::vector<std::vector<Index>> labels;  // class task: one list of N labels
  };

  void check_count(const std::string& name, std::size_t count) const {
    if (static_cast<Index>(count) != size())
      throw std::invalid_argument("SequenceDatasetBuilder: task '" + name + "' has " +
                                  std::to_string(count) + " label entries for " +
                                  std::to_string(size()) + " sequences");
  }
  void add_task(Task t) {
    if (t.name.empty())
      throw std::invalid_argument("SequenceDatasetBuilder: task name must not be empty");
    for (const auto& o : tasks_)
      if (o.name == t.name)
        throw std::invalid_argument("SequenceDatasetBuilder: task '" + t.name + "' already exists");
    tasks_.push_back(std::move(t));
  }
  static Index lookup(const LabelSet& set, const std::string& label, const std::string& task,
                      std::size_t sample, Index token) {
    const Index id = set.find(label);
    if (id >= 0) return id;
    throw std::invalid_argument(
        "SequenceDatasetBuilder: task '" + task + "' sample " + std::to_string(sample) +
        (token >= 0 ? ", token " + std::to_string(token) : std::string()) + ": unknown label '" +
        label + "' (" + std::to_string(set.size()) + " labels known)");
  }

  std::vector<std::vector<Index>> ids_;
  SequenceOptions options_;
  Index length_ = 1;
  std::vector<Index> lengths_;
  std::vector<Task> tasks_;
};

}  // namespace onestone::data
