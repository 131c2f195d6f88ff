#pragma once
/// @file transfer.hpp
/// Transfer to a new task: freeze a trained model's parameters by name prefix (or unfreeze
/// them), list the parameters that are still trained, and copy a trained model's shared part
/// into a new model by name. With them the recipe is: train a `MultiTaskModel`; build a model
/// with the same sharing strategy and a head for the new task; copy (`copy_state`) or load
/// (`io::load_state_dict(..., StateDictOptions().strict(false))`) the "strategy." tensors; then
/// either freeze them (`freeze(model, "strategy.")`) or train them at a smaller rate
/// (`TrainerOptions().lr_multiplier("strategy.", 0.1)`). See docs/transfer_meta.md.

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"
#include "onestone/nn/parameter.hpp"

namespace onestone {
namespace train {

namespace detail {

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

template <typename T>
std::size_t set_requires_grad(nn::Module<T>& module, const std::string& prefix, bool on,
                              const char* what) {
  std::size_t n = 0;
  for (auto& np : module.named_parameters())
    if (starts_with(np.first, prefix)) {
      np.second->set_requires_grad(on);
      ++n;
    }
  if (n == 0)
    throw std::invalid_argument(std::string(what) + ": no parameter of " + module.name() +
                                " has a name starting with '" + prefix + "'");
  return n;
}

}  // namespace detail

/// Stops training the parameters of `module` whose dotted name starts with `prefix` (all of
/// them for ""): `requires_grad` becomes false, so backward computes no gradient for them (and
/// nothing below them when a whole trunk is frozen) and SGD, Adam and AdamW leave them as they
/// are. Returns how many parameters were frozen; throws std::invalid_argument when no name
/// matches. Freezing does not switch modules to evaluation behaviour: a frozen trunk with
/// dropout or batch normalisation still drops units or updates its running statistics in
/// training mode (in a custom loop, call `model.strategy().eval()` after `model.train()` to fix
/// it; `Trainer::fit` calls `model.train()` when it starts).
///
/// @code
/// onestone::train::freeze(model, "strategy.");          // the shared trunk of a MultiTaskModel
/// onestone::optim::Adam<float> opt(onestone::train::trainable_parameters(model),
///                                  onestone::optim::AdamOptions(1e-3));
/// @endcode
template <typename T>
std::size_t freeze(nn::Module<T>& module, const std::string& prefix = "") {
  return detail::set_requires_grad(module, prefix, false, "freeze");
}

/// Trains again the parameters whose name starts with `prefix` (see `freeze`); returns how
/// many; throws std::invalid_argument when no name matches.
/// Example: `onestone::train::unfreeze(model, "strategy.trunk.fc1.");`
template <typename T>
std::size_t unfreeze(nn::Module<T>& module, const std::string& prefix = "") {
  return detail::set_requires_grad(module, prefix, true, "unfreeze");
}

/// The parameters of `module` that require gradients, in `parameters()` order (to build an
/// optimizer over the trained part only).
/// Example: `onestone::optim::SGD<float> opt(onestone::train::trainable_parameters(model), o);`
template <typename T>
std::vector<nn::Parameter<T>*> trainable_parameters(const nn::Module<T>& module) {
  std::vector<nn::Parameter<T>*> out;
  for (auto* p : module.parameters())
    if (p->requires_grad()) out.push_back(p);
  return out;
}

/// Copies the parameters and buffers of `from` whose dotted name starts with `prefix` into the
/// tensors of the same name in `to` (e.g. a trained model's "strategy." part into a new model
/// for another task). All or nothing: it throws std::invalid_argument, changing nothing, when
/// no name of `from` matches, when `to` lacks one of the names, or when shapes differ. Returns
/// the number of tensors copied. `requires_grad` flags are not copied.
///
/// @code
/// MultiTaskModel<float> fresh(make_strategy());            // same architecture
/// fresh.add_task(TaskOptions<float>("new").head(...).loss(LossKind::CrossEntropy));
/// onestone::train::copy_state(pretrained, fresh, "strategy.");
/// @endcode
template <typename T>
std::size_t copy_state(const nn::Module<T>& from, nn::Module<T>& to,
                       const std::string& prefix = "") {
  struct Pair {
    const Tensor<T>* src;
    nn::Parameter<T>* param;
    Tensor<T>* buffer;
  };
  std::vector<Pair> pairs;
  const auto to_params = to.named_parameters();
  const auto to_buffers = to.named_buffers();
  auto fail = [&](const std::string& msg) { throw std::invalid_argument("copy_state: " + msg); };
  auto check_shape = [&](const std::string& n, const Tensor<T>& a, const Tensor<T>& b) {
    if (a.shape() != b.shape())
      fail("'" + n + "' has shape " + a.shape().str() + " in the source and " + b.shape().str() +
           " in the destination");
  };
  for (const auto& np : from.named_parameters()) {
    if (!detail::starts_with(np.first, prefix)) continue;
    auto it = std::find_if(to_params.begin(), to_params.end(),
                           [&](const auto& q) { return q.first == np.first; });
    if (it == to_params.end()) fail("the destination has no parameter '" + np.first + "'");
    const Tensor<T>& src = static_cast<const nn::Parameter<T>&>(*np.second).value();
    check_shape(np.first, src, static_cast<const nn::Parameter<T>&>(*it->second).value());
    pairs.push_back({&src, it->second, nullptr});
  }
  for (const auto& nb : from.named_buffers()) {
    if (!detail::starts_with(nb.first, prefix)) continue;
    auto it = std::find_if(to_buffers.begin(), to_buffers.end(),
                           [&](const auto& q) { return q.first == nb.first; });
    if (it == to_buffers.end()) fail("the destination has no buffer '" + nb.first + "'");
    check_shape(nb.first, *nb.second, *it->second);
    pairs.push_back({nb.second, nullptr, it->second});
  }
  if (pairs.empty()) fail("no parameter or buffer of the source starts with '" + prefix + "'");
  for (const auto& p : pairs) {
    if (p.param) {
      p.param->set_value(*p.src);
    } else {
      std::copy(p.src->data(), p.src->data() + p.src->numel(), p.buffer->data());
    }
  }
  return pairs.size();
}

}  // namespace train
}  // namespace onestone
