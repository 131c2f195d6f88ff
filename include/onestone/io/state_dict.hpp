#pragma once
/// @file state_dict.hpp
/// PyTorch-style state dicts: a module's parameters and buffers by name, loaded from and saved
/// to safetensors files (what `safetensors.torch.save_file(model.state_dict(), path)` writes and
/// `model.load_state_dict(load_file(path))` reads), with a `NameMap` between the file's names
/// and the module's, and a strict report in one message as `torch.nn.Module.load_state_dict`.

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/io/safetensors.hpp"
#include "onestone/nn/module.hpp"

namespace onestone::io {

/// How the names in a file relate to a module's names (`module.named_parameters()` and
/// `named_buffers()`), in both directions: `to_module` for loading, `to_file` for saving.
///
/// Rules, tried in this order: exact renames; the functions (if set); the longest matching
/// prefix rule. A name no rule matches stays as it is. `ignore` drops file tensors on load
/// (exact names, or any name ending in ".<suffix>" for `ignore_suffix`).
///
/// Example: a PyTorch model with `self.trunk` and `self.heads = nn.ModuleDict(...)`, loaded into
/// a hard-sharing `MultiTaskModel` (whose trunk is `strategy.trunk`):
/// @code
/// auto map = onestone::io::NameMap()
///                .prefix("trunk.", "strategy.trunk.")   // file "trunk.fc0.weight" ↔ module
///                .strip_prefix("module.")               // nn.DataParallel's wrapper
///                .ignore_suffix("num_batches_tracked");
/// @endcode
class NameMap {
 public:
  using Fn = std::function<std::string(const std::string&)>;

  /// File names starting with `file_prefix` correspond to module names starting with
  /// `module_prefix` (the rest is the same).
  NameMap& prefix(std::string file_prefix, std::string module_prefix) {
    prefixes_.emplace_back(std::move(file_prefix), std::move(module_prefix));
    return *this;
  }
  /// File names carry `file_prefix` that the module's names lack ("module." of DataParallel).
  NameMap& strip_prefix(std::string file_prefix) { return prefix(std::move(file_prefix), ""); }
  /// Module names get `module_prefix` that the file's lack (loading a trunk's file into a model).
  NameMap& add_prefix(std::string module_prefix) { return prefix("", std::move(module_prefix)); }
  /// One file name ↔ one module name.
  NameMap& rename(std::string file_name, std::string module_name) {
    renames_.emplace_back(std::move(file_name), std::move(module_name));
    return *this;
  }
  /// Arbitrary mappings: `to_module` for loading and `to_file` for saving (either may be
  /// empty; an empty result from `to_module` ignores the tensor).
  NameMap& function(Fn to_module, Fn to_file = Fn()) {
    to_module_ = std::move(to_module);
    to_file_ = std::move(to_file);
    return *this;
  }
  /// Ignore the file tensor `file_name` on load.
  NameMap& ignore(std::string file_name) {
    ignored_.insert(std::move(file_name));
    return *this;
  }
  /// Ignore every file tensor whose last name component is `suffix` on load.
  NameMap& ignore_suffix(std::string suffix) {
    ignored_suffixes_.push_back(std::move(suffix));
    return *this;
  }

  /// The module name of file tensor `file_name`, or "" if it is ignored.
  std::string to_module(const std::string& file_name) const {
    if (ignored_.count(file_name)) return "";
    for (const auto& s : ignored_suffixes_)
      if (file_name == s || ends_with(file_name, "." + s)) return "";
    for (const auto& r : renames_)
      if (r.first == file_name) return r.second;
    if (to_module_) return to_module_(file_name);
    return apply_prefix(file_name, true);
  }
  /// The file name of module tensor `module_name`.
  std::string to_file(const std::string& module_name) const {
    for (const auto& r : renames_)
      if (r.second == module_name) return r.first;
    if (to_file_) return to_file_(module_name);
    return apply_prefix(module_name, false);
  }

 private:
  static bool starts_with(const std::string& s, const std::string& p) {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
  }
  static bool ends_with(const std::string& s, const std::string& p) {
    return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
  }
  std::string apply_prefix(const std::string& name, bool file_to_module) const {
    const std::pair<std::string, std::string>* best = nullptr;
    for (const auto& pr : prefixes_) {
      const std::string& from = file_to_module ? pr.first : pr.second;
      if (!starts_with(name, from)) continue;
      const std::size_t cur = best ? (file_to_module ? best->first : best->second).size() : 0;
      if (!best || from.size() > cur) best = &pr;
    }
    if (!best) return name;
    const std::string& from = file_to_module ? best->first : best->second;
    const std::string& to = file_to_module ? best->second : best->first;
    return to + name.substr(from.size());
  }

  std::vector<std::pair<std::string, std::string>> prefixes_, renames_;
  std::set<std::string> ignored_;
  std::vector<std::string> ignored_suffixes_;
  Fn to_module_, to_file_;
};

/// Options of `load_state_dict`: the name map and strictness (default strict, as PyTorch).
struct StateDictOptions {
  StateDictOptions& names(NameMap m) {
    names_ = std::move(m);
    return *this;
  }
  /// Strict (default): every module tensor must get a file tensor and every file tensor must
  /// have a module tensor. Non-strict: those are reported in the `LoadReport` instead. Shape and
  /// dtype mismatches are errors in both modes.
  StateDictOptions& strict(bool s) {
    strict_ = s;
    return *this;
  }
  NameMap names_;
  bool strict_ = true;
};

/// The module's tensors by name: parameters then buffers (the order of
/// `named_parameters()`, `named_buffers()`).
template <class T>
std::vector<std::pair<std::string, Tensor<T>*>> state_tensors(const nn::Module<T>& module) {
  std::vector<std::pair<std::string, Tensor<T>*>> out;
  for (const auto& np : module.named_parameters()) out.emplace_back(np.first, &np.second->value());
  for (const auto& nb : module.named_buffers()) out.emplace_back(nb.first, nb.second);
  return out;
}

/// Loads a state dict saved as safetensors (PyTorch: `safetensors.torch.save_file(
/// model.state_dict(), path)`) into `module`, all or nothing.
///
/// Every file name goes through `options.names_.to_module`. Everything is checked before any
/// value is copied; on a problem it throws std::runtime_error with one message listing every
/// missing key (module tensors without a file tensor), every unexpected key (file tensors
/// without a module tensor; strict mode only), every shape mismatch (both shapes) and every
/// dtype that does not convert, and the module is unchanged. Returns what was loaded, missing
/// and unexpected (the last two non-empty only when not strict).
///
/// @code
/// auto rep = onestone::io::load_state_dict(model, "model.safetensors",
///     onestone::io::StateDictOptions().names(onestone::io::NameMap().prefix("trunk.",
///                                                                   "strategy.trunk.")));
/// @endcode
template <class T>
LoadReport load_state_dict(nn::Module<T>& module, const std::string& path,
                           const StateDictOptions& options = StateDictOptions()) {
  const std::map<std::string, SafeTensor> file = read_safetensors(path);
  const auto mine = state_tensors(module);
  std::map<std::string, Tensor<T>*> by_name;
  for (const auto& m : mine) by_name[m.first] = m.second;

  LoadReport report;
  std::vector<std::string> missing, unexpected, mismatched;
  std::map<std::string, std::pair<std::string, const SafeTensor*>> source;  // module ← file
  for (const auto& kv : file) {
    const std::string target = options.names_.to_module(kv.first);
    if (target.empty()) continue;
    const auto it = by_name.find(target);
    if (it == by_name.end()) {
      unexpected.push_back(kv.first == target ? "'" + kv.first + "'"
                                              : "'" + kv.first + "' (as '" + target + "')");
      continue;
    }
    const auto dup = source.find(target);
    if (dup != source.end()) {
      mismatched.push_back("file tensors '" + dup->second.first + "' and '" + kv.first +
                           "' both map to '" + target + "'");
      continue;
    }
    source[target] = {kv.first, &kv.second};
  }
  std::vector<std::pair<Tensor<T>*, const SafeTensor*>> plan;
  for (const auto& m : mine) {
    const auto it = source.find(m.first);
    if (it == source.end()) {
      missing.push_back("'" + m.first + "' " + m.second->shape().str());
      report.missing.push_back(m.first);
      continue;
    }
    const std::string problem = detail::load_problem<T>(it->second.first, *it->second.second,
                                                        m.second->shape(), "'" + m.first + "'");
    if (!problem.empty()) {
      mismatched.push_back(problem);
      continue;
    }
    plan.emplace_back(m.second, it->second.second);
    report.loaded.push_back(m.first);
  }
  for (const auto& kv : file) {
    const std::string target = options.names_.to_module(kv.first);
    if (!target.empty() && !by_name.count(target)) report.unexpected.push_back(kv.first);
  }
  const bool fail =
      !mismatched.empty() || (options.strict_ && (!missing.empty() || !unexpected.empty()));
  if (fail) {
    std::string msg = "load_state_dict: '" + path + "' does not fit the module (" + module.name() +
                      "); the module was not changed.";
    auto list = [&](const char* what, const std::vector<std::string>& v) {
      if (v.empty()) return;
      msg += "\n" + std::string(what) + " (" + std::to_string(v.size()) + "):";
      for (std::size_t i = 0; i < v.size() && i < 50; ++i) msg += "\n  " + v[i];
      if (v.size() > 50) msg += "\n  ... and " + std::to_string(v.size() - 50) + " more";
    };
    if (options.strict_) {
      list("missing keys, module tensors without a file tensor", missing);
      list("unexpected keys, file tensors without a module tensor", unexpected);
    }
    list("mismatched tensors", mismatched);
    throw std::runtime_error(msg);
  }
  std::vector<Tensor<T>> values;
  values.reserve(plan.size());
  for (const auto& step : plan) values.push_back(to_tensor<T>(*step.second));
  for (std::size_t i = 0; i < plan.size(); ++i)
    std::copy(values[i].data(), values[i].data() + values[i].numel(), plan[i].first->data());
  return report;
}

/// Saves `module`'s state dict (parameters and buffers) as safetensors, each name through
/// `names.to_file`, so that the matching PyTorch module loads it with
/// `model.load_state_dict(safetensors.torch.load_file(path))`. F32 for float, F64 for double
/// (`.float()` in PyTorch for a double model). Atomic: a failed save leaves the old file.
///
/// @code
/// onestone::io::save_state_dict(model, "for_pytorch.safetensors",
///                               onestone::io::NameMap().prefix("trunk.", "strategy.trunk."));
/// @endcode
template <class T>
void save_state_dict(const nn::Module<T>& module, const std::string& path,
                     const NameMap& names = NameMap(),
                     const std::map<std::string, std::string>& metadata = {},
                     const AtomicWriteOptions& options = AtomicWriteOptions()) {
  std::map<std::string, SafeTensor> tensors;
  std::map<std::string, std::string> origin;
  for (const auto& m : state_tensors(module)) {
    const std::string f = names.to_file(m.first);
    if (f.empty())
      throw std::invalid_argument("save_state_dict: the name map gives no file name for '" +
                                  m.first + "'");
    const auto ins = origin.emplace(f, m.first);
    if (!ins.second)
      throw std::invalid_argument("save_state_dict: '" + ins.first->second + "' and '" + m.first +
                                  "' both map to the file name '" + f + "'");
    tensors[f] = to_safetensor(*m.second);
  }
  write_safetensors(path, tensors, metadata, options);
}

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXPLICIT(IO_FLOAT,
                  LoadReport load_state_dict<float>(nn::Module<float>&, const std::string&,
                                                    const StateDictOptions&))
ONESTONE_EXPLICIT(IO_DOUBLE,
                  LoadReport load_state_dict<double>(nn::Module<double>&, const std::string&,
                                                     const StateDictOptions&))
ONESTONE_EXPLICIT(IO_FLOAT, void save_state_dict<float>(const nn::Module<float>&,
                                                        const std::string&, const NameMap&,
                                                        const std::map<std::string, std::string>&,
                                                        const AtomicWriteOptions&))
ONESTONE_EXPLICIT(IO_DOUBLE, void save_state_dict<double>(const nn::Module<double>&,
                                                          const std::string&, const NameMap&,
                                                          const std::map<std::string, std::string>&,
                                                          const AtomicWriteOptions&))

}  // namespace onestone::io
