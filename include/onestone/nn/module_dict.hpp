#pragma once
/// @file module_dict.hpp
/// `ModuleDict<T>`: named children kept in insertion order (task heads, towers).

#include <memory>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// A container of named modules; their parameters appear as "<name>.<param>".
///
/// Example:
/// @code
/// auto heads = std::make_shared<ModuleDict<float>>();
/// heads->insert("item", std::make_shared<Linear<float>>(LinearOptions(256, 10)));
/// auto y = heads->at(0).forward(z);
/// @endcode
template <typename T>
class ModuleDict : public Module<T> {
 public:
  /// Adds `m` under `key`; throws on a duplicate or dotted key.
  std::shared_ptr<Module<T>> insert(const std::string& key, std::shared_ptr<Module<T>> m) {
    this->register_module(key, m);
    items_.push_back(m);
    return m;
  }
  Module<T>& at(std::size_t i) { return *items_.at(i); }
  std::shared_ptr<Module<T>> ptr(std::size_t i) const { return items_.at(i); }
  std::size_t size() const noexcept { return items_.size(); }
  std::string name() const override { return "ModuleDict"; }

 private:
  std::vector<std::shared_ptr<Module<T>>> items_;
};
ONESTONE_EXTERN_CLASS(NN, ModuleDict)

}  // namespace nn
}  // namespace onestone
