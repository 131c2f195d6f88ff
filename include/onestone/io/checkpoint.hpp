#pragma once
/// @file checkpoint.hpp
/// Training checkpoints in one safetensors file: model parameters, optimizer state, and the
/// scalars needed to resume bit for bit (optimizer step count and learning rate, scheduler
/// position, data loader position, generator states, a user step counter, user metadata).

#include <charconv>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/loader.hpp"
#include "onestone/io/atomic_file.hpp"
#include "onestone/io/safetensors.hpp"
#include "onestone/nn/extra_state.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/optim/optimizer.hpp"
#include "onestone/optim/scheduler.hpp"
#include "onestone/tensor/generator.hpp"

namespace onestone::io {

/// What a checkpoint saves and restores: pointers to the live training objects plus a user
/// step counter and user metadata.
///
/// @tparam T element type of the model, optimizer, scheduler and data loader.
///
/// Fields (all pointers are borrowed; null means "not part of this checkpoint"):
/// - `model` (required): its `named_parameters()` and `named_buffers()` are stored as tensors
///   "model.<name>", and
///   the extra state of each of its modules (`nn::Module::get_extra_state`: a balancing
///   method's loss history, moving averages, generators, warm starts) under "extra.*",
///   "extra_int.*" and "extra_rng.*".
/// - `optimizer`: its `state_tensors()` are stored as "optim.<name>"; its name, step count and
///   learning rate as metadata.
/// - `scheduler`: its position (`count()`).
/// - `loader`: its position (`state()`: epoch, cursor and generator state).
/// - `generators`: the full state of each generator, in order (e.g. `&default_generator()`
///   for dropout, or generators of your own).
/// - `step`: a counter of yours (global step, epoch, ...): saved, and set by loading.
/// - `metadata`: strings of yours: saved, and replaced by the file's on loading.
///
/// The file is an ordinary safetensors file; scalars live in "__metadata__" as decimal strings
/// (doubles in the shortest form that reads back bit-identically), so resuming from a
/// checkpoint continues exactly as if training had never stopped.
///
/// @code
/// onestone::io::CheckpointState<float> ckpt(model, optimizer);
/// ckpt.scheduler = &scheduler;
/// ckpt.loader = &loader;
/// ckpt.generators = {&onestone::default_generator()};
/// ckpt.step = global_step;
/// onestone::io::save_checkpoint("run/last.safetensors", ckpt);
/// // ... later, with freshly built objects wired the same way:
/// onestone::io::load_checkpoint("run/last.safetensors", ckpt);
/// global_step = ckpt.step;
/// @endcode
template <class T>
struct CheckpointState {
  CheckpointState() = default;
  /// A state covering `model` and `optimizer`; add the rest through the fields.
  CheckpointState(nn::Module<T>& model_, optim::Optimizer<T>& optimizer_)
      : model(&model_), optimizer(&optimizer_) {}

  nn::Module<T>* model = nullptr;
  optim::Optimizer<T>* optimizer = nullptr;
  optim::LRScheduler<T>* scheduler = nullptr;
  data::DataLoader<T>* loader = nullptr;
  std::vector<Generator*> generators;
  std::int64_t step = 0;
  std::map<std::string, std::string> metadata;
};

/// The user part of a checkpoint, returned by the positional `load_checkpoint`: the step
/// counter and the user metadata.
///
/// @code
/// auto info = onestone::io::load_checkpoint("last.safetensors", model, optimizer);
/// std::int64_t resume_at = info.step;
/// @endcode
struct CheckpointInfo {
  std::int64_t step = 0;
  std::map<std::string, std::string> metadata;
};

namespace detail {

/// Metadata key and value of the checkpoint format marker.
inline const char* const kCheckpointFormatKey = "format";
inline const char* const kCheckpointFormat = "onestone.checkpoint";
inline const char* const kCheckpointVersionKey = "format_version";
inline const char* const kCheckpointVersion = "1";

/// Shortest decimal form of `d` that reads back to the same bits (locale independent).
inline std::string format_double(double d) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

/// Parses all of `s` as a T (integer or double) with std::from_chars; false on any leftover.
template <class N>
bool parse_number(const std::string& s, N& out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

/// "s0 s1 s2 s3" / spare / has_spare entries of a generator state under `prefix`.
ONESTONE_FUNC void put_generator_state(std::map<std::string, std::string>& meta,
                                       const std::string& prefix, const Generator::State& st)
#if ONESTONE_DEFINE_FUNCTIONS
{
  meta[prefix + ".state"] = std::to_string(st.s[0]) + " " + std::to_string(st.s[1]) + " " +
                            std::to_string(st.s[2]) + " " + std::to_string(st.s[3]);
  meta[prefix + ".spare"] = format_double(st.spare);
  meta[prefix + ".has_spare"] = st.has_spare ? "1" : "0";
}
#else
    ;
#endif

/// Reads the metadata of a checkpoint, collecting problems instead of throwing.
class MetaReader {
 public:
  MetaReader(const std::map<std::string, std::string>& meta, std::vector<std::string>& problems)
      : meta_(meta), problems_(problems) {}

  const std::string* get(const std::string& key) {
    const auto it = meta_.find(key);
    if (it != meta_.end()) return &it->second;
    problems_.push_back("metadata \"" + key + "\" is missing");
    return nullptr;
  }
  template <class N>
  bool number(const std::string& key, N& out) {
    const std::string* s = get(key);
    if (!s) return false;
    if (parse_number(*s, out)) return true;
    problems_.push_back("metadata \"" + key + "\" = \"" + *s + "\" is not a valid " +
                        (std::is_floating_point_v<N> ? "number" : "integer"));
    return false;
  }
  bool generator_state(const std::string& prefix, Generator::State& st) {
    const std::string* words = get(prefix + ".state");
    bool ok = words != nullptr;
    if (words) {
      std::size_t pos = 0;
      for (int i = 0; i < 4 && ok; ++i) {
        const std::size_t sp = words->find(' ', pos);
        const std::string w =
            words->substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
        ok = parse_number(w, st.s[i]) && ((i < 3) == (sp != std::string::npos));
        pos = sp == std::string::npos ? words->size() : sp + 1;
      }
      if (!ok)
        problems_.push_back("metadata \"" + prefix + ".state\" = \"" + *words +
                            "\" is not four unsigned 64-bit words");
    }
    ok = number(prefix + ".spare", st.spare) && ok;
    const std::string* has = get(prefix + ".has_spare");
    if (has && *has != "0" && *has != "1") {
      problems_.push_back("metadata \"" + prefix + ".has_spare\" = \"" + *has + "\" is not 0 or 1");
      ok = false;
    }
    st.has_spare = has && *has == "1";
    return ok && has;
  }

 private:
  const std::map<std::string, std::string>& meta_;
  std::vector<std::string>& problems_;
};

/// Name prefixes of module extra state (see `nn::Module::get_extra_state`): arrays are F64
/// tensors "extra.<module path>.<key>" of shape {rows, cols}; integers are metadata
/// "extra_int.<module path>.<key>"; generators are metadata "extra_rng.<module path>.<key>.*".
inline const char* const kExtraArray = "extra.";
inline const char* const kExtraInt = "extra_int.";
inline const char* const kExtraRng = "extra_rng.";

inline std::string extra_name(const char* prefix, const std::string& path, const std::string& key) {
  return std::string(prefix) + (path.empty() ? key : path + "." + key);
}

/// Splits "<path>.<key>" (the key has no '.'; the root module's path is empty).
inline std::pair<std::string, std::string> split_extra(const std::string& rest) {
  const std::size_t dot = rest.rfind('.');
  if (dot == std::string::npos) return {std::string(), rest};
  return {rest.substr(0, dot), rest.substr(dot + 1)};
}

/// Adds the extra state `es` of the module at `path` to a checkpoint being written.
ONESTONE_FUNC void put_extra_state(std::map<std::string, SafeTensor>& tensors,
                                   std::map<std::string, std::string>& meta,
                                   const std::string& path, const nn::ExtraState& es)
#if ONESTONE_DEFINE_FUNCTIONS
{
  for (const auto& kv : es.arrays()) {
    Tensor<double> t(Shape{kv.second.rows, kv.second.cols});
    std::copy(kv.second.data.begin(), kv.second.data.end(), t.data());
    tensors[extra_name(kExtraArray, path, kv.first)] = to_safetensor(t);
  }
  for (const auto& kv : es.ints())
    meta[extra_name(kExtraInt, path, kv.first)] = std::to_string(kv.second);
  for (const auto& kv : es.generators())
    put_generator_state(meta, extra_name(kExtraRng, path, kv.first), kv.second);
}
#else
    ;
#endif

/// Non-deduced context for the positional overloads (so `nullptr` can be passed).
template <class U>
struct Identity {
  using type = U;
};

}  // namespace detail

/// Saves `state` to the safetensors file at `path`, atomically (the previous checkpoint stays
/// intact until the new one is complete and synced).
///
/// Tensors: "model.<parameter name>" and "optim.<state name>" (F32 for float, F64 for double).
/// Metadata: "format" = "onestone.checkpoint", "format_version", "dtype", "optimizer" (name),
/// "optimizer.step_count", "optimizer.lr", "scheduler.count", "loader.epoch", "loader.cursor",
/// "loader.rng.*", "generators" (count), "generator.<i>.state" (four u64 words),
/// "generator.<i>.spare", "generator.<i>.has_spare", "step", and "user.<key>" for each
/// user metadata entry. Throws std::invalid_argument when `state.model` is null, and
/// std::runtime_error on I/O errors.
///
/// @code
/// onestone::io::CheckpointState<double> ckpt(model, adam);
/// ckpt.step = 1000;
/// onestone::io::save_checkpoint("ckpt.safetensors", ckpt);
/// @endcode
template <class T>
void save_checkpoint(const std::string& path, const CheckpointState<T>& state,
                     const AtomicWriteOptions& options = AtomicWriteOptions()) {
  if (!state.model)
    throw std::invalid_argument("save_checkpoint: '" + path + "': CheckpointState::model is null");
  std::map<std::string, SafeTensor> tensors;
  std::map<std::string, std::string> meta;
  meta[detail::kCheckpointFormatKey] = detail::kCheckpointFormat;
  meta[detail::kCheckpointVersionKey] = detail::kCheckpointVersion;
  meta["dtype"] = safetensors_dtype_of<T>();
  for (const auto& np : state.model->named_parameters())
    tensors["model." + np.first] = to_safetensor(np.second->value());
  for (const auto& nb : state.model->named_buffers())
    tensors["model." + nb.first] = to_safetensor(*nb.second);
  for (const auto& nm : state.model->named_modules()) {
    nn::ExtraState es(nm.first);
    nm.second->get_extra_state(es);
    detail::put_extra_state(tensors, meta, nm.first, es);
  }
  if (state.optimizer) {
    for (const auto& ns : state.optimizer->state_tensors())
      tensors["optim." + ns.first] = to_safetensor(*ns.second);
    meta["optimizer"] = state.optimizer->name();
    meta["optimizer.step_count"] = std::to_string(state.optimizer->step_count());
    meta["optimizer.lr"] = detail::format_double(state.optimizer->lr());
  }
  if (state.scheduler) meta["scheduler.count"] = std::to_string(state.scheduler->count());
  if (state.loader) {
    const auto st = state.loader->state();
    meta["loader.epoch"] = std::to_string(st.epoch);
    meta["loader.cursor"] = std::to_string(st.cursor);
    detail::put_generator_state(meta, "loader.rng", st.rng);
  }
  meta["generators"] = std::to_string(state.generators.size());
  for (std::size_t i = 0; i < state.generators.size(); ++i) {
    if (!state.generators[i])
      throw std::invalid_argument("save_checkpoint: '" + path + "': generator " +
                                  std::to_string(i) + " is null");
    detail::put_generator_state(meta, "generator." + std::to_string(i),
                                state.generators[i]->state());
  }
  meta["step"] = std::to_string(state.step);
  for (const auto& kv : state.metadata) meta["user." + kv.first] = kv.second;
  write_safetensors(path, tensors, meta, options);
}

/// Restores `state` from the checkpoint at `path`, all or nothing.
///
/// Everything is validated before anything changes: the file itself (see `read_safetensors`),
/// the format marker, one tensor per model parameter and per optimizer state tensor with the
/// same shape and a convertible dtype and no unknown tensor, the optimizer's name, and every
/// scalar the non-null fields need (a scheduler needs "scheduler.count", a loader a position
/// that fits its dataset, and the number of generators must match). On any problem it throws
/// std::runtime_error listing all of them, and no object is modified. Then it copies the
/// values, sets the optimizer's step count, the scheduler's position, the optimizer's learning
/// rate (exactly as saved), the loader's position and the generators' states, and fills
/// `state.step` and `state.metadata` (the "user.*" entries, without the prefix).
/// A null optimizer, scheduler or loader is skipped (e.g. to load only the model weights).
///
/// @code
/// onestone::io::CheckpointState<double> ckpt(model, adam);
/// onestone::io::load_checkpoint("ckpt.safetensors", ckpt);   // ckpt.step == 1000
/// @endcode
template <class T>
void load_checkpoint(const std::string& path, CheckpointState<T>& state) {
  if (!state.model)
    throw std::invalid_argument("load_checkpoint: '" + path + "': CheckpointState::model is null");
  for (std::size_t i = 0; i < state.generators.size(); ++i)
    if (!state.generators[i])
      throw std::invalid_argument("load_checkpoint: '" + path + "': generator " +
                                  std::to_string(i) + " is null");
  std::map<std::string, std::string> meta;
  const auto tensors = read_safetensors(path, &meta);
  std::vector<std::string> problems;
  const auto fmt = meta.find(detail::kCheckpointFormatKey);
  if (fmt == meta.end() || fmt->second != detail::kCheckpointFormat)
    throw std::runtime_error("load_checkpoint: '" + path +
                             "' is a safetensors file but not an onestone checkpoint (its "
                             "metadata has no \"format\": \"onestone.checkpoint\")");
  const auto ver = meta.find(detail::kCheckpointVersionKey);
  if (ver == meta.end() || ver->second != detail::kCheckpointVersion)
    throw std::runtime_error("load_checkpoint: '" + path + "': unsupported format_version \"" +
                             (ver == meta.end() ? std::string() : ver->second) + "\" (expected \"" +
                             detail::kCheckpointVersion + "\")");
  detail::MetaReader reader(meta, problems);

  // Tensors: plan every copy, checking names, shapes and dtypes.
  std::vector<std::pair<Tensor<T>*, const SafeTensor*>> plan;
  std::set<std::string> expected;
  const auto want = [&](const std::string& name, Tensor<T>& dest, const std::string& what) {
    expected.insert(name);
    const auto it = tensors.find(name);
    if (it == tensors.end()) {
      problems.push_back(what + " of shape " + dest.shape().str() + " has no tensor '" + name +
                         "' in the checkpoint");
      return;
    }
    const std::string p = detail::load_problem<T>(name, it->second, dest.shape(), what);
    if (p.empty())
      plan.emplace_back(&dest, &it->second);
    else
      problems.push_back(p);
  };
  for (const auto& np : state.model->named_parameters())
    want("model." + np.first, np.second->value(), "parameter '" + np.first + "'");
  for (const auto& nb : state.model->named_buffers())
    want("model." + nb.first, *nb.second, "buffer '" + nb.first + "'");

  std::int64_t step_count = 0;
  double lr = 0;
  if (state.optimizer) {
    if (const std::string* name = reader.get("optimizer"))
      if (*name != state.optimizer->name())
        problems.push_back("the checkpoint's optimizer is " + *name + ", this one is " +
                           state.optimizer->name());
    for (const auto& ns : state.optimizer->state_tensors())
      want("optim." + ns.first, *ns.second, "optimizer state '" + ns.first + "'");
    if (reader.number("optimizer.step_count", step_count) && step_count < 0)
      problems.push_back("metadata \"optimizer.step_count\" is negative");
    if (reader.number("optimizer.lr", lr) && !(lr >= 0))
      problems.push_back("metadata \"optimizer.lr\" is not a learning rate >= 0");
  }
  for (const auto& kv : tensors) {
    const std::string& n = kv.first;
    const bool model_part = n.rfind("model.", 0) == 0;
    const bool optim_part = n.rfind("optim.", 0) == 0;
    if (expected.count(n) || (optim_part && !state.optimizer)) continue;
    if (n.rfind(detail::kExtraArray, 0) == 0) continue;  // module extra state, below
    problems.push_back("tensor '" + n + "' (data at byte offset " +
                       std::to_string(kv.second.file_offset) + ") " +
                       (model_part   ? std::string("matches no parameter or buffer of the model")
                        : optim_part ? std::string("matches no state tensor of the optimizer")
                                     : std::string("is not part of an onestone checkpoint")));
  }

  std::int64_t sched_count = 0;
  if (state.scheduler && reader.number("scheduler.count", sched_count)) {
    const double sched_lr = sched_count >= 0 ? state.scheduler->lr_at(sched_count) : -1.0;
    if (!(sched_lr >= 0))
      problems.push_back("metadata \"scheduler.count\" = " + std::to_string(sched_count) +
                         " gives no valid learning rate for this scheduler");
  }

  typename data::DataLoader<T>::State loader_state;
  if (state.loader) {
    // Read every field (no short-circuit) so that all problems are reported at once.
    const bool epoch_ok = reader.number("loader.epoch", loader_state.epoch);
    const bool cursor_ok = reader.number("loader.cursor", loader_state.cursor);
    const bool rng_ok = reader.generator_state("loader.rng", loader_state.rng);
    const bool ok = epoch_ok && cursor_ok && rng_ok;
    const Index n = state.loader->dataset().size();
    if (ok && (loader_state.cursor < 0 || loader_state.cursor > n ||
               (loader_state.epoch == 0 && loader_state.cursor != 0)))
      problems.push_back("data loader cursor " + std::to_string(loader_state.cursor) +
                         " of epoch " + std::to_string(loader_state.epoch) +
                         " does not fit a dataset of " + std::to_string(n) + " samples");
  }

  std::vector<Generator::State> gen_states(state.generators.size());
  if (!state.generators.empty()) {
    std::uint64_t count = 0;
    if (reader.number("generators", count)) {
      if (count != state.generators.size())
        problems.push_back("the checkpoint holds " + std::to_string(count) + " generator states, " +
                           std::to_string(state.generators.size()) + " generators were given");
      else
        for (std::size_t i = 0; i < gen_states.size(); ++i)
          reader.generator_state("generator." + std::to_string(i), gen_states[i]);
    }
  }
  std::int64_t user_step = 0;
  reader.number("step", user_step);

  // Module extra state (balancer histories, generators, ...): gathered per module path.
  const auto modules = state.model->named_modules();
  std::map<std::string, nn::ExtraState> extra;
  const auto module_known = [&](const std::string& p) {
    for (const auto& nm : modules)
      if (nm.first == p) return true;
    return false;
  };
  const auto extra_of = [&](const std::string& p) -> nn::ExtraState& {
    auto it = extra.find(p);
    if (it == extra.end()) it = extra.emplace(p, nn::ExtraState(p)).first;
    return it->second;
  };
  for (const auto& kv : tensors) {
    if (kv.first.rfind(detail::kExtraArray, 0) != 0) continue;
    const auto pk = detail::split_extra(kv.first.substr(std::string(detail::kExtraArray).size()));
    const SafeTensor& st = kv.second;
    const std::string at =
        "tensor '" + kv.first + "' (data at byte offset " + std::to_string(st.file_offset) + ")";
    if (!module_known(pk.first)) {
      problems.push_back(at + " is extra state of a module '" + pk.first +
                         "' that this model does not have");
      continue;
    }
    if (st.shape.size() != 2 || (st.dtype != "F64" && st.dtype != "F32")) {
      problems.push_back(at + " is not a 2-D F64 or F32 array");
      continue;
    }
    nn::ExtraState::Array a;
    a.rows = st.shape[0];
    a.cols = st.shape[1];
    const Tensor<double> values = to_tensor<double>(st);
    a.data.assign(values.data(), values.data() + values.numel());
    try {
      extra_of(pk.first).put_array(pk.second, std::move(a));
    } catch (const std::exception& e) {
      problems.push_back(at + ": " + e.what());
    }
  }
  for (const auto& kv : meta) {
    const bool is_int = kv.first.rfind(detail::kExtraInt, 0) == 0;
    const bool is_rng = kv.first.rfind(detail::kExtraRng, 0) == 0;
    if (!is_int && !is_rng) continue;
    std::string rest =
        kv.first.substr(std::string(is_int ? detail::kExtraInt : detail::kExtraRng).size());
    if (is_rng) {
      // One generator is three entries; handle it at its ".state" entry.
      const std::string suffix = ".state";
      if (rest.size() <= suffix.size() ||
          rest.compare(rest.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      rest.resize(rest.size() - suffix.size());
    }
    const auto pk = detail::split_extra(rest);
    if (!module_known(pk.first)) {
      problems.push_back("metadata \"" + kv.first + "\" is extra state of a module '" + pk.first +
                         "' that this model does not have");
      continue;
    }
    try {
      if (is_int) {
        std::int64_t v = 0;
        if (reader.number(kv.first, v)) extra_of(pk.first).put(pk.second, v);
      } else {
        Generator::State g{};
        if (reader.generator_state(kv.first.substr(0, kv.first.size() - 6), g))
          extra_of(pk.first).put(pk.second, g);
      }
    } catch (const std::exception& e) {
      problems.push_back("metadata \"" + kv.first + "\": " + e.what());
    }
  }

  detail::throw_problems("load_checkpoint: '" + path + "'", problems, "nothing was changed");

  // Commit: conversions (the only step that allocates) first, then plain copies.
  std::vector<Tensor<T>> values;
  values.reserve(plan.size());
  for (const auto& p : plan) values.push_back(to_tensor<T>(*p.second));

  // Extra state: each module validates its own; on a refusal the modules already restored get
  // their previous state back and nothing else changes.
  {
    std::vector<std::pair<nn::Module<T>*, nn::ExtraState>> restored;
    for (const auto& nm : modules) {
      nn::ExtraState before(nm.first);
      nm.second->get_extra_state(before);
      const auto it = extra.find(nm.first);
      if (before.empty() && it == extra.end()) continue;
      const nn::ExtraState empty(nm.first);
      try {
        nm.second->set_extra_state(it == extra.end() ? empty : it->second);
        restored.emplace_back(nm.second, std::move(before));
      } catch (const std::exception& e) {
        problems.push_back(std::string(nm.second->name()) + " '" + nm.first + "': " + e.what());
      }
    }
    if (!problems.empty()) {
      for (auto& r : restored) r.first->set_extra_state(r.second);
      detail::throw_problems("load_checkpoint: '" + path + "'", problems, "nothing was changed");
    }
  }
  std::map<std::string, std::string> user;
  for (const auto& kv : meta)
    if (kv.first.rfind("user.", 0) == 0) user.emplace(kv.first.substr(5), kv.second);
  for (std::size_t i = 0; i < plan.size(); ++i)
    std::copy(values[i].data(), values[i].data() + values[i].numel(), plan[i].first->data());
  if (state.optimizer) state.optimizer->set_step_count(step_count);
  if (state.scheduler) state.scheduler->set_count(sched_count);
  if (state.optimizer) state.optimizer->set_lr(lr);
  if (state.loader) state.loader->set_state(loader_state);
  for (std::size_t i = 0; i < gen_states.size(); ++i) state.generators[i]->set_state(gen_states[i]);
  state.step = user_step;
  state.metadata = std::move(user);
}

/// Positional form of `save_checkpoint(path, CheckpointState)`: pass `nullptr` for a missing
/// scheduler or loader.
///
/// @code
/// onestone::io::save_checkpoint("ckpt.safetensors", model, adam, &sched, &loader,
///                               {&onestone::default_generator()}, {{"note", "best"}}, step);
/// @endcode
template <class T>
void save_checkpoint(const std::string& path, nn::Module<T>& model,
                     optim::Optimizer<typename detail::Identity<T>::type>& optimizer,
                     optim::LRScheduler<typename detail::Identity<T>::type>* scheduler = nullptr,
                     data::DataLoader<typename detail::Identity<T>::type>* loader = nullptr,
                     const std::vector<Generator*>& generators = {},
                     const std::map<std::string, std::string>& extra = {}, std::int64_t step = 0) {
  CheckpointState<T> st(model, optimizer);
  st.scheduler = scheduler;
  st.loader = loader;
  st.generators = generators;
  st.metadata = extra;
  st.step = step;
  save_checkpoint(path, st);
}

/// Positional form of `load_checkpoint(path, CheckpointState&)`; returns the user step counter
/// and metadata.
///
/// @code
/// auto info = onestone::io::load_checkpoint("ckpt.safetensors", model, adam, &sched, &loader,
///                                           {&onestone::default_generator()});
/// @endcode
template <class T>
CheckpointInfo load_checkpoint(
    const std::string& path, nn::Module<T>& model,
    optim::Optimizer<typename detail::Identity<T>::type>& optimizer,
    optim::LRScheduler<typename detail::Identity<T>::type>* scheduler = nullptr,
    data::DataLoader<typename detail::Identity<T>::type>* loader = nullptr,
    const std::vector<Generator*>& generators = {}) {
  CheckpointState<T> st(model, optimizer);
  st.scheduler = scheduler;
  st.loader = loader;
  st.generators = generators;
  load_checkpoint(path, st);
  return CheckpointInfo{st.step, std::move(st.metadata)};
}

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXPLICIT(IO_FLOAT,
                  void save_checkpoint<float>(const std::string&, const CheckpointState<float>&,
                                              const AtomicWriteOptions&))
ONESTONE_EXPLICIT(IO_DOUBLE,
                  void save_checkpoint<double>(const std::string&, const CheckpointState<double>&,
                                               const AtomicWriteOptions&))
ONESTONE_EXPLICIT(IO_FLOAT,
                  void load_checkpoint<float>(const std::string&, CheckpointState<float>&))
ONESTONE_EXPLICIT(IO_DOUBLE,
                  void load_checkpoint<double>(const std::string&, CheckpointState<double>&))

}  // namespace onestone::io
