#pragma once
/// @file fuzz_text_properties.hpp
/// The checks of the libFuzzer target fuzz_text: the text readers (onestone/data/text_readers.hpp)
/// and the text forms of Vocabulary / LabelSet (onestone/data/vocabulary.hpp). The first byte
/// selects the parser (byte % 5) and its options (byte / 5); the rest is the text.
///
/// Properties (a violation throws PropertyViolation):
/// - parse_conll / parse_tsv / from_string return or throw std::invalid_argument, nothing else;
/// - CoNLL: no empty sentence, as many tags as tokens (none without tags), no empty token, no
///   token or tag holding a line break (nor whitespace, with whitespace-separated columns); the
///   tokens and tags always make a Vocabulary / LabelSet that round-trips through its text form;
/// - TSV: every label column has one entry per text, no field holds a line break; the label
///   columns always make a LabelSet that round-trips;
/// - Vocabulary / LabelSet: an accepted text re-serializes to a text that parses to the same
///   object; a Vocabulary starts with "<pad>", "<unk>";
/// - tokenize: no empty token, no whitespace, punctuation alone; Vocabulary::build accepts it.
/// Shared by fuzz_text.cpp and tests/io/test_fuzz_regressions.cpp; a violation throws
/// PropertyViolation.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz_properties.hpp"
#include "onestone/data/text_readers.hpp"
#include "onestone/data/vocabulary.hpp"

namespace onestone_fuzz {
namespace text_detail {

using namespace onestone::data;

using namespace onestone::data;

[[noreturn]] inline void violated(const char* what) {
  throw PropertyViolation(std::string("fuzz_text: property violated: ") + what);
}
inline void expect(bool ok, const char* what) {
  if (!ok) violated(what);
}

inline bool has_line_break(const std::string& s) {
  return s.find('\n') != std::string::npos || s.find('\r') != std::string::npos;
}
inline bool has_space(const std::string& s) {
  for (char c : s)
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return true;
  return false;
}

inline void vocabulary_round_trip(const Vocabulary& v) {
  expect(v.size() >= 2 && v.token(0) == "<pad>" && v.token(1) == "<unk>", "vocabulary specials");
  const Vocabulary back = Vocabulary::from_string(v.to_string(), "round-trip");
  expect(back == v, "vocabulary round trip");
  for (onestone::Index i = 0; i < v.size(); ++i) expect(v.id(v.token(i)) == i, "vocabulary ids");
}

inline void labels_round_trip(const LabelSet& s) {
  const LabelSet back = LabelSet::from_string(s.to_string(), "round-trip");
  expect(back == s, "label set round trip");
  for (onestone::Index i = 0; i < s.size(); ++i) expect(s.id(s.name(i)) == i, "label ids");
}

inline void check_conll(const std::string& text, unsigned opt) {
  ConllOptions o;
  o.tab_separated(opt & 1).skip_comments(opt & 2).tags(!(opt & 4));
  if (opt & 8) o.tag_column(1);
  if (opt & 16) o.token_column(1).tag_column(opt & 8 ? 2 : -1);
  std::vector<ConllSentence> sents;
  try {
    sents = parse_conll(text, "fuzz-input", o);
  } catch (const std::invalid_argument&) {
    return;
  }
  std::vector<std::vector<std::string>> tokens, tags;
  for (const auto& s : sents) {
    expect(!s.tokens.empty(), "conll: empty sentence");
    expect(o.tags() ? s.tags.size() == s.tokens.size() : s.tags.empty(), "conll: tag count");
    expect(s.line >= 1, "conll: line number");
    for (const auto& vec : {s.tokens, s.tags})
      for (const auto& t : vec) {
        expect(!t.empty(), "conll: empty field");
        expect(!has_line_break(t), "conll: line break in a field");
        if (!o.tab_separated()) expect(!has_space(t), "conll: whitespace in a field");
      }
    tokens.push_back(s.tokens);
    tags.push_back(s.tags);
  }
  vocabulary_round_trip(Vocabulary::build(tokens));
  labels_round_trip(LabelSet::from_labels(tags));
  labels_round_trip(LabelSet::from_labels(tags, LabelOrder::Sorted));
}

inline void check_tsv(const std::string& text, unsigned opt) {
  TsvOptions o;
  o.header(opt & 1);
  if (opt & 2) o.delimiter(',');
  if (opt & 4) o.text_column(1);
  if ((opt & 8) && (opt & 1)) o.text_column("text");
  if (opt & 16) o.label_columns({0, 2});
  TsvTable t;
  try {
    t = parse_tsv(text, "fuzz-input", o);
  } catch (const std::invalid_argument&) {
    return;
  }
  expect(t.lines.size() == t.texts.size(), "tsv: line count");
  expect(t.labels.size() == t.label_names.size(), "tsv: label column count");
  for (const auto& f : t.texts) expect(!has_line_break(f), "tsv: line break in a text");
  for (const auto& col : t.labels) {
    expect(col.size() == t.texts.size(), "tsv: label count");
    for (const auto& f : col) expect(!has_line_break(f), "tsv: line break in a label");
    labels_round_trip(LabelSet::from_labels(col));
  }
  for (std::size_t i = 1; i < t.lines.size(); ++i)
    expect(t.lines[i] > t.lines[i - 1], "tsv: line numbers increase");
}

inline void check_vocabulary(const std::string& text) {
  Vocabulary v;
  try {
    v = Vocabulary::from_string(text, "fuzz-input");
  } catch (const std::invalid_argument&) {
    return;
  }
  vocabulary_round_trip(v);
}

inline void check_labels(const std::string& text) {
  LabelSet s;
  try {
    s = LabelSet::from_string(text, "fuzz-input");
  } catch (const std::invalid_argument&) {
    return;
  }
  for (const auto& n : s.names()) expect(!n.empty() && !has_line_break(n), "labels: bad name");
  labels_round_trip(s);
}

inline void check_tokenize(const std::string& text, unsigned opt) {
  const auto toks =
      tokenize(text, TokenizerOptions().lower_case(opt & 1).split_punctuation(opt & 2));
  for (const auto& t : toks) {
    expect(!t.empty() && !has_space(t), "tokenize: empty token or whitespace");
    if (opt & 2)
      for (char c : t)
        if (detail::text_is_punct(c)) expect(t.size() == 1, "tokenize: punctuation in a word");
  }
  vocabulary_round_trip(Vocabulary::build({toks}));
}

}  // namespace text_detail

/// Runs the text readers' checks on one fuzz input.
inline void check_text(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return;
  const unsigned mode = data[0] % 5, opt = data[0] / 5;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (mode) {
    case 0:
      text_detail::check_conll(text, opt);
      break;
    case 1:
      text_detail::check_tsv(text, opt);
      break;
    case 2:
      text_detail::check_vocabulary(text);
      break;
    case 3:
      text_detail::check_labels(text);
      break;
    default:
      text_detail::check_tokenize(text, opt);
      break;
  }
  return;
}

}  // namespace onestone_fuzz
