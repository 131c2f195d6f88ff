#pragma once
/// @file sequential.hpp
/// `Sequential<T>`: modules applied one after another.

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/nn/module.hpp"

namespace onestone {
namespace nn {

/// A chain of unary modules, named "0", "1", … in `named_parameters()`.
///
/// Example:
/// @code
/// auto net = std::make_shared<Sequential<float>>();
/// net->push_back(std::make_shared<Linear<float>>(LinearOptions(4, 8)));
/// net->push_back(std::make_shared<ReLU<float>>());
/// auto y = net->forward(x);
/// @endcode
template <typename T>
class Sequential : public Module<T> {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module<T>>> mods) {
    for (auto& m : mods) push_back(m);
  }
  /// Appends a module; returns *this for chaining.
  Sequential& push_back(std::shared_ptr<Module<T>> m) {
    this->register_module(std::to_string(layers_.size()), m);
    layers_.push_back(std::move(m));
    return *this;
  }
  Var<T> forward(const Var<T>& x) override {
    Var<T> h = x;
    for (auto& m : layers_) h = m->forward(h);
    return h;
  }
  std::size_t size() const { return layers_.size(); }
  Module<T>& operator[](std::size_t i) { return *layers_.at(i); }
  std::string name() const override { return "Sequential"; }

 private:
  std::vector<std::shared_ptr<Module<T>>> layers_;
};
ONESTONE_EXTERN_CLASS(NN, Sequential)

}  // namespace nn
}  // namespace onestone
