#pragma once
/// @file mmoe.hpp
/// `MMoE<T>`: multi-gate mixture of experts.

#include <memory>
#include <string>
#include <vector>

#include "onestone/autograd/ops/combine.hpp"
#include "onestone/autograd/ops/softmax.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/linear.hpp"
#include "onestone/nn/mlp.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/sharing/strategy.hpp"

namespace onestone {
namespace sharing {

/// Options of `MMoE`: the number of tasks, the input width, the experts' layer sizes (after the
/// input) and count, and whether all tasks share one gate (the one-gate MoE baseline).
///
/// Example: `MMoEOptions(2, 100, {64}, 8)` — 8 experts 100→64, one gate per task.
struct MMoEOptions {
  MMoEOptions(int num_tasks, Index input, std::vector<Index> expert_sizes, int num_experts)
      : num_tasks_(num_tasks),
        input_(input),
        expert_sizes_(std::move(expert_sizes)),
        num_experts_(num_experts) {}
  /// One gate shared by all tasks (OMoE in Ma et al. 2018) instead of one per task.
  MMoEOptions& shared_gate(bool on) {
    shared_gate_ = on;
    return *this;
  }
  MMoEOptions& activation(nn::Activation a) {
    activation_ = a;
    return *this;
  }
  int num_tasks_;
  Index input_;
  std::vector<Index> expert_sizes_;
  int num_experts_;
  bool shared_gate_ = false;
  nn::Activation activation_ = nn::Activation::ReLU;
};

/// Multi-gate mixture of experts (Ma et al., KDD 2018): E expert networks fₑ see the input; each
/// task t has a gate gₜ(x) = softmax(Wₜ x) over the experts, and its representation is
///   zₜ = Σₑ gₜ(x)ₑ · fₑ(x).
/// Tasks share the experts but choose their own mixture, so weakly related tasks can use
/// different experts.
///
/// Example:
/// @code
/// auto mmoe = std::make_shared<MMoE<float>>(MMoEOptions(/*tasks=*/2, /*input=*/100, {64},
/// /*experts=*/8));
/// @endcode
template <typename T>
class MMoE : public SharingStrategy<T> {
 public:
  explicit MMoE(const MMoEOptions& opt);
  void set_num_tasks(int n) override { this->set_declared_tasks(n, opt_.num_tasks_); }
  void forward_tasks(const Var<T>& x, Var<T>* reps) override;
  Index output_features() const override { return opt_.expert_sizes_.back(); }
  std::string name() const override { return opt_.shared_gate_ ? "OMoE" : "MMoE"; }
  /// The experts (shared by every task).
  std::vector<nn::Parameter<T>*> shared_parameters() const override {
    return experts_->parameters();
  }

 private:
  MMoEOptions opt_;
  std::shared_ptr<nn::ModuleDict<T>> experts_, gates_;
};

template <typename T>
MMoE<T>::MMoE(const MMoEOptions& opt)
    : opt_(opt),
      experts_(this->register_module("experts", std::make_shared<nn::ModuleDict<T>>())),
      gates_(this->register_module("gates", std::make_shared<nn::ModuleDict<T>>())) {
  if (opt.num_tasks_ < 1 || opt.num_experts_ < 1 || opt.input_ <= 0 || opt.expert_sizes_.empty())
    throw std::invalid_argument(
        "MMoE: need >= 1 task, >= 1 expert, a positive input width and expert sizes");
  std::vector<Index> sizes{opt.input_};
  sizes.insert(sizes.end(), opt.expert_sizes_.begin(), opt.expert_sizes_.end());
  for (int e = 0; e < opt.num_experts_; ++e)
    experts_->insert(std::to_string(e), std::make_shared<nn::MLP<T>>(
                                            nn::MLPOptions(sizes).activation(opt.activation_)));
  const int ngates = opt.shared_gate_ ? 1 : opt.num_tasks_;
  for (int g = 0; g < ngates; ++g)
    gates_->insert(std::to_string(g), std::make_shared<nn::Linear<T>>(
                                          nn::LinearOptions(opt.input_, opt.num_experts_)));
}

template <typename T>
void MMoE<T>::forward_tasks(const Var<T>& x, Var<T>* reps) {
  this->check_declared_tasks(opt_.num_tasks_);
  detail::BorrowedVars<T> outs_list;
  std::vector<Var<T>>& outs_ = *outs_list;
  outs_.resize(experts_->size());
  for (std::size_t e = 0; e < outs_.size(); ++e) outs_[e] = experts_->at(e).forward(x);
  Var<T> shared;
  for (int t = 0; t < opt_.num_tasks_; ++t) {
    if (opt_.shared_gate_) {
      if (!shared.defined()) shared = mixture(outs_, softmax(gates_->at(0).forward(x)));
      reps[t] = shared;
    } else {
      reps[t] = mixture(outs_, softmax(gates_->at(static_cast<std::size_t>(t)).forward(x)));
    }
  }
}
ONESTONE_EXTERN_CLASS(SHARING, MMoE)

}  // namespace sharing
}  // namespace onestone
