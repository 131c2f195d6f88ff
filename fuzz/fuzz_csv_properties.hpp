#pragma once
/// @file fuzz_csv_properties.hpp
/// The checks of the libFuzzer target fuzz_csv: the CSV reader and the tabular dataset builder
/// (onestone/data/csv.hpp).
/// The first byte picks the options (delimiter, header, skipped lines, missing indicators), the
/// rest is the CSV text. Properties: parse_csv returns or throws std::invalid_argument; a parsed
/// table is rectangular; make_tabular (last column as class labels, the first as a regression
/// target, columns 1 and 2 as survival time and event when there are enough) returns or throws
/// std::invalid_argument; a built dataset has one input row per table row, and after a
/// Standardizer fitted on it every input is finite.
/// Shared by fuzz_csv.cpp and tests/io/test_fuzz_regressions.cpp; a violation throws
/// PropertyViolation.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "fuzz_properties.hpp"
#include "onestone/data/csv.hpp"
#include "onestone/metrics/survival.hpp"

namespace onestone_fuzz {
namespace csv_detail {

[[noreturn]] inline void violated(const std::string& what) {
  throw PropertyViolation("fuzz_csv: " + what);
}

inline void check_dataset(const onestone::data::TabularData<double>& tab, onestone::Index R,
                          onestone::Index C) {
  using namespace onestone;
  const auto& ds = tab.dataset;
  if (ds.size() != R) violated("dataset rows differ from table rows");
  if (ds.sample_numel() != static_cast<Index>(tab.feature_names.size()))
    violated("feature names differ from input width");
  data::Standardizer<double> s;
  s.standardize_values(true).fit(ds);
  const auto z = s.apply(ds);
  for (Index i = 0; i < z.inputs().numel(); ++i)
    if (!std::isfinite(z.inputs()[i])) violated("non-finite input after standardisation");
  if (C >= 4) {
    const auto& t = z.target("survival");
    const double c =
        metrics::concordance_index(z.target("value").values, t.field("time"), t.field("event"),
                                   t.weighted() ? &t.weight : nullptr);
    if (!(std::isnan(c) || (c >= 0.0 && c <= 1.0))) violated("C-index outside [0, 1]");
  }
}

}  // namespace csv_detail

/// Runs the CSV reader's and tabular builder's checks on one fuzz input.
inline void check_csv(const std::uint8_t* data, std::size_t size) {
  using namespace onestone;
  if (size == 0) return;
  const std::uint8_t mode = data[0];
  static const char delims[4] = {',', ';', '\t', '|'};
  data::CsvOptions opt;
  opt.delimiter(delims[mode & 3]).header((mode & 4) == 0).skip_lines((mode >> 3) & 1);
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  data::CsvTable table;
  try {
    table = data::parse_csv(text, "fuzz.csv", opt);
  } catch (const std::invalid_argument&) {
    return;
  }
  const Index R = table.num_rows(), C = table.num_columns();
  if (C < 1) csv_detail::violated("a table without columns was accepted");
  if (static_cast<Index>(table.cells.size()) != R * C ||
      static_cast<Index>(table.missing.size()) != R * C)
    csv_detail::violated("table is not rectangular");
  data::TabularOptions topt;
  topt.missing_indicators((mode & 16) != 0).max_categories(16);
  const std::string last = table.columns.back();
  topt.classification("label", last);
  if (C >= 3) topt.regression("value", table.columns.front());
  if (C >= 4) topt.survival("survival", table.columns[1], table.columns[2]);
  std::optional<data::TabularData<double>> tab;
  try {
    tab.emplace(data::make_tabular<double>(table, topt));
  } catch (const std::invalid_argument&) {
    return;
  }
  csv_detail::check_dataset(*tab, R, C);  // any exception from here on is a bug
  return;
}

}  // namespace onestone_fuzz
