#pragma once
/// @file soft.hpp
/// `SoftSharing<T>`: one tower per task, tied by a penalty on the distance between matching
/// parameters.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "onestone/autograd/ops/combine.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/sharing/strategy.hpp"

namespace onestone {
namespace sharing {

/// Distance used by soft sharing between two towers' matching parameters.
enum class SoftDistance { SquaredL2, L1 };

/// Soft parameter sharing (Duong et al. 2015; Yang & Hospedales 2017): every task has its own
/// tower of the same architecture, and the loss gains
///   R = λ Σᵢ Σⱼ d(θᵢ, θⱼ)
/// over all ordered pairs of tasks (i, j) and every parameter tensor θ matched by name, with d
/// the squared L2 distance (default) or the L1 distance. λ = 0 gives independent towers; a large
/// λ pulls them towards hard sharing.
///
/// @param make_tower builds one tower (called once per task; each call must build the same
///                   architecture, with its own parameters)
/// @param output_features the towers' output width
/// @param lambda the penalty weight λ; @param distance d
///
/// Example:
/// @code
/// auto soft = std::make_shared<SoftSharing<float>>(
///     [] { return std::make_shared<nn::MLP<float>>(nn::MLPOptions({32, 64, 64})); }, 64, 1e-3);
/// @endcode
template <typename T>
class SoftSharing : public SharingStrategy<T> {
 public:
  using Factory = std::function<std::shared_ptr<nn::Module<T>>()>;
  SoftSharing(Factory make_tower, Index output_features, double lambda = 1e-3,
              SoftDistance distance = SoftDistance::SquaredL2)
      : make_(std::move(make_tower)),
        features_(output_features),
        lambda_(lambda),
        distance_(distance),
        towers_(this->register_module("towers", std::make_shared<nn::ModuleDict<T>>())) {
    if (!make_) throw std::invalid_argument("SoftSharing: no tower factory");
    if (!(lambda >= 0)) throw std::invalid_argument("SoftSharing: lambda must be >= 0");
  }
  void set_num_tasks(int n) override;
  void forward_tasks(const Var<T>& x, Var<T>* reps) override {
    for (int t = 0; t < this->num_tasks_; ++t)
      reps[t] = towers_->at(static_cast<std::size_t>(t)).forward(x);
  }
  /// λ Σᵢ Σⱼ d(θᵢ, θⱼ), summed over parameter tensors (undefined with fewer than two tasks or λ =
  /// 0).
  Var<T> regularizer() override;
  Index output_features() const override { return features_; }
  std::string name() const override { return "SoftSharing"; }
  /// Nothing is shared exactly; the towers are tied by the penalty.
  std::vector<nn::Parameter<T>*> shared_parameters() const override { return {}; }
  nn::Module<T>& tower(int t) { return towers_->at(static_cast<std::size_t>(t)); }
  double lambda() const { return lambda_; }

 private:
  void build_groups();

  Factory make_;
  Index features_;
  double lambda_;
  SoftDistance distance_;
  std::shared_ptr<nn::ModuleDict<T>> towers_;
  std::vector<std::vector<nn::Parameter<T>*>> groups_;
  std::vector<Var<T>> vars_;
};

template <typename T>
void SoftSharing<T>::set_num_tasks(int n) {
  SharingStrategy<T>::set_num_tasks(n);
  while (static_cast<int>(towers_->size()) < n) {
    auto tower = make_();
    if (!tower) throw std::invalid_argument("SoftSharing: the tower factory returned null");
    towers_->insert(std::to_string(towers_->size()), tower);
    groups_.clear();
  }
  if (n >= 2 && groups_.empty()) build_groups();
}

template <typename T>
Var<T> SoftSharing<T>::regularizer() {
  if (this->num_tasks_ < 2 || lambda_ == 0) return Var<T>();
  Var<T> total;
  autograd::Tape<T>& tape = autograd::Tape<T>::current();
  for (auto& group : groups_) {
    vars_.clear();
    for (auto* p : group) vars_.push_back(p->var(tape));
    Var<T> r =
        pairwise_distance_penalty(vars_, static_cast<T>(lambda_), distance_ == SoftDistance::L1);
    total = total.defined() ? total + r : r;
  }
  return total;
}

template <typename T>
void SoftSharing<T>::build_groups() {
  auto first = towers_->at(0).named_parameters();
  groups_.assign(first.size(), {});
  for (std::size_t t = 0; t < towers_->size(); ++t) {
    auto np = towers_->at(t).named_parameters();
    if (np.size() != first.size())
      throw std::invalid_argument("SoftSharing: tower " + std::to_string(t) + " has " +
                                  std::to_string(np.size()) + " parameters, tower 0 has " +
                                  std::to_string(first.size()));
    for (std::size_t k = 0; k < np.size(); ++k) {
      if (np[k].first != first[k].first || np[k].second->shape() != first[k].second->shape())
        throw std::invalid_argument("SoftSharing: tower " + std::to_string(t) + " parameter '" +
                                    np[k].first + "' " + np[k].second->shape().str() +
                                    " does not match tower 0's '" + first[k].first + "' " +
                                    first[k].second->shape().str());
      groups_[k].push_back(np[k].second);
    }
  }
  vars_.reserve(towers_->size());
}
ONESTONE_EXTERN_CLASS(SHARING, SoftSharing)

}  // namespace sharing
}  // namespace onestone
