#pragma once
/// @file training_log.hpp
/// `TrainingLog`: one record per epoch (optionally every N steps) as CSV (header once) and as
/// JSON lines — epoch, step, per-task train loss, per-task validation metrics, the balancer's
/// task weights, the learning rate and the elapsed time.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/io/json.hpp"
#include "onestone/model/eval_report.hpp"
#include "onestone/train/records.hpp"

namespace onestone {
namespace train {
namespace detail {

/// Shortest decimal form of `d` that reads back to the same bits; "" for NaN or infinity.
inline std::string log_number(double d) {
  if (!std::isfinite(d)) return std::string();
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}
/// The same as a JSON value ("null" for NaN or infinity).
inline std::string json_number(double d) {
  const std::string s = log_number(d);
  return s.empty() ? std::string("null") : s;
}
/// A JSON string literal.
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      out += b;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}
/// A CSV cell, quoted when it holds a comma, a quote or a line break (RFC 4180).
inline std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}
/// Splits one CSV line (RFC 4180 quoting).
inline std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

/// One record as a JSON object. `full` adds what restoring an `EpochInfo` needs (metric
/// directions, primary metrics, labelled counts); logs use the short form.
inline std::string record_json(const EpochInfo& r, const char* kind, bool full = false) {
  std::string s = "{\"kind\":" + json_string(kind) + ",\"epoch\":" + std::to_string(r.epoch) +
                  ",\"step\":" + std::to_string(r.step) +
                  ",\"complete\":" + (r.complete ? "true" : "false") +
                  ",\"elapsed_s\":" + json_number(r.elapsed_seconds) +
                  ",\"lr\":" + json_number(r.lr) + ",\"train_loss\":" + json_number(r.train_total);
  const auto per_task = [&](const char* key, const std::vector<double>& v) {
    s += std::string(",\"") + key + "\":{";
    for (std::size_t i = 0; i < r.tasks.size(); ++i)
      s += (i ? "," : "") + json_string(r.tasks[i]) + ":" +
           json_number(i < v.size() ? v[i] : std::nan(""));
    s += "}";
  };
  per_task("train_losses", r.train_losses);
  per_task("weights", r.task_weights);
  if (r.has_validation) {
    s += ",\"val\":{";
    for (std::size_t i = 0; i < r.validation.tasks.size(); ++i) {
      const auto& t = r.validation.tasks[i];
      s += (i ? "," : "") + json_string(t.task) + ":{\"loss\":" + json_number(t.loss);
      for (const auto& v : t.values) s += "," + json_string(v.first) + ":" + json_number(v.second);
      s += "}";
    }
    s += "},\"monitor\":" + json_number(r.monitor);
    if (full) {
      s += ",\"val_meta\":{\"samples\":" + std::to_string(r.validation.samples) + ",\"tasks\":{";
      for (std::size_t i = 0; i < r.validation.tasks.size(); ++i) {
        const auto& t = r.validation.tasks[i];
        s += (i ? "," : "") + json_string(t.task) + ":{\"labelled\":" + std::to_string(t.labelled) +
             ",\"primary\":" + json_string(t.primary) + ",\"higher\":[";
        for (std::size_t k = 0; k < t.higher.size(); ++k)
          s += std::string(k ? "," : "") + (t.higher[k] ? "true" : "false");
        s += "]}";
      }
      s += "}}";
    }
  }
  return s + "}";
}

inline double json_double(const io::JsonValue* v) {
  return (!v || v->is_null()) ? std::nan("") : v->as_number();
}

/// Reads back a record written by `record_json(r, kind, true)`.
inline EpochInfo record_from_json(const io::JsonValue& v) {
  EpochInfo r;
  r.epoch = static_cast<int>(v.find("epoch")->as_int());
  r.step = v.find("step")->as_int();
  r.complete = v.find("complete")->as_bool();
  r.elapsed_seconds = json_double(v.find("elapsed_s"));
  r.lr = json_double(v.find("lr"));
  r.train_total = json_double(v.find("train_loss"));
  for (const auto& m : v.find("train_losses")->as_object()) {
    r.tasks.push_back(m.key);
    r.train_losses.push_back(json_double(&m.value));
  }
  for (const auto& m : v.find("weights")->as_object())
    r.task_weights.push_back(json_double(&m.value));
  const io::JsonValue* val = v.find("val");
  if (val) {
    r.has_validation = true;
    r.monitor = json_double(v.find("monitor"));
    const io::JsonValue* meta = v.find("val_meta");
    if (meta) r.validation.samples = static_cast<std::size_t>(meta->find("samples")->as_int());
    for (const auto& m : val->as_object()) {
      model::TaskMetrics t;
      t.task = m.key;
      for (const auto& mv : m.value.as_object()) {
        if (mv.key == "loss")
          t.loss = json_double(&mv.value);
        else
          t.values.emplace_back(mv.key, json_double(&mv.value));
      }
      const io::JsonValue* tm = meta ? meta->find("tasks")->find(m.key) : nullptr;
      if (tm) {
        t.labelled = static_cast<std::size_t>(tm->find("labelled")->as_int());
        t.primary = tm->find("primary")->as_string();
        for (const auto& h : tm->find("higher")->as_array()) t.higher.push_back(h.as_bool());
      }
      r.validation.tasks.push_back(std::move(t));
    }
  }
  return r;
}

}  // namespace detail

/// Writes training records as CSV and/or JSON lines (one record per line; each is flushed).
///
/// CSV columns: `kind` ("epoch", "partial" for an epoch cut short, or "step"), `epoch`,
/// `step`, `elapsed_s`, `lr`, `train_loss` (mean total), `train_loss/<task>`, `weight/<task>`,
/// then `val/<task>/<metric>` (the validation loss as metric "loss", then the task's metrics). The
/// header is written once: when validation is expected it waits for the first record holding a
/// validation report (earlier records are kept until then), so every column is known. Numbers are
/// written in their shortest exact form; NaN (a task absent from an epoch, a missing value) is an
/// empty cell in CSV and `null` in JSON. In append mode (resuming) an existing CSV header is kept
/// and records follow its columns.
///
/// JSON lines: `{"kind":"epoch","epoch":1,"step":50,"complete":true,"elapsed_s":0.8,
/// "lr":0.001,"train_loss":0.52,"train_losses":{"a":0.3,...},"weights":{"a":1,...},
/// "val":{"a":{"loss":0.31,"mse":0.31,...}},"monitor":0.3}` (`val` and `monitor` only with a
/// validation report).
///
/// @code
/// onestone::train::TrainingLog log;
/// log.open_csv("run/log.csv");
/// log.open_jsonl("run/log.jsonl");
/// log.write(epoch_info);             // one line in each
/// log.close();
/// @endcode
class TrainingLog {
 public:
  TrainingLog() = default;
  TrainingLog(const TrainingLog&) = delete;
  TrainingLog& operator=(const TrainingLog&) = delete;
  ~TrainingLog() {
    try {
      close();
    } catch (...) {
    }
  }

  /// Opens the CSV file (truncated, or appended to when `append`). Throws std::runtime_error
  /// when it cannot be opened.
  void open_csv(const std::string& path, bool append = false) {
    columns_.clear();
    header_done_ = false;
    if (append) {
      std::ifstream in(path);
      std::string first;
      if (in && std::getline(in, first) && !first.empty()) {
        columns_ = detail::split_csv(first);
        header_done_ = true;
      }
    }
    csv_ = std::make_unique<std::ofstream>(path, append ? std::ios::app : std::ios::trunc);
    if (!*csv_) throw std::runtime_error("TrainingLog: cannot open CSV log '" + path + "'");
    csv_path_ = path;
  }
  /// Opens the JSON-lines file (truncated, or appended to when `append`).
  void open_jsonl(const std::string& path, bool append = false) {
    jsonl_ = std::make_unique<std::ofstream>(path, append ? std::ios::app : std::ios::trunc);
    if (!*jsonl_) throw std::runtime_error("TrainingLog: cannot open JSONL log '" + path + "'");
  }
  /// When true the CSV header waits for a record with a validation report.
  void expect_validation(bool on) { expect_validation_ = on; }
  /// Whether a file is open.
  bool is_open() const { return csv_ || jsonl_; }

  /// Writes one record (`kind` is "epoch", "partial" or "step").
  void write(const EpochInfo& r, const char* kind = "epoch") {
    if (jsonl_) {
      *jsonl_ << detail::record_json(r, kind) << '\n';
      jsonl_->flush();
      if (!*jsonl_) throw std::runtime_error("TrainingLog: writing the JSONL log failed");
    }
    if (!csv_) return;
    if (!header_done_ && expect_validation_ && !r.has_validation) {
      pending_.push_back({r, kind});
      return;
    }
    if (!header_done_) write_header(r);
    for (auto& p : pending_) write_row(p.record, p.kind.c_str());
    pending_.clear();
    write_row(r, kind);
  }

  /// Writes what is pending and closes the files.
  void close() {
    if (csv_ && !pending_.empty()) {
      if (!header_done_) write_header(pending_.front().record);
      for (auto& p : pending_) write_row(p.record, p.kind.c_str());
      pending_.clear();
    }
    csv_.reset();
    jsonl_.reset();
  }

  /// The CSV columns (empty before the header is known).
  const std::vector<std::string>& columns() const noexcept { return columns_; }

 private:
  struct Pending {
    EpochInfo record;
    std::string kind;
  };

  void write_header(const EpochInfo& r) {
    columns_ = {"kind", "epoch", "step", "elapsed_s", "lr", "train_loss"};
    for (const auto& t : r.tasks) columns_.push_back("train_loss/" + t);
    for (const auto& t : r.tasks) columns_.push_back("weight/" + t);
    if (r.has_validation)
      for (const auto& t : r.validation.tasks) {
        columns_.push_back("val/" + t.task + "/loss");
        for (const auto& v : t.values) columns_.push_back("val/" + t.task + "/" + v.first);
      }
    std::string line;
    for (std::size_t i = 0; i < columns_.size(); ++i)
      line += (i ? "," : "") + detail::csv_cell(columns_[i]);
    *csv_ << line << '\n';
    header_done_ = true;
  }

  static double task_value(const EpochInfo& r, const std::vector<double>& v,
                           const std::string& task) {
    for (std::size_t i = 0; i < r.tasks.size() && i < v.size(); ++i)
      if (r.tasks[i] == task) return v[i];
    return std::nan("");
  }

  static std::string cell(const EpochInfo& r, const char* kind, const std::string& col) {
    if (col == "kind") return kind;
    if (col == "epoch") return std::to_string(r.epoch);
    if (col == "step") return std::to_string(r.step);
    if (col == "elapsed_s") return detail::log_number(r.elapsed_seconds);
    if (col == "lr") return detail::log_number(r.lr);
    if (col == "train_loss") return detail::log_number(r.train_total);
    if (col.rfind("train_loss/", 0) == 0)
      return detail::log_number(task_value(r, r.train_losses, col.substr(11)));
    if (col.rfind("weight/", 0) == 0)
      return detail::log_number(task_value(r, r.task_weights, col.substr(7)));
    if (col.rfind("val/", 0) == 0 && r.has_validation) {
      const std::string rest = col.substr(4);
      const std::size_t slash = rest.rfind('/');
      if (slash == std::string::npos) return std::string();
      const std::string task = rest.substr(0, slash), metric = rest.substr(slash + 1);
      for (const auto& t : r.validation.tasks)
        if (t.task == task && t.has(metric)) return detail::log_number(t.get(metric));
    }
    return std::string();
  }

  void write_row(const EpochInfo& r, const char* kind) {
    std::string line;
    for (std::size_t i = 0; i < columns_.size(); ++i)
      line += (i ? "," : "") + detail::csv_cell(cell(r, kind, columns_[i]));
    *csv_ << line << '\n';
    csv_->flush();
    if (!*csv_)
      throw std::runtime_error("TrainingLog: writing the CSV log '" + csv_path_ + "' failed");
  }

  std::unique_ptr<std::ofstream> csv_, jsonl_;
  std::string csv_path_;
  std::vector<std::string> columns_;
  bool header_done_ = false;
  bool expect_validation_ = false;
  std::vector<Pending> pending_;
};

}  // namespace train
}  // namespace onestone
