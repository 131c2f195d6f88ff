#pragma once
/// @file options.hpp
/// `MethodOptions`: named hyper-parameters of a balancing method ("c=0.4,rescale=1"), read by
/// the registry's factories; every key given must be used by the method, else the factory
/// throws naming the keys the method accepts.

#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"

namespace onestone {
namespace weighting {

/// Hyper-parameters of a balancing method by name: numbers or words.
///
/// @code
/// auto o = onestone::weighting::MethodOptions::parse("c=0.4,rescale=none");
/// auto b = onestone::weighting::make_balancer<float>("cagrad", o);
/// auto p = onestone::weighting::MethodOptions().set("alpha", 2.0);   // programmatic
/// @endcode
class MethodOptions {
 public:
  MethodOptions() = default;
  /// Sets a numeric option.
  MethodOptions& set(const std::string& key, double value) {
    values_[key] = std::to_string(value);
    return *this;
  }
  /// Sets a word option (e.g. "rescale" = "none").
  MethodOptions& set(const std::string& key, const std::string& value) {
    values_[key] = value;
    return *this;
  }
  MethodOptions& set(const std::string& key, const char* value) {
    return set(key, std::string(value));
  }
  /// Parses "key=value,key=value" (spaces allowed around the separators).
  static MethodOptions parse(const std::string& text);
  bool empty() const { return values_.empty(); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  /// The number under `key`, or `fallback` when absent; throws when it is not a number.
  double number(const std::string& key, double fallback) const;
  /// The word under `key`, or `fallback`; throws unless it is one of `allowed` (when given).
  std::string word(const std::string& key, const std::string& fallback,
                   const std::vector<std::string>& allowed = {}) const;
  /// Throws std::invalid_argument when an option was given that the method did not read.
  void check_all_used(const std::string& method) const;
  /// "key=value,..." (sorted by key).
  std::string str() const {
    std::string s;
    for (const auto& kv : values_) s += (s.empty() ? "" : ",") + kv.first + "=" + kv.second;
    return s;
  }

 private:
  static std::string trim(const std::string& s) {
    const std::size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
  }
  std::map<std::string, std::string> values_;
  mutable std::set<std::string> accepted_;
};

#if ONESTONE_DEFINE_FUNCTIONS
ONESTONE_FUNC MethodOptions MethodOptions::parse(const std::string& text) {
  MethodOptions o;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string item = trim(text.substr(pos, end - pos));
    if (!item.empty()) {
      const std::size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
        throw std::invalid_argument("MethodOptions: '" + item + "' in '" + text +
                                    "' is not key=value");
      o.values_[trim(item.substr(0, eq))] = trim(item.substr(eq + 1));
    }
    pos = end + 1;
  }
  return o;
}

ONESTONE_FUNC double MethodOptions::number(const std::string& key, double fallback) const {
  accepted_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0')
    throw std::invalid_argument("MethodOptions: option '" + key + "' = '" + it->second +
                                "' is not a number");
  return v;
}

ONESTONE_FUNC std::string MethodOptions::word(const std::string& key, const std::string& fallback,
                                              const std::vector<std::string>& allowed) const {
  accepted_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (!allowed.empty()) {
    bool ok = false;
    std::string list;
    for (const auto& a : allowed) {
      ok = ok || a == it->second;
      list += (list.empty() ? "" : ", ") + a;
    }
    if (!ok)
      throw std::invalid_argument("MethodOptions: option '" + key + "' = '" + it->second +
                                  "' is not one of " + list);
  }
  return it->second;
}

ONESTONE_FUNC void MethodOptions::check_all_used(const std::string& method) const {
  for (const auto& kv : values_)
    if (!accepted_.count(kv.first)) {
      std::string list;
      for (const auto& a : accepted_) list += (list.empty() ? "" : ", ") + a;
      throw std::invalid_argument(
          "make_balancer: method '" + method + "' has no option '" + kv.first +
          "' (its options: " + (list.empty() ? std::string("none") : list) + ")");
    }
}
#endif  // ONESTONE_DEFINE_FUNCTIONS

}  // namespace weighting
}  // namespace onestone
