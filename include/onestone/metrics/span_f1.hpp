#pragma once
/// @file span_f1.hpp
/// Entity-level (chunk) precision, recall and F1 of tag sequences, counted as the CoNLL
/// `conlleval` script counts them: a chunk is a type plus exact boundaries, and only chunks that
/// match in both count as correct.

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/metrics/metric.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::metrics {

/// One chunk of a tag sequence: its `type` ("PER"), and tokens `[begin, end)`.
///
/// @code
/// onestone::metrics::Span s{"PER", 0, 2};   // tokens 0 and 1
/// @endcode
struct Span {
  std::string type;
  Index begin = 0;
  Index end = 0;
  bool operator==(const Span& o) const {
    return begin == o.begin && end == o.end && type == o.type;
  }
  bool operator!=(const Span& o) const { return !(*this == o); }
  bool operator<(const Span& o) const {
    if (begin != o.begin) return begin < o.begin;
    if (end != o.end) return end < o.end;
    return type < o.type;
  }
};

namespace detail {
/// Splits a tag into conlleval's (prefix, type): "B-PER" → ("B", "PER"), "O" → ("O", ""),
/// a tag without a prefix, e.g. "PER", → ("I", "PER") (IO tagging).
inline std::pair<char, std::string> split_tag(const std::string& tag) {
  if (tag == "O" || tag.empty()) return {'O', ""};
  if (tag.size() >= 2 && tag[1] == '-' &&
      (tag[0] == 'B' || tag[0] == 'I' || tag[0] == 'E' || tag[0] == 'S'))
    return {tag[0], tag.substr(2)};
  return {'I', tag};
}
// conlleval's endOfChunk: does a chunk end between (prev_tag, prev_type) and (tag, type)?
inline bool chunk_ends(char pt, const std::string& ptype, char t, const std::string& type) {
  if (pt == 'O') return false;
  if (pt == 'E' || pt == 'S') return true;
  if (t == 'B' || t == 'S' || t == 'O') return true;
  return ptype != type;
}
// conlleval's startOfChunk.
inline bool chunk_starts(char pt, const std::string& ptype, char t, const std::string& type) {
  if (t == 'O') return false;
  if (t == 'B' || t == 'S') return true;
  if (pt == 'O' || pt == 'E' || pt == 'S') return true;  // I or E after no open chunk
  return ptype != type;
}
}  // namespace detail

/// The chunks of a tag sequence, in order, read as conlleval reads them: "B-X" starts a chunk
/// of type X; "I-X" continues a chunk of type X and otherwise (after "O", after a chunk of
/// another type, or after an "E-"/"S-" tag) starts a new one; "O" is outside. IOBES tags ("E-X"
/// ends a chunk, "S-X" is a one-token chunk) and prefix-less tags ("PER", read as "I-PER") are
/// accepted too; "" is read as "O".
///
/// @code
/// auto s = onestone::metrics::extract_spans({"B-PER", "I-PER", "O", "I-LOC", "I-ORG"});
/// // {{"PER", 0, 2}, {"LOC", 3, 4}, {"ORG", 4, 5}}
/// @endcode
inline std::vector<Span> extract_spans(const std::vector<std::string>& tags) {
  std::vector<Span> out;
  char prev = 'O';
  std::string prev_type;
  Index start = -1;
  const auto n = static_cast<Index>(tags.size());
  for (Index i = 0; i <= n; ++i) {
    char t = 'O';
    std::string type;
    if (i < n) std::tie(t, type) = detail::split_tag(tags[static_cast<std::size_t>(i)]);
    if (start >= 0 && detail::chunk_ends(prev, prev_type, t, type)) {
      out.push_back(Span{prev_type, start, i});
      start = -1;
    }
    if (detail::chunk_starts(prev, prev_type, t, type)) start = i;
    prev = t;
    prev_type = std::move(type);
  }
  return out;
}

/// Chunk counts of an evaluation: `correct` (predicted chunks equal to a gold chunk), `predicted`
/// and `gold` chunks, with precision = correct / predicted, recall = correct / gold, F1 = their
/// harmonic mean (each 0 when its denominator is 0).
///
/// @code
/// onestone::metrics::SpanCounts c;  c.add(gold_spans, predicted_spans);  double f = c.f1();
/// @endcode
struct SpanCounts {
  std::int64_t correct = 0, predicted = 0, gold = 0;
  /// Adds one sentence's chunks.
  void add(const std::vector<Span>& gold_spans, const std::vector<Span>& predicted_spans) {
    gold += static_cast<std::int64_t>(gold_spans.size());
    predicted += static_cast<std::int64_t>(predicted_spans.size());
    // Both lists are sorted by begin and hold disjoint chunks: a merge finds the equal ones.
    std::size_t a = 0, b = 0;
    while (a < gold_spans.size() && b < predicted_spans.size()) {
      if (gold_spans[a] == predicted_spans[b]) {
        ++correct, ++a, ++b;
      } else if (predicted_spans[b] < gold_spans[a]) {
        ++b;
      } else {
        ++a;
      }
    }
  }
  double precision() const { return predicted ? double(correct) / double(predicted) : 0.0; }
  double recall() const { return gold ? double(correct) / double(gold) : 0.0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
};

/// Entity-level precision, recall and F1 (conlleval's counting, see `extract_spans`) of tag
/// scores `[N, C, L]` (class axis 1, as the cross-entropy loss takes them; the prediction is
/// the argmax over C) against tag labels `[N, L]`. Positions labelled `ignore_index` (padding)
/// are left out of the sequence, and sentences of weight 0 are skipped. values():
/// "span_f1", "span_precision", "span_recall" (fractions in [0, 1], higher is better).
///
/// @tparam T element type of the scores.
///
/// @code
/// std::vector<std::string> tags = {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"};
/// TaskOptions<float>("ner").loss(LossKind::CrossEntropy)
///     .metric(std::make_shared<onestone::metrics::SpanF1<float>>(tags));
/// @endcode
template <class T>
class SpanF1 : public Metric<T> {
 public:
  /// `tag_names[c]` is the tag of class c ("O", "B-PER", ...). Throws std::invalid_argument
  /// when empty.
  explicit SpanF1(std::vector<std::string> tag_names, Index ignore_index = -100)
      : names_(std::move(tag_names)), ignore_(ignore_index) {
    if (names_.empty()) throw std::invalid_argument("SpanF1: no tag names");
  }
  std::string name() const override { return "span_f1"; }
  void reset() override {
    total_ = SpanCounts();
    per_type_.clear();
  }
  /// Adds a batch; throws std::invalid_argument on shapes other than `[N, C, L]` with `[N, L]`,
  /// C different from the number of tag names, or a label outside `[0, C)` (and not ignored).
  void update(const Tensor<T>& p, const data::Target<T>& t) override {
    const Shape& s = p.shape();
    const Shape& ls = t.labels.shape();
    if (s.rank() != 3 || ls.rank() != 2 || ls[0] != s[0] || ls[1] != s[2])
      throw std::invalid_argument("SpanF1: " + detail::shape_pair(s, ls) +
                                  " do not match ([N, C, L] scores with [N, L] tags)");
    const Index N = s[0], C = s[1], L = s[2];
    if (C != static_cast<Index>(names_.size()))
      throw std::invalid_argument("SpanF1: scores have " + std::to_string(C) + " classes for " +
                                  std::to_string(names_.size()) + " tag names");
    for (Index n = 0; n < N; ++n) {
      if (!t.is_labelled(n)) continue;
      gold_.clear();
      pred_.clear();
      const T* base = p.data() + n * C * L;
      for (Index i = 0; i < L; ++i) {
        const std::int64_t y = t.labels[n * L + i];
        if (y == ignore_) continue;
        if (y < 0 || y >= C)
          throw std::invalid_argument("SpanF1: tag label " + std::to_string(y) + " at sample " +
                                      std::to_string(n) + ", position " + std::to_string(i) +
                                      " is outside [0, " + std::to_string(C) + ")");
        Index best = 0;
        for (Index c = 1; c < C; ++c)
          if (base[c * L + i] > base[best * L + i]) best = c;
        gold_.push_back(names_[static_cast<std::size_t>(y)]);
        pred_.push_back(names_[static_cast<std::size_t>(best)]);
      }
      update_tags(gold_, pred_);
    }
  }
  /// Adds one sentence given as tag strings (gold and predicted, equal lengths).
  ///
  /// @code
  /// metric.update_tags({"B-PER", "I-PER", "O"}, {"B-PER", "O", "O"});
  /// @endcode
  void update_tags(const std::vector<std::string>& gold, const std::vector<std::string>& pred) {
    if (gold.size() != pred.size())
      throw std::invalid_argument("SpanF1::update_tags: " + std::to_string(gold.size()) +
                                  " gold tags and " + std::to_string(pred.size()) + " predicted");
    const auto g = extract_spans(gold), q = extract_spans(pred);
    total_.add(g, q);
    for (const auto& sp : g) ++per_type_[sp.type].gold;
    for (const auto& sp : q) ++per_type_[sp.type].predicted;
    std::size_t a = 0, b = 0;
    while (a < g.size() && b < q.size()) {
      if (g[a] == q[b]) {
        ++per_type_[g[a].type].correct, ++a, ++b;
      } else if (q[b] < g[a]) {
        ++b;
      } else {
        ++a;
      }
    }
  }
  void values(std::vector<MetricValue>& out) const override {
    out.push_back({"span_f1", total_.f1(), true});
    out.push_back({"span_precision", total_.precision(), true});
    out.push_back({"span_recall", total_.recall(), true});
  }
  std::shared_ptr<Metric<T>> clone() const override {
    return std::make_shared<SpanF1>(names_, ignore_);
  }
  /// Counts over every type.
  const SpanCounts& counts() const { return total_; }
  /// Counts per chunk type ("PER", ...).
  const std::map<std::string, SpanCounts>& per_type() const { return per_type_; }
  const std::vector<std::string>& tag_names() const { return names_; }

 private:
  std::vector<std::string> names_;
  Index ignore_;
  SpanCounts total_;
  std::map<std::string, SpanCounts> per_type_;
  std::vector<std::string> gold_, pred_;
};

}  // namespace onestone::metrics
