#pragma once
/// @file csv.hpp
/// Tabular data: a CSV reader (`read_csv`, `parse_csv` → `CsvTable`), a builder of a
/// multi-task `Dataset` from a table (`make_tabular`: features with one-hot categorical
/// columns, class / value / survival labels, missing labels as weight 0) and a `Standardizer`
/// fitted on a training split (which also imputes missing features with the training mean).

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::data {

/// Options of `read_csv` / `parse_csv`.
///
/// - `delimiter(',')`, `quote('"')`: a field starting with the quote character runs to the
///   next unpaired quote; `""` inside it is one quote; delimiters and newlines inside are kept;
/// - `header(true)`: the first (non-skipped) line names the columns; otherwise they are named
///   "c0", "c1", …;
/// - `skip_lines(0)`: lines dropped before the header or the first row (e.g. a count line);
/// - `missing({"", "NA", "NaN", "?"})`: cells (after trimming spaces and tabs, when unquoted)
///   that mean "no value"; a quoted empty field is missing too.
/// Lines that are entirely empty are skipped; "\n" and "\r\n" both end a line.
///
/// Example: `CsvOptions().delimiter(';').missing({"", "NA"})`
struct CsvOptions {
  CsvOptions& delimiter(char c) {
    delimiter_ = c;
    return *this;
  }
  CsvOptions& quote(char c) {
    quote_ = c;
    return *this;
  }
  CsvOptions& header(bool on) {
    header_ = on;
    return *this;
  }
  CsvOptions& skip_lines(Index n) {
    skip_lines_ = n;
    return *this;
  }
  CsvOptions& missing(std::vector<std::string> tokens) {
    missing_ = std::move(tokens);
    return *this;
  }
  char delimiter_ = ',';
  char quote_ = '"';
  bool header_ = true;
  Index skip_lines_ = 0;
  std::vector<std::string> missing_ = {"", "NA", "NaN", "?"};
};

/// A parsed CSV table: column names and cells as strings (row-major), each flagged missing or
/// not, with the source line of each row for error messages. Numbers are parsed on demand
/// (`number`, `is_number`).
///
/// @code
/// auto table = onestone::data::read_csv("colon.csv");
/// onestone::Index c = table.column_index("age");
/// double age0 = table.number(0, c);     // throws naming file, line and column if not a number
/// @endcode
struct CsvTable {
  std::string source;                 ///< file name (or the name given to parse_csv)
  std::vector<std::string> columns;   ///< column names
  std::vector<std::string> cells;     ///< rows × columns, row-major, trimmed
  std::vector<std::uint8_t> missing;  ///< 1 where the cell is a missing token
  std::vector<Index> lines;           ///< 1-based source line of each row

  Index num_rows() const { return static_cast<Index>(lines.size()); }
  Index num_columns() const { return static_cast<Index>(columns.size()); }
  const std::string& cell(Index row, Index col) const { return cells[flat(row, col)]; }
  bool is_missing(Index row, Index col) const { return missing[flat(row, col)] != 0; }
  /// Position of column `name`; throws std::invalid_argument listing the columns.
  Index column_index(const std::string& name) const {
    for (std::size_t c = 0; c < columns.size(); ++c)
      if (columns[c] == name) return static_cast<Index>(c);
    std::string known;
    for (const auto& c : columns) known += (known.empty() ? "" : ", ") + c;
    throw std::invalid_argument(source + ": no column '" + name + "' (columns: " + known + ")");
  }
  /// True when `s` is a finite decimal number (leading '+' allowed).
  static bool parse_number(const std::string& s, double& out) {
    const char* b = s.data();
    const char* e = b + s.size();
    if (b != e && *b == '+') ++b;
    if (b == e) return false;
    const auto r = std::from_chars(b, e, out);
    return r.ec == std::errc() && r.ptr == e && std::isfinite(out);
  }
  /// True when cell (row, col) is present and a number.
  bool is_number(Index row, Index col) const {
    double v;
    return !is_missing(row, col) && parse_number(cell(row, col), v);
  }
  /// The number in cell (row, col); throws std::invalid_argument naming the file, line, column
  /// and the cell when it is missing or not a number.
  double number(Index row, Index col) const {
    double v = 0;
    if (is_missing(row, col) || !parse_number(cell(row, col), v))
      throw std::invalid_argument(where(row, col) + ": '" + cell(row, col) + "' is not a number");
    return v;
  }
  /// "file: line L, column 'name'" of a cell, for messages.
  std::string where(Index row, Index col) const {
    return source + ": line " + std::to_string(lines[static_cast<std::size_t>(row)]) +
           ", column '" + columns[static_cast<std::size_t>(col)] + "'";
  }

 private:
  std::size_t flat(Index row, Index col) const {
    if (row < 0 || row >= num_rows() || col < 0 || col >= num_columns())
      throw std::out_of_range(source + ": cell (" + std::to_string(row) + ", " +
                              std::to_string(col) + ") outside " + std::to_string(num_rows()) +
                              " x " + std::to_string(num_columns()));
    return static_cast<std::size_t>(row * num_columns() + col);
  }
};

/// Parses CSV `text` (see `CsvOptions`); `source_name` names it in messages.
///
/// @throws std::invalid_argument naming the source, the line, the column and the byte offset:
///   a row with a different number of fields than the header (or the first row), an
///   unterminated quoted field, a character after a closing quote, a duplicate column name,
///   a delimiter equal to the quote or a newline, or a table without columns.
///
/// Example: `auto t = onestone::data::parse_csv("a,b\n1,2\n", "inline");`
ONESTONE_FUNC CsvTable parse_csv(const std::string& text, const std::string& source_name = "<csv>",
                                 const CsvOptions& opt = CsvOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  const char D = opt.delimiter_, Q = opt.quote_;
  if (D == Q || D == '\n' || D == '\r' || Q == '\n' || Q == '\r')
    throw std::invalid_argument(source_name +
                                ": delimiter and quote must differ and not be a "
                                "line break");
  CsvTable t;
  t.source = source_name;
  std::vector<std::string> fields;
  std::vector<std::uint8_t> quoted;
  std::size_t pos = 0;
  const std::size_t n = text.size();
  Index line = 1;
  Index skipped = 0;
  bool have_columns = false;
  auto is_missing = [&](const std::string& s, bool q) {
    if (q) return s.empty();
    for (const auto& m : opt.missing_)
      if (s == m) return true;
    return false;
  };
  auto trim = [](std::string& s) {
    std::size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
    if (b > 0 || e < s.size()) s = s.substr(b, e - b);
  };
  while (pos < n) {
    const std::size_t row_start = pos;
    const Index row_line = line;
    fields.clear();
    quoted.clear();
    // One record (may span lines inside quotes).
    std::string cur;
    bool cur_quoted = false;
    bool end_of_record = false;
    while (!end_of_record) {
      if (pos >= n) {
        end_of_record = true;
        break;
      }
      char ch = text[pos];
      if (ch == Q && cur.find_first_not_of(" \t") == std::string::npos && !cur_quoted) {
        const std::size_t qstart = pos;
        const Index qline = line;
        cur.clear();
        cur_quoted = true;
        ++pos;
        for (;;) {
          if (pos >= n)
            throw std::invalid_argument(source_name + ": line " + std::to_string(qline) +
                                        ", field " + std::to_string(fields.size() + 1) +
                                        ": unterminated quoted field (opened at byte " +
                                        std::to_string(qstart) + ")");
          const char c = text[pos];
          if (c == Q) {
            if (pos + 1 < n && text[pos + 1] == Q) {
              cur += Q;
              pos += 2;
              continue;
            }
            ++pos;
            break;
          }
          if (c == '\n') ++line;
          cur += c;
          ++pos;
        }
        // After the closing quote: spaces, then a delimiter or the end of the line.
        while (pos < n && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
        if (pos < n && text[pos] != D && text[pos] != '\n' && text[pos] != '\r')
          throw std::invalid_argument(source_name + ": line " + std::to_string(line) + ", field " +
                                      std::to_string(fields.size() + 1) + ": character '" +
                                      std::string(1, text[pos]) + "' after a closing quote (byte " +
                                      std::to_string(pos) + ")");
        continue;
      }
      if (ch == D) {
        if (!cur_quoted) trim(cur);
        fields.push_back(std::move(cur));
        quoted.push_back(cur_quoted);
        cur.clear();
        cur_quoted = false;
        ++pos;
        continue;
      }
      if (ch == '\r' && pos + 1 < n && text[pos + 1] == '\n') ++pos, ch = '\n';
      if (ch == '\n' || ch == '\r') {
        ++pos;
        ++line;
        end_of_record = true;
        break;
      }
      cur += ch;
      ++pos;
    }
    if (!cur_quoted) trim(cur);
    const bool blank = fields.empty() && !cur_quoted && cur.empty();
    fields.push_back(std::move(cur));
    quoted.push_back(cur_quoted);
    if (blank) continue;  // empty line
    if (skipped < opt.skip_lines_) {
      ++skipped;
      continue;
    }
    if (!have_columns) {
      have_columns = true;
      if (opt.header_) {
        std::set<std::string> seen;
        for (std::size_t c = 0; c < fields.size(); ++c) {
          std::string name = fields[c].empty() ? "c" + std::to_string(c) : fields[c];
          if (!seen.insert(name).second)
            throw std::invalid_argument(source_name + ": line " + std::to_string(row_line) +
                                        ": duplicate column name '" + name + "'");
          t.columns.push_back(std::move(name));
        }
        continue;
      }
      for (std::size_t c = 0; c < fields.size(); ++c) t.columns.push_back("c" + std::to_string(c));
    }
    if (fields.size() != t.columns.size())
      throw std::invalid_argument(
          source_name + ": line " + std::to_string(row_line) + " (byte " +
          std::to_string(row_start) + "): " + std::to_string(fields.size()) + " fields, expected " +
          std::to_string(t.columns.size()) + " (column '" +
          t.columns[std::min(fields.size(), t.columns.size()) - 1] + "' is the last " +
          (fields.size() > t.columns.size() ? "named one)" : "present)"));
    for (std::size_t c = 0; c < fields.size(); ++c) {
      t.missing.push_back(is_missing(fields[c], quoted[c]) ? 1 : 0);
      t.cells.push_back(std::move(fields[c]));
    }
    t.lines.push_back(row_line);
  }
  if (t.columns.empty()) throw std::invalid_argument(source_name + ": no columns (empty input)");
  return t;
}
#else
    ;
#endif

/// Reads a CSV file (see `parse_csv`); throws std::runtime_error when it cannot be read.
///
/// Example: `auto t = onestone::data::read_csv("cohort.csv", CsvOptions().delimiter(';'));`
ONESTONE_FUNC CsvTable read_csv(const std::string& path, const CsvOptions& opt = CsvOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("read_csv: cannot open '" + path + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) throw std::runtime_error("read_csv: error reading '" + path + "'");
  return parse_csv(ss.str(), path, opt);
}
#else
    ;
#endif

/// What a label column becomes: class labels, a real value, or survival (time + event).
enum class LabelKind { Class, Value, Survival };

/// Options of `make_tabular`: which columns are labels (one task each), which are features.
///
/// - `classification(task, column, classes)`: class labels; `classes` lists the cell values in
///   class order (default: the distinct values, in numeric order when all are numbers, else
///   sorted as strings);
/// - `regression(task, column)`: a real value (the column must be numeric);
/// - `survival(task, time_column, event_column)`: a Composite target with fields "time"
///   (>= 0) and "event" (0/1);
/// - `features(cols)`: the feature columns (default: every column that is no label and not
///   dropped); `drop(cols)`: columns never used as features (ids, leaky columns);
/// - `categorical(cols)`: one-hot encoded (one column per distinct value, "col=value"); a
///   feature column is also categorical when any present cell is not a number
///   (`auto_categorical`, default on), unless listed in `numeric(cols)` — then a non-numeric
///   cell is an error. `max_categories(64)`: more distinct values than this is an error (most
///   likely a numeric column with a typo);
/// - `missing_indicators(false)`: adds a 0/1 column "col?missing" after each numeric feature
///   with a missing cell.
///
/// Example: `TabularOptions().survival("death", "time_d", "status_d").drop({"id"})`
struct TabularOptions {
  struct Label {
    std::string task;
    LabelKind kind = LabelKind::Class;
    std::string column, event_column;
    std::vector<std::string> classes;
  };
  TabularOptions& classification(std::string task, std::string column,
                                 std::vector<std::string> classes = {}) {
    labels_.push_back(
        {std::move(task), LabelKind::Class, std::move(column), "", std::move(classes)});
    return *this;
  }
  TabularOptions& regression(std::string task, std::string column) {
    labels_.push_back({std::move(task), LabelKind::Value, std::move(column), "", {}});
    return *this;
  }
  TabularOptions& survival(std::string task, std::string time_column, std::string event_column) {
    labels_.push_back({std::move(task),
                       LabelKind::Survival,
                       std::move(time_column),
                       std::move(event_column),
                       {}});
    return *this;
  }
  TabularOptions& features(std::vector<std::string> cols) {
    features_ = std::move(cols);
    features_set_ = true;
    return *this;
  }
  TabularOptions& drop(std::vector<std::string> cols) {
    drop_ = std::move(cols);
    return *this;
  }
  TabularOptions& categorical(std::vector<std::string> cols) {
    categorical_ = std::move(cols);
    return *this;
  }
  TabularOptions& numeric(std::vector<std::string> cols) {
    numeric_ = std::move(cols);
    return *this;
  }
  TabularOptions& auto_categorical(bool on) {
    auto_categorical_ = on;
    return *this;
  }
  TabularOptions& max_categories(Index k) {
    max_categories_ = k;
    return *this;
  }
  TabularOptions& missing_indicators(bool on) {
    missing_indicators_ = on;
    return *this;
  }
  std::vector<Label> labels_;
  std::vector<std::string> features_, drop_, categorical_, numeric_;
  bool features_set_ = false, auto_categorical_ = true, missing_indicators_ = false;
  Index max_categories_ = 64;
};

/// The result of `make_tabular`: the dataset (inputs [N, F], one target per label), the names
/// of the F input columns, and the class names of each classification task.
template <typename T>
struct TabularData {
  Dataset<T> dataset;
  std::vector<std::string> feature_names;
  std::vector<std::pair<std::string, std::vector<std::string>>> classes;  ///< task → class names
};

namespace detail {
inline bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace detail

/// Builds a multi-task dataset from a table (see `TabularOptions`).
///
/// Inputs: numeric feature columns as they are, categorical ones one-hot (a missing categorical
/// cell gives all zeros). **A missing numeric feature is stored as NaN** and must be imputed:
/// `Standardizer::fit(train)` + `apply` replace it with the training split's mean (0 after
/// standardisation) — impute after splitting so that no test statistic leaks into training.
/// Labels: a missing label cell (either survival cell) gives the sample weight 0 for that task
/// only (the task's loss and metrics skip it); the stored label is then 0.
///
/// @throws std::invalid_argument naming the file, line, column and cell: a non-numeric cell in
///   a regression, survival or `numeric` column, a class not in the given list, a negative
///   survival time, an event other than 0/1, too many categories; also an unknown column, a
///   label column used as a feature, or no feature column.
///
/// Example:
/// @code
/// auto table = onestone::data::read_csv("colon.csv");
/// auto tab = onestone::data::make_tabular<float>(table, onestone::data::TabularOptions()
///     .survival("recurrence", "time_rec", "status_rec").survival("death", "time_death",
///     "status_death").drop({"id"}));
/// auto [train, test] = tab.dataset.split(0.8, 1);
/// onestone::data::Standardizer<float> scaler;
/// scaler.fit(train);
/// train = scaler.apply(train); test = scaler.apply(test);
/// @endcode
template <typename T>
TabularData<T> make_tabular(const CsvTable& table, const TabularOptions& opt) {
  const Index N = table.num_rows(), C = table.num_columns();
  const std::string& src = table.source;
  std::vector<std::uint8_t> is_label(static_cast<std::size_t>(C), 0);
  for (const auto& l : opt.labels_) {
    is_label[static_cast<std::size_t>(table.column_index(l.column))] = 1;
    if (l.kind == LabelKind::Survival)
      is_label[static_cast<std::size_t>(table.column_index(l.event_column))] = 1;
  }
  for (const auto& d : opt.drop_) table.column_index(d);  // unknown names are errors
  for (const auto& d : opt.categorical_) table.column_index(d);
  for (const auto& d : opt.numeric_) table.column_index(d);
  std::vector<Index> feat;
  if (opt.features_set_) {
    for (const auto& f : opt.features_) {
      const Index c = table.column_index(f);
      if (is_label[static_cast<std::size_t>(c)])
        throw std::invalid_argument(src + ": column '" + f + "' is both a feature and a label");
      feat.push_back(c);
    }
  } else {
    for (Index c = 0; c < C; ++c)
      if (!is_label[static_cast<std::size_t>(c)] &&
          !detail::contains(opt.drop_, table.columns[static_cast<std::size_t>(c)]))
        feat.push_back(c);
  }
  if (feat.empty()) throw std::invalid_argument(src + ": make_tabular: no feature column");
  // Encoding of each feature column: numeric (width 1, + indicator) or one-hot categories.
  struct Enc {
    Index col;
    bool categorical;
    bool indicator;
    std::vector<std::string> cats;
  };
  std::vector<Enc> encs;
  std::vector<std::string> names;
  for (Index c : feat) {
    const std::string& cname = table.columns[static_cast<std::size_t>(c)];
    Enc e{c, detail::contains(opt.categorical_, cname), false, {}};
    const bool forced_numeric = detail::contains(opt.numeric_, cname);
    bool any_missing = false;
    Index first_bad = -1;
    for (Index r = 0; r < N; ++r) {
      if (table.is_missing(r, c)) {
        any_missing = true;
        continue;
      }
      if (first_bad < 0 && !table.is_number(r, c)) first_bad = r;
    }
    if (first_bad >= 0 && forced_numeric && !e.categorical) table.number(first_bad, c);  // throws
    if (first_bad >= 0 && opt.auto_categorical_) e.categorical = true;
    if (first_bad >= 0 && !e.categorical) table.number(first_bad, c);  // throws
    if (e.categorical) {
      std::set<std::string> distinct;
      for (Index r = 0; r < N; ++r)
        if (!table.is_missing(r, c)) {
          distinct.insert(table.cell(r, c));
          if (static_cast<Index>(distinct.size()) > opt.max_categories_)
            throw std::invalid_argument(
                table.where(r, c) + ": more than " + std::to_string(opt.max_categories_) +
                " distinct values in a categorical column" +
                (first_bad >= 0
                     ? " (first non-number: '" + table.cell(first_bad, c) + "' at line " +
                           std::to_string(table.lines[static_cast<std::size_t>(first_bad)]) +
                           "; list the column in numeric() to make it an error)"
                     : std::string()));
        }
      e.cats.assign(distinct.begin(), distinct.end());
      for (const auto& v : e.cats) names.push_back(cname + "=" + v);
    } else {
      names.push_back(cname);
      e.indicator = opt.missing_indicators_ && any_missing;
      if (e.indicator) names.push_back(cname + "?missing");
    }
    encs.push_back(std::move(e));
  }
  const Index F = static_cast<Index>(names.size());
  if (F == 0) throw std::invalid_argument(src + ": make_tabular: no input column after encoding");
  Tensor<T> x(Shape{N, F});
  const T nan = std::numeric_limits<T>::quiet_NaN();
  for (Index r = 0; r < N; ++r) {
    T* row = x.data() + r * F;
    Index k = 0;
    for (const auto& e : encs) {
      if (e.categorical) {
        const bool miss = table.is_missing(r, e.col);
        for (const auto& v : e.cats) row[k++] = (!miss && table.cell(r, e.col) == v) ? T(1) : T(0);
      } else {
        const bool miss = table.is_missing(r, e.col);
        row[k++] = miss ? nan : static_cast<T>(table.number(r, e.col));
        if (e.indicator) row[k++] = miss ? T(1) : T(0);
      }
    }
  }
  TabularData<T> out{Dataset<T>(std::move(x)), std::move(names), {}};
  for (const auto& l : opt.labels_) {
    const Index c = table.column_index(l.column);
    Tensor<T> w = Tensor<T>::ones(Shape{N});
    bool any_missing = false;
    auto mark = [&](Index r) {
      w[r] = T(0);
      any_missing = true;
    };
    if (l.kind == LabelKind::Class) {
      std::vector<std::string> classes = l.classes;
      if (classes.empty()) {
        std::set<std::string> distinct;
        bool all_num = true;
        for (Index r = 0; r < N; ++r)
          if (!table.is_missing(r, c)) {
            distinct.insert(table.cell(r, c));
            all_num = all_num && table.is_number(r, c);
          }
        classes.assign(distinct.begin(), distinct.end());
        if (all_num)
          std::stable_sort(classes.begin(), classes.end(),
                           [](const std::string& a, const std::string& b) {
                             double x1 = 0, x2 = 0;
                             CsvTable::parse_number(a, x1);
                             CsvTable::parse_number(b, x2);
                             return x1 < x2;
                           });
      }
      if (classes.empty())
        throw std::invalid_argument(src + ": column '" + l.column + "' (task '" + l.task +
                                    "') has no labelled row");
      Tensor<std::int64_t> y(Shape{N});
      for (Index r = 0; r < N; ++r) {
        if (table.is_missing(r, c)) {
          mark(r);
          continue;
        }
        const auto it = std::find(classes.begin(), classes.end(), table.cell(r, c));
        if (it == classes.end()) {
          // Numeric labels may be written differently ("1" vs "1.0").
          double v = 0, u = 0;
          auto jt = classes.end();
          if (CsvTable::parse_number(table.cell(r, c), v))
            jt = std::find_if(classes.begin(), classes.end(), [&](const std::string& s) {
              return CsvTable::parse_number(s, u) && u == v;
            });
          if (jt == classes.end())
            throw std::invalid_argument(table.where(r, c) + ": '" + table.cell(r, c) +
                                        "' is not one of the classes of task '" + l.task + "'");
          y[r] = static_cast<std::int64_t>(jt - classes.begin());
          continue;
        }
        y[r] = static_cast<std::int64_t>(it - classes.begin());
      }
      out.dataset.add_classification(l.task, std::move(y), static_cast<Index>(classes.size()));
      out.classes.emplace_back(l.task, std::move(classes));
    } else if (l.kind == LabelKind::Value) {
      Tensor<T> v(Shape{N});
      for (Index r = 0; r < N; ++r) {
        if (table.is_missing(r, c)) {
          mark(r);
          continue;
        }
        v[r] = static_cast<T>(table.number(r, c));
      }
      out.dataset.add_regression(l.task, std::move(v));
    } else {
      const Index ce = table.column_index(l.event_column);
      Tensor<T> time(Shape{N}), event(Shape{N});
      for (Index r = 0; r < N; ++r) {
        if (table.is_missing(r, c) || table.is_missing(r, ce)) {
          mark(r);
          continue;
        }
        const double tv = table.number(r, c), ev = table.number(r, ce);
        if (tv < 0)
          throw std::invalid_argument(table.where(r, c) + ": survival time '" + table.cell(r, c) +
                                      "' is negative");
        if (ev != 0.0 && ev != 1.0)
          throw std::invalid_argument(table.where(r, ce) + ": event '" + table.cell(r, ce) +
                                      "' is not 0 (censored) or 1 (event)");
        time[r] = static_cast<T>(tv);
        event[r] = static_cast<T>(ev);
      }
      Target<T> tg;
      tg.name = l.task;
      tg.kind = TargetKind::Composite;
      tg.fields.emplace_back("time", std::move(time));
      tg.fields.emplace_back("event", std::move(event));
      out.dataset.add_target(std::move(tg));
    }
    if (any_missing) out.dataset.set_sample_weights(l.task, std::move(w));
  }
  return out;
}

/// Per-column standardisation of a dataset's inputs [N, F], fitted on a training split only:
/// `fit(train)` stores each column's mean and standard deviation over its finite values;
/// `apply(ds)` returns a copy with x ← (x − mean) / sd. Missing values (NaN, as left by
/// `make_tabular`) become the training mean, i.e. 0. Constant columns (sd = 0) are only
/// centred (they become 0), never divided by zero. A column with no finite training value
/// gets mean 0 and sd 1. With `standardize_values(true)`, the real values of every `Value`
/// target (regression labels, e.g. auxiliary targets) are standardised the same way, per
/// column, with statistics from the training split's labelled rows (weight > 0).
///
/// @code
/// onestone::data::Standardizer<float> s;
/// s.fit(train);
/// auto train_z = s.apply(train), test_z = s.apply(test);
/// @endcode
template <typename T>
class Standardizer {
 public:
  /// Also standardise the values of `Value` targets (default off).
  Standardizer& standardize_values(bool on) {
    values_ = on;
    return *this;
  }
  /// Fits mean and sd per input column of `train` (inputs of any rank: flattened per sample).
  void fit(const Dataset<T>& train) {
    fit_columns(train.inputs().data(), train.size(), train.sample_numel(), nullptr, mean_, sd_);
    value_stats_.clear();
    if (!values_) return;
    for (const auto& t : train.targets()) {
      if (t.kind != TargetKind::Value || t.values.numel() == 0) continue;
      ValueStats v;
      v.task = t.name;
      fit_columns(t.values.data(), t.size(), t.values.numel() / std::max<Index>(1, t.size()),
                  t.weighted() ? &t.weight : nullptr, v.mean, v.sd);
      value_stats_.push_back(std::move(v));
    }
  }

 private:
  static void fit_columns(const T* data, Index N, Index F, const Tensor<T>* w,
                          std::vector<double>& mu, std::vector<double>& sigma) {
    mu.assign(static_cast<std::size_t>(F), 0.0);
    sigma.assign(static_cast<std::size_t>(F), 1.0);
    for (Index f = 0; f < F; ++f) {
      double s = 0, s2 = 0, n = 0;
      for (Index i = 0; i < N; ++i) {
        const double v = static_cast<double>(data[i * F + f]);
        if (!std::isfinite(v) || (w && !((*w)[i] > T(0)))) continue;
        s += v;
        n += 1;
      }
      if (n == 0) continue;
      const double m = s / n;
      for (Index i = 0; i < N; ++i) {
        const double v = static_cast<double>(data[i * F + f]);
        if (std::isfinite(v) && !(w && !((*w)[i] > T(0)))) s2 += (v - m) * (v - m);
      }
      mu[static_cast<std::size_t>(f)] = m;
      const double sd = std::sqrt(s2 / n);
      sigma[static_cast<std::size_t>(f)] = sd > 1e-12 * std::max(1.0, std::abs(m)) ? sd : 0.0;
    }
  }
  static void transform(T* x, Index N, Index F, const std::vector<double>& mu,
                        const std::vector<double>& sigma) {
    for (Index i = 0; i < N; ++i)
      for (Index f = 0; f < F; ++f) {
        T& v = x[i * F + f];
        const double m = mu[static_cast<std::size_t>(f)], s = sigma[static_cast<std::size_t>(f)];
        if (!std::isfinite(static_cast<double>(v)))
          v = T(0);
        else
          v = static_cast<T>(s > 0 ? (static_cast<double>(v) - m) / s : 0.0);
      }
  }

 public:
  /// A copy of `ds` with standardised, imputed inputs; throws std::logic_error before `fit`
  /// and std::invalid_argument when the width differs from the fitted one.
  Dataset<T> apply(const Dataset<T>& ds) const {
    if (mean_.empty()) throw std::logic_error("Standardizer::apply: call fit(train) first");
    const Index N = ds.size(), F = ds.sample_numel();
    if (F != static_cast<Index>(mean_.size()))
      throw std::invalid_argument("Standardizer::apply: inputs " + ds.inputs().shape().str() +
                                  " but fitted on " + std::to_string(mean_.size()) + " columns");
    Tensor<T> xs = ds.inputs();
    transform(xs.data(), N, F, mean_, sd_);
    Dataset<T> out(std::move(xs));
    for (Target<T> t : ds.targets()) {
      for (const auto& v : value_stats_)
        if (v.task == t.name && t.values.numel() > 0) {
          const Index cols = t.values.numel() / std::max<Index>(1, t.size());
          if (cols != static_cast<Index>(v.mean.size()))
            throw std::invalid_argument("Standardizer::apply: target '" + t.name + "' values " +
                                        t.values.shape().str() + " but fitted on " +
                                        std::to_string(v.mean.size()) + " columns");
          transform(t.values.data(), t.size(), cols, v.mean, v.sd);
        }
      out.add_target(std::move(t));
    }
    return out;
  }
  /// Means of the input columns (of the training split).
  const std::vector<double>& mean() const { return mean_; }
  /// Standard deviations (0 for constant columns).
  const std::vector<double>& sd() const { return sd_; }

 private:
  struct ValueStats {
    std::string task;
    std::vector<double> mean, sd;
  };
  std::vector<double> mean_, sd_;
  std::vector<ValueStats> value_stats_;
  bool values_ = false;
};

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXPLICIT(DATA_FLOAT,
                  TabularData<float> make_tabular<float>(const CsvTable&, const TabularOptions&))
ONESTONE_EXPLICIT(DATA_DOUBLE,
                  TabularData<double> make_tabular<double>(const CsvTable&, const TabularOptions&))

}  // namespace onestone::data
