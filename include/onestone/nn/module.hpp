#pragma once
/// @file module.hpp
/// `Module<T>`: the base of layers and models, with registered parameters and submodules.

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "onestone/autograd/var.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/extra_state.hpp"
#include "onestone/nn/parameter.hpp"

namespace onestone {
namespace nn {

/// Base class of every layer and model, in the manner of libtorch's `torch::nn::Module`.
///
/// A module registers its parameters (`register_parameter`) and children (`register_module`);
/// `named_parameters()` then lists them with dotted names ("trunk.fc0.weight"). `train()` /
/// `eval()` switch the mode recursively (dropout reads it). Modules that map one input to one
/// output override `forward(x)`, which lets them be stacked in `Sequential` or used as a trunk
/// or a task head.
///
/// Example:
/// @code
/// struct Net : onestone::nn::Module<float> {
///   std::shared_ptr<onestone::nn::Linear<float>> fc;
///   Net() { fc = register_module("fc", std::make_shared<onestone::nn::Linear<float>>(
///                                           onestone::nn::LinearOptions(4, 2))); }
///   onestone::Var<float> forward(const onestone::Var<float>& x) override { return fc->forward(x);
///   }
/// };
/// @endcode
template <typename T>
class Module {
 public:
  using Scalar = T;
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// One input to one output. The base version throws: override it in unary modules.
  virtual Var<T> forward(const Var<T>& /*x*/) {
    throw std::logic_error(name() + ": this module has no single-input forward");
  }
  Var<T> operator()(const Var<T>& x) { return forward(x); }
  /// A short type name used in messages and printing.
  virtual std::string name() const { return "Module"; }

  /// Registers a parameter under `pname` and returns it (owned by this module).
  Parameter<T>& register_parameter(const std::string& pname, Tensor<T> value,
                                   bool requires_grad = true) {
    check_name(pname);
    params_.emplace_back(pname, std::make_unique<Parameter<T>>(std::move(value), requires_grad));
    return *params_.back().second;
  }
  /// Registers a buffer — a tensor that is state but not trained (BatchNorm's running
  /// statistics) — under `bname`; it appears in `named_buffers()`, in state dicts and in
  /// checkpoints, never in `parameters()`. Returns it (owned by this module, stable address).
  Tensor<T>& register_buffer(const std::string& bname, Tensor<T> value) {
    check_name(bname);
    buffers_.emplace_back(bname, std::make_unique<Tensor<T>>(std::move(value)));
    return *buffers_.back().second;
  }
  /// Buffers with dotted names, depth first (as `named_parameters`).
  std::vector<std::pair<std::string, Tensor<T>*>> named_buffers(bool recurse = true) const {
    std::vector<std::pair<std::string, Tensor<T>*>> out;
    collect_buffers("", recurse, out);
    return first_of_each(std::move(out));
  }

  /// Registers a child module under `mname` and returns it.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& mname, std::shared_ptr<M> m) {
    static_assert(std::is_base_of<Module<T>, M>::value, "register_module: not a Module<T>");
    if (!m) throw std::invalid_argument("register_module: null module for '" + mname + "'");
    check_name(mname);
    children_.emplace_back(mname, m);
    return m;
  }

  /// Registers `m` under `mname`, replacing the child of that name if there is one.
  template <typename M>
  std::shared_ptr<M> replace_module(const std::string& mname, std::shared_ptr<M> m) {
    for (auto& c : children_)
      if (c.first == mname) {
        if (!m) throw std::invalid_argument("replace_module: null module for '" + mname + "'");
        c.second = m;
        return m;
      }
    return register_module(mname, std::move(m));
  }

  /// Parameters with dotted names, depth first, each parameter listed once.
  std::vector<std::pair<std::string, Parameter<T>*>> named_parameters(bool recurse = true) const {
    std::vector<std::pair<std::string, Parameter<T>*>> out;
    collect("", recurse, out);
    return first_of_each(std::move(out));
  }
  /// Parameters without names.
  std::vector<Parameter<T>*> parameters(bool recurse = true) const {
    std::vector<Parameter<T>*> out;
    for (auto& p : named_parameters(recurse)) out.push_back(p.second);
    return out;
  }
  /// Direct children with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>>& named_children() const {
    return children_;
  }
  /// The parameter registered as `dotted` (e.g. "fc0.weight"); throws if unknown.
  Parameter<T>& parameter(const std::string& dotted) const {
    for (auto& p : named_parameters())
      if (p.first == dotted) return *p.second;
    throw std::invalid_argument(name() + ": no parameter named '" + dotted + "'");
  }
  /// Total number of trainable scalars.
  Index num_parameters() const {
    Index n = 0;
    for (auto* p : parameters()) n += p->numel();
    return n;
  }

  /// Modules with dotted paths, depth first, this module first (path ""), each listed once.
  std::vector<std::pair<std::string, Module<T>*>> named_modules() const {
    std::vector<std::pair<std::string, Module<T>*>> out;
    collect_modules("", out);
    return out;
  }

  /// Writes this module's non-parameter state (not its children's) into `s`: loss
  /// histories, moving averages, counters, random generators, solver warm starts. Checkpoints
  /// save it for every module of a model. The base version writes nothing.
  virtual void get_extra_state(ExtraState& /*s*/) const {}
  /// Restores what `get_extra_state` wrote. Must validate everything before changing anything
  /// (throw std::runtime_error on a missing or ill-shaped entry, leaving the module unchanged).
  /// The base version accepts only an empty state.
  virtual void set_extra_state(const ExtraState& s) {
    if (!s.empty())
      throw std::runtime_error(name() + " '" + s.owner() + "' has no extra state to restore");
  }

  /// Training mode on (default) or off, recursively.
  virtual void train(bool on = true) {
    training_ = on;
    for (auto& c : children_) c.second->train(on);
  }
  /// Evaluation mode (same as `train(false)`).
  void eval() { train(false); }
  /// True in training mode, false in evaluation mode and inside an `InferenceGuard`.
  bool is_training() const noexcept { return training_ && !autograd::is_inference_mode(); }

  /// Clears every parameter's gradient.
  void zero_grad() {
    for (auto* p : parameters()) p->zero_grad();
  }

 private:
  // Keeps the first name of each object reached through several paths (shared submodules).
  template <typename P>
  static std::vector<std::pair<std::string, P*>> first_of_each(
      std::vector<std::pair<std::string, P*>> all) {
    std::vector<std::pair<std::string, P*>> unique;
    for (auto& e : all) {
      bool seen = false;
      for (auto& q : unique) seen = seen || q.second == e.second;
      if (!seen) unique.push_back(std::move(e));
    }
    return unique;
  }
  void check_name(const std::string& n) const;
  void collect(const std::string& prefix, bool recurse,
               std::vector<std::pair<std::string, Parameter<T>*>>& out) const {
    for (auto& p : params_) out.emplace_back(prefix + p.first, p.second.get());
    if (!recurse) return;
    for (auto& c : children_) c.second->collect(prefix + c.first + ".", true, out);
  }
  void collect_buffers(const std::string& prefix, bool recurse,
                       std::vector<std::pair<std::string, Tensor<T>*>>& out) const {
    for (auto& b : buffers_) out.emplace_back(prefix + b.first, b.second.get());
    if (!recurse) return;
    for (auto& c : children_) c.second->collect_buffers(prefix + c.first + ".", true, out);
  }

  void collect_modules(const std::string& path,
                       std::vector<std::pair<std::string, Module<T>*>>& out) const;

  std::vector<std::pair<std::string, std::unique_ptr<Parameter<T>>>> params_;
  std::vector<std::pair<std::string, std::unique_ptr<Tensor<T>>>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module<T>>>> children_;
  bool training_ = true;
};

template <typename T>
void Module<T>::check_name(const std::string& n) const {
  if (n.empty() || n.find('.') != std::string::npos)
    throw std::invalid_argument(name() + ": invalid name '" + n + "' (empty or contains '.')");
  for (auto& p : params_)
    if (p.first == n) throw std::invalid_argument(name() + ": duplicate name '" + n + "'");
  for (auto& b : buffers_)
    if (b.first == n) throw std::invalid_argument(name() + ": duplicate name '" + n + "'");
  for (auto& c : children_)
    if (c.first == n) throw std::invalid_argument(name() + ": duplicate name '" + n + "'");
}

template <typename T>
void Module<T>::collect_modules(const std::string& path,
                                std::vector<std::pair<std::string, Module<T>*>>& out) const {
  for (auto& m : out)
    if (m.second == this) return;
  out.emplace_back(path, const_cast<Module<T>*>(this));
  for (auto& c : children_)
    c.second->collect_modules(path.empty() ? c.first : path + "." + c.first, out);
}
ONESTONE_EXTERN_CLASS(NN, Module)

}  // namespace nn
}  // namespace onestone
