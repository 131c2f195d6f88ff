#pragma once
/// @file vocabulary.hpp
/// Text to ids: a simple whitespace / punctuation `tokenize`, a token `Vocabulary` (with the
/// specials "<pad>" = 0 and "<unk>" = 1) and a `LabelSet` of label names (class names, BIO
/// tags). Both round-trip through a one-entry-per-line text form, a file (written atomically by
/// `io::save_vocabulary` / `io::save_labels`, read by `load`)
/// and a checkpoint's user metadata.

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/tensor/shape.hpp"

namespace onestone::data {

/// Options of `tokenize`.
///
/// Fields: `lower_case` (default true: ASCII letters A–Z become a–z; other bytes are kept),
/// `split_punctuation` (default true: every ASCII punctuation character — `std::ispunct` in the
/// "C" locale — is a token of its own).
///
/// @code
/// auto opts = onestone::data::TokenizerOptions().lower_case(false);
/// @endcode
struct TokenizerOptions {
  TokenizerOptions& lower_case(bool v) {
    lower_case_ = v;
    return *this;
  }
  TokenizerOptions& split_punctuation(bool v) {
    split_punctuation_ = v;
    return *this;
  }
  bool lower_case() const { return lower_case_; }
  bool split_punctuation() const { return split_punctuation_; }

 private:
  bool lower_case_ = true;
  bool split_punctuation_ = true;
};

namespace detail {
/// ASCII whitespace (space, \t, \n, \v, \f, \r); locale-independent.
inline bool text_is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
/// ASCII punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~); locale-independent.
inline bool text_is_punct(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 33 && u <= 47) || (u >= 58 && u <= 64) || (u >= 91 && u <= 96) ||
         (u >= 123 && u <= 126);
}
/// "name:line: " prefix of reader error messages.
inline std::string text_where(const std::string& source, std::size_t line) {
  return source + ":" + std::to_string(line) + ": ";
}
/// Splits `text` into lines at '\n', dropping one '\r' before it (CRLF files) and a final empty
/// line after a trailing newline. Calls `fn(line_begin, line_length, line_number)` (1-based).
/// With `skip_bom`, a UTF-8 byte order mark at the very start is not part of the first line.
template <class F>
void text_for_each_line(const std::string& text, bool skip_bom, F&& fn) {
  std::size_t pos = 0, line = 0;
  if (skip_bom && text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;
  while (pos < text.size()) {
    ++line;
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::size_t len = end - pos;
    if (len > 0 && text[pos + len - 1] == '\r') --len;
    fn(text.data() + pos, len, line);
    pos = end + 1;
  }
}
/// The whole content of the file at `path`; throws std::runtime_error naming it.
ONESTONE_FUNC std::string text_read_file(const std::string& path, const char* who)
#if ONESTONE_DEFINE_FUNCTIONS
{
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error(std::string(who) + ": cannot open '" + path +
                             "': " + std::strerror(errno));
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error(std::string(who) + ": cannot read '" + path + "'");
  return s;
}
#else
    ;
#endif

/// Shared code of `Vocabulary` and `LabelSet`: an ordered list of unique, non-empty entries
/// without line breaks, with a hash index.
class TextNameTable {
 public:
  Index size() const { return static_cast<Index>(names_.size()); }
  const std::vector<std::string>& names() const { return names_; }
  Index find(const std::string& s) const {
    const auto it = index_.find(s);
    return it == index_.end() ? Index(-1) : it->second;
  }
  const std::string& at(Index i, const char* who) const {
    if (i < 0 || i >= size())
      throw std::out_of_range(std::string(who) + ": id " + std::to_string(i) + " outside [0, " +
                              std::to_string(size()) + ")");
    return names_[static_cast<std::size_t>(i)];
  }
  /// Appends `s` (must be new and valid: checked by the caller).
  Index push(const std::string& s) {
    const Index id = size();
    names_.push_back(s);
    index_.emplace(s, id);
    return id;
  }
  /// Why `s` cannot be an entry ("" when it can).
  static std::string invalid_reason(const std::string& s) {
    if (s.empty()) return "an empty entry";
    if (s.find('\n') != std::string::npos || s.find('\r') != std::string::npos)
      return "an entry containing a line break";
    return "";
  }
  std::string to_string() const {
    std::string out;
    for (const auto& n : names_) out += n + "\n";
    return out;
  }
  /// Parses one entry per line (see `text_for_each_line`); empty lines and duplicates are errors.
  static TextNameTable parse(const std::string& text, const std::string& source, const char* who) {
    TextNameTable t;
    text_for_each_line(text, false, [&](const char* p, std::size_t n, std::size_t line) {
      std::string s(p, n);
      if (s.empty())
        throw std::invalid_argument(std::string(who) + ": " + text_where(source, line) +
                                    "empty line (one entry per line expected)");
      if (s.find('\r') != std::string::npos)
        throw std::invalid_argument(std::string(who) + ": " + text_where(source, line) +
                                    "carriage return inside an entry");
      const Index prev = t.find(s);
      if (prev >= 0)
        throw std::invalid_argument(std::string(who) + ": " + text_where(source, line) + "'" + s +
                                    "' repeats line " + std::to_string(prev + 1));
      t.push(s);
    });
    return t;
  }
  bool operator==(const TextNameTable& o) const { return names_ == o.names_; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, Index> index_;
};
}  // namespace detail

/// Splits `text` into tokens: at ASCII whitespace, and (with `split_punctuation`) around every
/// ASCII punctuation character, which becomes a token of its own; ASCII letters are
/// lower-cased with `lower_case`. Bytes >= 0x80 (UTF-8 multi-byte characters) are word bytes:
/// they stay inside their word and are never changed. No token is empty or holds whitespace.
///
/// @param text    any bytes (UTF-8 expected, not validated)
/// @param options see `TokenizerOptions`
///
/// @code
/// auto t = onestone::data::tokenize("Hello, World! Café");
/// // {"hello", ",", "world", "!", "café"}
/// @endcode
ONESTONE_FUNC std::vector<std::string> tokenize(
    const std::string& text, const TokenizerOptions& options = TokenizerOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) out.push_back(std::move(cur));
    cur.clear();
  };
  for (char c : text) {
    if (detail::text_is_space(c)) {
      flush();
    } else if (options.split_punctuation() && detail::text_is_punct(c)) {
      flush();
      out.emplace_back(1, c);
    } else {
      if (options.lower_case() && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      cur.push_back(c);
    }
  }
  flush();
  return out;
}
#else
    ;
#endif

/// Options of `Vocabulary::build`.
///
/// Fields: `max_size` (default 0 = no limit; otherwise the largest vocabulary size, the two
/// specials included, so at least 2), `min_freq` (default 1: tokens seen fewer times are left
/// out and map to "<unk>").
///
/// @code
/// auto opts = onestone::data::VocabularyOptions().max_size(20000).min_freq(2);
/// @endcode
struct VocabularyOptions {
  VocabularyOptions& max_size(Index v) {
    max_size_ = v;
    return *this;
  }
  VocabularyOptions& min_freq(Index v) {
    min_freq_ = v;
    return *this;
  }
  Index max_size() const { return max_size_; }
  Index min_freq() const { return min_freq_; }

 private:
  Index max_size_ = 0;
  Index min_freq_ = 1;
};

/// A token vocabulary: token ↔ id, with "<pad>" = 0 and "<unk>" = 1 always present.
///
/// Ids after the specials follow descending frequency in the sentences given to `build`, ties
/// in byte order of the token text, so the same corpus always gives the same ids. The text form
/// (`to_string`) is one token per line in id order, starting with "<pad>" and "<unk>"; tokens
/// are never empty and never hold a line break (`build` refuses such tokens), so the form is
/// unambiguous.
///
/// @code
/// using onestone::data::Vocabulary;
/// std::vector<std::vector<std::string>> corpus = {{"the", "cat"}, {"the", "dog"}};
/// Vocabulary v = Vocabulary::build(corpus, onestone::data::VocabularyOptions());
/// // ids: <pad> 0, <unk> 1, the 2, cat 3, dog 4
/// auto ids = v.encode({"the", "cow"});   // {2, 1}
/// onestone::io::save_vocabulary(v, "vocab.txt");   // io/vocabulary_file.hpp
/// Vocabulary w = Vocabulary::load("vocab.txt");
/// @endcode
class Vocabulary {
 public:
  /// Token text of the padding special (id 0).
  static const std::string& pad_token() {
    static const std::string s = "<pad>";
    return s;
  }
  /// Token text of the unknown-token special (id 1).
  static const std::string& unk_token() {
    static const std::string s = "<unk>";
    return s;
  }

  /// A vocabulary holding only the two specials.
  Vocabulary() {
    table_.push(pad_token());
    table_.push(unk_token());
  }

  /// Builds a vocabulary from tokenized sentences (see the class comment for the order).
  /// Occurrences of "<pad>" / "<unk>" in the corpus are not counted.
  ///
  /// @param sentences tokenized text, e.g. from `tokenize` or `read_conll`
  /// @param options   `max_size` (>= 2 or 0 = no limit) and `min_freq` (>= 1)
  /// @throws std::invalid_argument on bad options, or on an empty token or one containing a
  ///         line break (naming the sentence and position)
  ///
  /// @code
  /// auto v = onestone::data::Vocabulary::build(sentences,
  ///                                             onestone::data::VocabularyOptions().min_freq(2));
  /// @endcode
  static Vocabulary build(const std::vector<std::vector<std::string>>& sentences,
                          const VocabularyOptions& options = VocabularyOptions()) {
    if (options.max_size() != 0 && options.max_size() < 2)
      throw std::invalid_argument(
          "Vocabulary::build: max_size must be 0 (no limit) or >= 2 "
          "(the specials count), got " +
          std::to_string(options.max_size()));
    if (options.min_freq() < 1)
      throw std::invalid_argument("Vocabulary::build: min_freq must be >= 1, got " +
                                  std::to_string(options.min_freq()));
    std::unordered_map<std::string, Index> counts;
    for (std::size_t s = 0; s < sentences.size(); ++s)
      for (std::size_t i = 0; i < sentences[s].size(); ++i) {
        const std::string& tok = sentences[s][i];
        const std::string why = detail::TextNameTable::invalid_reason(tok);
        if (!why.empty())
          throw std::invalid_argument("Vocabulary::build: sentence " + std::to_string(s) +
                                      ", token " + std::to_string(i) + " is " + why);
        if (tok == pad_token() || tok == unk_token()) continue;
        ++counts[tok];
      }
    std::vector<std::pair<std::string, Index>> items;
    items.reserve(counts.size());
    for (auto& kv : counts)
      if (kv.second >= options.min_freq()) items.emplace_back(kv.first, kv.second);
    std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    Vocabulary v;
    for (const auto& it : items) {
      if (options.max_size() != 0 && v.size() >= options.max_size()) break;
      v.table_.push(it.first);
    }
    return v;
  }

  /// A vocabulary with the given tokens after the specials, in that order (e.g. a pretrained
  /// model's list). "<pad>" / "<unk>" in `tokens` are skipped.
  /// @throws std::invalid_argument on an empty token, a line break or a duplicate
  ///
  /// @code
  /// auto v = onestone::data::Vocabulary::from_tokens({"the", "cat"});   // the = 2, cat = 3
  /// @endcode
  static Vocabulary from_tokens(const std::vector<std::string>& tokens) {
    Vocabulary v;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const std::string& t = tokens[i];
      if (t == pad_token() || t == unk_token()) continue;
      const std::string why = detail::TextNameTable::invalid_reason(t);
      if (!why.empty())
        throw std::invalid_argument("Vocabulary::from_tokens: token " + std::to_string(i) + " is " +
                                    why);
      if (v.table_.find(t) >= 0)
        throw std::invalid_argument("Vocabulary::from_tokens: token " + std::to_string(i) + " ('" +
                                    t + "') is a duplicate");
      v.table_.push(t);
    }
    return v;
  }

  /// Id of `token`, or `unk_id()` (1) when it is not in the vocabulary.
  Index id(const std::string& token) const {
    const Index i = table_.find(token);
    return i < 0 ? unk_id() : i;
  }
  /// True when `token` has an id of its own.
  bool contains(const std::string& token) const { return table_.find(token) >= 0; }
  /// The token of id `i`; throws std::out_of_range outside `[0, size())`.
  const std::string& token(Index i) const { return table_.at(i, "Vocabulary::token"); }
  /// Number of tokens, the specials included.
  Index size() const { return table_.size(); }
  /// Id of "<pad>" (0).
  Index pad_id() const { return 0; }
  /// Id of "<unk>" (1).
  Index unk_id() const { return 1; }
  /// All tokens in id order.
  const std::vector<std::string>& tokens() const { return table_.names(); }

  /// Ids of `tokens` (unknown tokens map to `unk_id()`).
  std::vector<Index> encode(const std::vector<std::string>& tokens) const {
    std::vector<Index> ids;
    ids.reserve(tokens.size());
    for (const auto& t : tokens) ids.push_back(id(t));
    return ids;
  }
  /// Tokens of `ids`; throws std::out_of_range on an id outside the vocabulary.
  std::vector<std::string> decode(const std::vector<Index>& ids) const {
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (Index i : ids) out.push_back(token(i));
    return out;
  }

  /// The text form: one token per line in id order, each line ending with '\n'.
  std::string to_string() const { return table_.to_string(); }

  /// Parses the text form of `to_string` (a final newline and CRLF line ends are accepted).
  ///
  /// @param text        the text form
  /// @param source_name a file name or description used in error messages
  /// @throws std::invalid_argument "source:line: ..." when line 1 is not "<pad>", line 2 not
  ///         "<unk>", a line is empty or a token repeats an earlier line
  ///
  /// @code
  /// auto v = onestone::data::Vocabulary::from_string("<pad>\n<unk>\nthe\n", "inline");
  /// @endcode
  static Vocabulary from_string(const std::string& text, const std::string& source_name) {
    detail::TextNameTable t =
        detail::TextNameTable::parse(text, source_name, "Vocabulary::from_string");
    for (Index i = 0; i < 2; ++i) {
      const std::string& want = i == 0 ? pad_token() : unk_token();
      if (t.size() <= i || t.names()[static_cast<std::size_t>(i)] != want)
        throw std::invalid_argument(
            "Vocabulary::from_string: " +
            detail::text_where(source_name, static_cast<std::size_t>(i + 1)) + "expected '" + want +
            "'" +
            (t.size() <= i ? std::string(", found the end of the text")
                           : ", found '" + t.names()[static_cast<std::size_t>(i)] + "'"));
    }
    Vocabulary v;
    v.table_ = std::move(t);
    return v;
  }

  /// Reads a file written by `io::save_vocabulary` (or any one-token-per-line file); throws
  /// std::runtime_error when it cannot be read and
  /// std::invalid_argument "path:line: ..." when its content is invalid.
  ///
  /// @code
  /// auto vocab = onestone::data::Vocabulary::load("runs/vocab.txt");
  /// @endcode
  static Vocabulary load(const std::string& path) {
    return from_string(detail::text_read_file(path, "Vocabulary::load"), path);
  }

  /// Stores the text form in `metadata[key]` (e.g. a checkpoint's `metadata`).
  ///
  /// @code
  /// onestone::io::TrainingState<float> st;  /* ... */  vocab.to_metadata(st.metadata);
  /// @endcode
  void to_metadata(std::map<std::string, std::string>& metadata,
                   const std::string& key = "vocabulary") const {
    metadata[key] = to_string();
  }
  /// Reads a vocabulary stored by `to_metadata`; throws std::invalid_argument when `key` is
  /// missing or its text is invalid (the message names the key and line).
  ///
  /// @code
  /// auto vocab = onestone::data::Vocabulary::from_metadata(st.metadata);
  /// @endcode
  static Vocabulary from_metadata(const std::map<std::string, std::string>& metadata,
                                  const std::string& key = "vocabulary") {
    const auto it = metadata.find(key);
    if (it == metadata.end())
      throw std::invalid_argument("Vocabulary::from_metadata: no metadata entry \"" + key + "\"");
    return from_string(it->second, "metadata \"" + key + "\"");
  }

  bool operator==(const Vocabulary& o) const { return table_ == o.table_; }
  bool operator!=(const Vocabulary& o) const { return !(*this == o); }

 private:
  detail::TextNameTable table_;
};

/// In which order `LabelSet::from_labels` numbers the labels.
///
/// @code
/// auto tags = onestone::data::LabelSet::from_labels(all_tags, onestone::data::LabelOrder::Sorted);
/// @endcode
enum class LabelOrder { FirstSeen, Sorted };

/// Label names (class names, BIO tags) ↔ ids 0, 1, 2, ... Unlike a `Vocabulary` there is no
/// special entry and an unknown label is an error, not "<unk>". The empty string is never a
/// label: readers use it for a missing label (see `read_tsv`).
///
/// The text form is one label per line in id order.
///
/// @code
/// using onestone::data::LabelSet;
/// LabelSet tags = LabelSet::from_labels({"O", "B-PER", "I-PER", "O"});   // O 0, B-PER 1, I-PER 2
/// onestone::Index b = tags.id("B-PER");                                     // 1
/// const std::string& name = tags.name(2);                                   // "I-PER"
/// @endcode
class LabelSet {
 public:
  /// An empty set.
  LabelSet() = default;
  /// The labels `names` with ids in the given order; throws std::invalid_argument on an empty
  /// name, a line break or a duplicate.
  explicit LabelSet(const std::vector<std::string>& names) {
    for (const auto& n : names) {
      if (contains(n)) throw std::invalid_argument("LabelSet: duplicate label '" + n + "'");
      add(n);
    }
  }

  /// The distinct non-empty strings of `labels` (empty strings = missing labels are skipped),
  /// numbered in order of first appearance or in byte order (`LabelOrder::Sorted`).
  /// @throws std::invalid_argument on a label containing a line break
  static LabelSet from_labels(const std::vector<std::string>& labels,
                              LabelOrder order = LabelOrder::FirstSeen) {
    std::vector<std::string> seen;
    LabelSet tmp;
    for (const auto& l : labels)
      if (!l.empty() && !tmp.contains(l)) {
        tmp.add(l);
        seen.push_back(l);
      }
    if (order == LabelOrder::FirstSeen) return tmp;
    std::sort(seen.begin(), seen.end());
    return LabelSet(seen);
  }
  /// As above for nested lists (e.g. the tag sequences of `read_conll`).
  static LabelSet from_labels(const std::vector<std::vector<std::string>>& labels,
                              LabelOrder order = LabelOrder::FirstSeen) {
    std::vector<std::string> flat;
    for (const auto& s : labels) flat.insert(flat.end(), s.begin(), s.end());
    return from_labels(flat, order);
  }

  /// Adds `label` if new and returns its id; throws std::invalid_argument on an empty label or
  /// one with a line break.
  Index add(const std::string& label) {
    const Index i = table_.find(label);
    if (i >= 0) return i;
    const std::string why = detail::TextNameTable::invalid_reason(label);
    if (!why.empty()) throw std::invalid_argument("LabelSet::add: label is " + why);
    return table_.push(label);
  }
  /// Id of `label`; throws std::invalid_argument naming it and the known labels when unknown.
  Index id(const std::string& label) const {
    const Index i = table_.find(label);
    if (i >= 0) return i;
    std::string known;
    for (const auto& n : table_.names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("LabelSet::id: unknown label '" + label + "' (labels: " +
                                (known.empty() ? std::string("none") : known) + ")");
  }
  /// Id of `label`, or -1 when unknown.
  Index find(const std::string& label) const { return table_.find(label); }
  /// True when `label` is in the set.
  bool contains(const std::string& label) const { return table_.find(label) >= 0; }
  /// Name of id `i`; throws std::out_of_range outside `[0, size())`.
  const std::string& name(Index i) const { return table_.at(i, "LabelSet::name"); }
  /// Number of labels.
  Index size() const { return table_.size(); }
  /// All names in id order.
  const std::vector<std::string>& names() const { return table_.names(); }
  /// Ids of `labels` (each must be known; see `id`).
  std::vector<Index> encode(const std::vector<std::string>& labels) const {
    std::vector<Index> ids;
    ids.reserve(labels.size());
    for (const auto& l : labels) ids.push_back(id(l));
    return ids;
  }

  /// The text form: one label per line in id order, each line ending with '\n'.
  std::string to_string() const { return table_.to_string(); }
  /// Parses the text form; throws std::invalid_argument "source:line: ..." on an empty line or
  /// a repeated label.
  ///
  /// @code
  /// auto tags = onestone::data::LabelSet::from_string("O\nB-PER\nI-PER\n", "tags.txt");
  /// @endcode
  static LabelSet from_string(const std::string& text, const std::string& source_name) {
    LabelSet s;
    s.table_ = detail::TextNameTable::parse(text, source_name, "LabelSet::from_string");
    return s;
  }
  /// Reads a file written by `io::save_labels` (errors as in `from_string`, naming the path).
  static LabelSet load(const std::string& path) {
    return from_string(detail::text_read_file(path, "LabelSet::load"), path);
  }
  /// Stores the text form in `metadata[key]`.
  ///
  /// @code
  /// tags.to_metadata(state.metadata, "ner_tags");
  /// @endcode
  void to_metadata(std::map<std::string, std::string>& metadata,
                   const std::string& key = "labels") const {
    metadata[key] = to_string();
  }
  /// Reads a set stored by `to_metadata`; throws std::invalid_argument when `key` is missing
  /// or invalid.
  static LabelSet from_metadata(const std::map<std::string, std::string>& metadata,
                                const std::string& key = "labels") {
    const auto it = metadata.find(key);
    if (it == metadata.end())
      throw std::invalid_argument("LabelSet::from_metadata: no metadata entry \"" + key + "\"");
    return from_string(it->second, "metadata \"" + key + "\"");
  }

  bool operator==(const LabelSet& o) const { return table_ == o.table_; }
  bool operator!=(const LabelSet& o) const { return !(*this == o); }

 private:
  detail::TextNameTable table_;
};

}  // namespace onestone::data
