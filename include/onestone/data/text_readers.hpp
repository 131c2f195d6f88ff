#pragma once
/// @file text_readers.hpp
/// Readers of labelled text: CoNLL-style token-per-line files (`read_conll`, e.g. NER with BIO
/// tags) and tab-separated classification tables with one or more label columns (`read_tsv`).
/// Every error names the file (or source name) and the line.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/vocabulary.hpp"
#include "onestone/tensor/shape.hpp"

namespace onestone::data {

/// Options of `read_conll` / `parse_conll`.
///
/// Fields:
/// - `token_column` (default 0): column of the token (0-based);
/// - `tag_column` (default -1): column of the tag; a negative value counts from the end
///   (-1 = the last column, -2 the one before) and must then lie after the token column (so
///   the defaults need at least 2 columns);
/// - `tags` (default true): false reads tokens only (the tag lists stay empty);
/// - `tab_separated` (default false): columns are separated by runs of spaces and tabs; with
///   true by single tabs only, so a column may hold spaces (but no column may be empty);
/// - `skip_comments` (default true): a line starting with '#' *between* sentences (not inside
///   one) is a comment, as in CoNLL-U; inside a sentence it is a token line (the token "#").
///
/// @code
/// auto opts = onestone::data::ConllOptions().token_column(1).tag_column(3);
/// @endcode
struct ConllOptions {
  ConllOptions& token_column(Index v) {
    token_column_ = v;
    return *this;
  }
  ConllOptions& tag_column(Index v) {
    tag_column_ = v;
    return *this;
  }
  ConllOptions& tags(bool v) {
    tags_ = v;
    return *this;
  }
  ConllOptions& tab_separated(bool v) {
    tab_separated_ = v;
    return *this;
  }
  ConllOptions& skip_comments(bool v) {
    skip_comments_ = v;
    return *this;
  }
  Index token_column() const { return token_column_; }
  Index tag_column() const { return tag_column_; }
  bool tags() const { return tags_; }
  bool tab_separated() const { return tab_separated_; }
  bool skip_comments() const { return skip_comments_; }

 private:
  Index token_column_ = 0;
  Index tag_column_ = -1;
  bool tags_ = true;
  bool tab_separated_ = false;
  bool skip_comments_ = true;
};

/// One sentence of a CoNLL file: its `tokens`, their `tags` (free strings, same length as
/// `tokens`, or empty when reading without tags) and the 1-based `line` of its first token.
///
/// @code
/// for (const auto& s : sentences) std::cout << s.tokens.size() << " tokens\n";
/// @endcode
struct ConllSentence {
  std::vector<std::string> tokens;
  std::vector<std::string> tags;
  std::size_t line = 0;
};

namespace detail {
/// Splits a line into columns: runs of spaces / tabs, or single tabs.
inline void text_split_columns(const char* p, std::size_t n, bool tabs_only,
                               std::vector<std::string>& out) {
  out.clear();
  if (tabs_only) {
    std::size_t start = 0;
    for (std::size_t i = 0; i <= n; ++i)
      if (i == n || p[i] == '\t') {
        out.emplace_back(p + start, i - start);
        start = i + 1;
      }
    return;
  }
  std::size_t i = 0;
  while (i < n) {
    while (i < n && text_is_space(p[i])) ++i;
    const std::size_t start = i;
    while (i < n && !text_is_space(p[i])) ++i;
    if (i > start) out.emplace_back(p + start, i - start);
  }
}
/// Throws std::invalid_argument "source:line: ..." when a line holds a carriage return (a
/// corrupt line end: a trailing CR of a CRLF line end is removed before).
inline void text_check_no_cr(const char* p, std::size_t n, const char* who,
                             const std::string& source, std::size_t line) {
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] == '\r')
      throw std::invalid_argument(std::string(who) + ": " + text_where(source, line) +
                                  "carriage return inside the line (byte " + std::to_string(i + 1) +
                                  ")");
}
/// True when the line holds only spaces / tabs (or nothing).
inline bool text_is_blank(const char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!text_is_space(p[i])) return false;
  return true;
}
}  // namespace detail

/// Parses CoNLL text: one token per line with its columns, a blank line (empty or only
/// spaces / tabs) between sentences, lines starting with "-DOCSTART-" skipped (they also end a
/// sentence), '#' comment lines between sentences skipped (see `ConllOptions`). CRLF line ends
/// and a leading UTF-8 byte order mark are accepted. Tags are free strings: BIO validity is
/// not checked here (see `extract_spans` for how chunks are read).
///
/// @param text        the file content
/// @param source_name file name or description for error messages
/// @param options     columns and separators
/// @return the sentences in file order (never an empty one)
/// @throws std::invalid_argument "source:line: ..." when a line has fewer columns than the
///         token and tag columns need ("expected at least 4 columns, found 2"), when its column
///         count differs from the file's first token line, or (tab-separated) when a column
///         is empty or (tab-separated) a line holds a carriage return; and on a negative
///         `token_column` or a tag column equal to the token column
///
/// @code
/// auto sents = onestone::data::parse_conll("EU B-ORG\nrejects O\n\nPeter B-PER\n", "inline");
/// // sents[0].tokens == {"EU", "rejects"}, sents[0].tags == {"B-ORG", "O"}
/// @endcode
ONESTONE_FUNC std::vector<ConllSentence> parse_conll(const std::string& text,
                                                     const std::string& source_name,
                                                     const ConllOptions& options = ConllOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  const Index tok_col = options.token_column();
  const Index tag_col = options.tag_column();
  constexpr Index kMaxColumn = Index(1) << 30;
  if (tok_col < 0 || tok_col >= kMaxColumn || tag_col >= kMaxColumn || tag_col < -kMaxColumn)
    throw std::invalid_argument("parse_conll: " + source_name + ": token_column " +
                                std::to_string(tok_col) + " / tag_column " +
                                std::to_string(tag_col) + " out of range");
  if (options.tags() && tag_col == tok_col)
    throw std::invalid_argument("parse_conll: " + source_name + ": tag_column and token_column " +
                                "are both " + std::to_string(tok_col));
  // Columns a line needs: the token column, and the tag column; a negative tag column counts
  // from the end and lies after the token column.
  Index needed = tok_col + 1;
  if (options.tags()) needed = tag_col >= 0 ? std::max(needed, tag_col + 1) : tok_col + 1 - tag_col;
  std::vector<ConllSentence> out;
  ConllSentence cur;
  std::vector<std::string> cols;
  Index file_columns = -1;
  std::size_t first_line = 0;
  auto finish = [&] {
    if (!cur.tokens.empty()) out.push_back(std::move(cur));
    cur = ConllSentence();
  };
  detail::text_for_each_line(text, true, [&](const char* p, std::size_t n, std::size_t line) {
    if (detail::text_is_blank(p, n)) {
      finish();
      return;
    }
    std::size_t lead = 0;
    while (lead < n && (p[lead] == ' ' || p[lead] == '\t')) ++lead;
    if (n - lead >= 10 && std::string(p + lead, 10) == "-DOCSTART-") {
      finish();
      return;
    }
    if (options.skip_comments() && cur.tokens.empty() && p[lead] == '#') return;
    if (options.tab_separated()) detail::text_check_no_cr(p, n, "parse_conll", source_name, line);
    detail::text_split_columns(p, n, options.tab_separated(), cols);
    const Index k = static_cast<Index>(cols.size());
    if (k < needed)
      throw std::invalid_argument("parse_conll: " + detail::text_where(source_name, line) +
                                  "expected at least " + std::to_string(needed) +
                                  " columns, found " + std::to_string(k));
    if (file_columns < 0) {
      file_columns = k;
      first_line = line;
    } else if (k != file_columns) {
      throw std::invalid_argument("parse_conll: " + detail::text_where(source_name, line) +
                                  "found " + std::to_string(k) + " columns, but line " +
                                  std::to_string(first_line) + " has " +
                                  std::to_string(file_columns));
    }
    for (Index c = 0; c < k; ++c)
      if (cols[static_cast<std::size_t>(c)].empty())
        throw std::invalid_argument("parse_conll: " + detail::text_where(source_name, line) +
                                    "column " + std::to_string(c + 1) + " is empty");
    if (cur.tokens.empty()) cur.line = line;
    cur.tokens.push_back(cols[static_cast<std::size_t>(tok_col)]);
    if (options.tags())
      cur.tags.push_back(cols[static_cast<std::size_t>(tag_col >= 0 ? tag_col : k + tag_col)]);
  });
  finish();
  return out;
}
#else
    ;
#endif

/// Reads a CoNLL file (see `parse_conll`; errors name `path` and the line).
/// @throws std::runtime_error when the file cannot be read
///
/// @code
/// auto train = onestone::data::read_conll("data/train.conll");
/// auto tags = onestone::data::LabelSet::from_labels(tags_of(train));
/// @endcode
ONESTONE_FUNC std::vector<ConllSentence> read_conll(const std::string& path,
                                                    const ConllOptions& options = ConllOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  return parse_conll(detail::text_read_file(path, "read_conll"), path, options);
}
#else
    ;
#endif

/// A column of a table, by 0-based index or by header name.
///
/// @code
/// onestone::data::TsvColumn a = 2, b = "sentiment";
/// @endcode
struct TsvColumn {
  TsvColumn(Index i) : index(i) {}                  // NOLINT: implicit on purpose
  TsvColumn(int i) : index(i) {}                    // NOLINT
  TsvColumn(const char* n) : name(n) {}             // NOLINT
  TsvColumn(std::string n) : name(std::move(n)) {}  // NOLINT
  Index index = -1;
  std::string name;
  bool by_name() const { return !name.empty(); }
  std::string str() const { return by_name() ? "'" + name + "'" : std::to_string(index); }
};

/// Options of `read_tsv` / `parse_tsv`.
///
/// Fields:
/// - `header` (default true): the first line names the columns;
/// - `text_column` (default 0): the text column, by index or (with a header) by name;
/// - `label_columns` (default: none given = every column except the text column): the label
///   columns, one task each;
/// - `delimiter` (default '\t').
///
/// @code
/// auto opts = onestone::data::TsvOptions().text_column("review")
///                 .label_columns({"topic", "sentiment"});
/// @endcode
struct TsvOptions {
  TsvOptions& header(bool v) {
    header_ = v;
    return *this;
  }
  TsvOptions& text_column(TsvColumn c) {
    text_column_ = std::move(c);
    return *this;
  }
  TsvOptions& label_columns(std::vector<TsvColumn> c) {
    label_columns_ = std::move(c);
    return *this;
  }
  TsvOptions& delimiter(char c) {
    delimiter_ = c;
    return *this;
  }
  bool header() const { return header_; }
  const TsvColumn& text_column() const { return text_column_; }
  const std::vector<TsvColumn>& label_columns() const { return label_columns_; }
  char delimiter() const { return delimiter_; }

 private:
  bool header_ = true;
  TsvColumn text_column_ = Index(0);
  std::vector<TsvColumn> label_columns_;
  char delimiter_ = '\t';
};

/// A text classification table: `texts[i]` with `labels[k][i]` for label column k (named
/// `label_names[k]`, in the order of `TsvOptions::label_columns`). An empty label cell is a
/// missing label and stays an empty string (`SequenceDatasetBuilder::add_class_target` turns
/// it into weight 0). `text_name` names the text column, `lines[i]` is row i's 1-based line.
///
/// @code
/// auto table = onestone::data::read_tsv("reviews.tsv");
/// const auto& topic = table.labels[table.label_index("topic")];
/// @endcode
struct TsvTable {
  std::vector<std::string> texts;
  std::vector<std::vector<std::string>> labels;
  std::vector<std::string> label_names;
  std::string text_name;
  std::vector<std::size_t> lines;

  /// Number of rows.
  Index size() const { return static_cast<Index>(texts.size()); }
  /// Position of the label column `name` in `labels`; throws std::invalid_argument.
  Index label_index(const std::string& name) const {
    for (std::size_t k = 0; k < label_names.size(); ++k)
      if (label_names[k] == name) return static_cast<Index>(k);
    throw std::invalid_argument("TsvTable: no label column '" + name + "'");
  }
};

namespace detail {
inline void text_split_delim(const char* p, std::size_t n, char delim,
                             std::vector<std::string>& out) {
  out.clear();
  std::size_t start = 0;
  for (std::size_t i = 0; i <= n; ++i)
    if (i == n || p[i] == delim) {
      out.emplace_back(p + start, i - start);
      start = i + 1;
    }
}
}  // namespace detail

/// Parses a delimiter-separated table (no quoting: a field cannot hold the delimiter or a line
/// break). Empty lines are skipped; CRLF line ends and a leading UTF-8 byte order mark are
/// accepted. Without a header the columns are named "column0", "column1", ... and the column
/// count is that of the first row.
///
/// @param text        the file content
/// @param source_name file name or description for error messages
/// @param options     header, text and label columns
/// @throws std::invalid_argument "source:line: ..." for a row whose field count differs from
///         the header's ("expected 3 fields, found 2"), a missing header, an unknown or
///         ambiguous column name, a column index out of range, a name without header, or a
///         label column equal to the text column, or a carriage return inside a line
///
/// @code
/// auto t = onestone::data::parse_tsv("text\ttopic\nnice match\tsports\n", "inline");
/// // t.texts == {"nice match"}, t.labels[0] == {"sports"}, t.label_names == {"topic"}
/// @endcode
ONESTONE_FUNC TsvTable parse_tsv(const std::string& text, const std::string& source_name,
                                 const TsvOptions& options = TsvOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  TsvTable table;
  std::vector<std::string> names, fields;
  Index columns = -1, text_idx = -1;
  std::vector<Index> label_idx;
  std::size_t header_line = 0;
  auto fail = [&](std::size_t line, const std::string& what) {
    throw std::invalid_argument("parse_tsv: " + detail::text_where(source_name, line) + what);
  };
  auto resolve = [&](const TsvColumn& c, std::size_t line) -> Index {
    if (c.by_name()) {
      if (!options.header())
        fail(line, "column " + c.str() + " is given by name, but the table has no header");
      Index found = -1;
      for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == c.name) {
          if (found >= 0)
            fail(line, "column name " + c.str() + " is ambiguous (columns " +
                           std::to_string(found) + " and " + std::to_string(i) + ")");
          found = static_cast<Index>(i);
        }
      if (found < 0) {
        std::string known;
        for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
        fail(line, "no column named " + c.str() + " (columns: " + known + ")");
      }
      return found;
    }
    if (c.index < 0 || c.index >= columns)
      fail(line, "column " + std::to_string(c.index) + " out of range (" + std::to_string(columns) +
                     " columns)");
    return c.index;
  };
  auto setup = [&](std::size_t line) {
    columns = static_cast<Index>(names.size());
    header_line = line;
    text_idx = resolve(options.text_column(), line);
    table.text_name = names[static_cast<std::size_t>(text_idx)];
    if (options.label_columns().empty()) {
      for (Index c = 0; c < columns; ++c)
        if (c != text_idx) label_idx.push_back(c);
    } else {
      for (const auto& c : options.label_columns()) {
        const Index i = resolve(c, line);
        if (i == text_idx) fail(line, "label column " + c.str() + " is the text column");
        label_idx.push_back(i);
      }
    }
    for (Index i : label_idx) table.label_names.push_back(names[static_cast<std::size_t>(i)]);
    table.labels.resize(label_idx.size());
  };
  bool have_header = false;
  detail::text_for_each_line(text, true, [&](const char* p, std::size_t n, std::size_t line) {
    if (n == 0) return;
    detail::text_check_no_cr(p, n, "parse_tsv", source_name, line);
    detail::text_split_delim(p, n, options.delimiter(), fields);
    if (columns < 0) {
      if (options.header()) {
        names = fields;
        setup(line);
        have_header = true;
        return;
      }
      names.clear();
      for (std::size_t c = 0; c < fields.size(); ++c) names.push_back("column" + std::to_string(c));
      setup(line);
    }
    if (static_cast<Index>(fields.size()) != columns)
      fail(line, "expected " + std::to_string(columns) + " fields, found " +
                     std::to_string(fields.size()) +
                     (have_header ? " (header on line " + std::to_string(header_line) + ")"
                                  : std::string()));
    table.texts.push_back(fields[static_cast<std::size_t>(text_idx)]);
    for (std::size_t k = 0; k < label_idx.size(); ++k)
      table.labels[k].push_back(fields[static_cast<std::size_t>(label_idx[k])]);
    table.lines.push_back(line);
  });
  if (options.header() && !have_header) fail(1, "empty table, expected a header line");
  return table;
}
#else
    ;
#endif

/// Reads a tab-separated file (see `parse_tsv`; errors name `path` and the line).
/// @throws std::runtime_error when the file cannot be read
///
/// @code
/// auto t = onestone::data::read_tsv("train.tsv", onestone::data::TsvOptions()
///              .text_column("text").label_columns({"topic", "sentiment"}));
/// @endcode
ONESTONE_FUNC TsvTable read_tsv(const std::string& path, const TsvOptions& options = TsvOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  return parse_tsv(detail::text_read_file(path, "read_tsv"), path, options);
}
#else
    ;
#endif

}  // namespace onestone::data
