#pragma once
/// @file ple.hpp
/// `PLE<T>` (progressive layered extraction) and `CGC<T>` (its single level, customized gate
/// control).

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

/// Options of `PLE` / `CGC`: tasks, input width, each expert's layer sizes (after its input),
/// shared and task-specific experts per level, and the number of levels.
///
/// Example: `PLEOptions(2, 100, {64}).shared_experts(2).task_experts(2).levels(2)`
struct PLEOptions {
  PLEOptions(int num_tasks, Index input, std::vector<Index> expert_sizes)
      : num_tasks_(num_tasks), input_(input), expert_sizes_(std::move(expert_sizes)) {}
  PLEOptions& shared_experts(int n) {
    shared_experts_ = n;
    return *this;
  }
  PLEOptions& task_experts(int n) {
    task_experts_ = n;
    return *this;
  }
  PLEOptions& levels(int n) {
    levels_ = n;
    return *this;
  }
  PLEOptions& activation(nn::Activation a) {
    activation_ = a;
    return *this;
  }
  int num_tasks_;
  Index input_;
  std::vector<Index> expert_sizes_;
  int shared_experts_ = 1;
  int task_experts_ = 1;
  int levels_ = 2;
  nn::Activation activation_ = nn::Activation::ReLU;
};

/// Progressive layered extraction (Tang et al., RecSys 2020). Each level holds shared experts and
/// per-task experts. Task t's gate mixes its own experts with the shared ones,
///   zₜ = Σₑ softmax(Wₜ hₜ)ₑ · fₑ(·)   over e ∈ experts(t) ∪ shared,
/// and, below the last level, a shared gate mixes all experts into the shared stream for the
/// next level. Level 0 reads the input; level l > 0 feeds task t's experts and gate with task
/// t's output of level l − 1 and the shared experts and gate with the shared stream. With one
/// level this is CGC (customized gate control).
///
/// Example:
/// @code
/// auto ple = std::make_shared<PLE<float>>(PLEOptions(2, 100, {64}).levels(2));
/// @endcode
template <typename T>
class PLE : public SharingStrategy<T> {
 public:
  explicit PLE(const PLEOptions& opt);
  void set_num_tasks(int n) override { this->set_declared_tasks(n, opt_.num_tasks_); }
  void forward_tasks(const Var<T>& x, Var<T>* reps) override;
  Index output_features() const override { return opt_.expert_sizes_.back(); }
  std::string name() const override { return opt_.levels_ == 1 ? "CGC" : "PLE"; }
  /// The parameters that reach more than one task: every parameter of the levels below the last
  /// (their task experts feed the shared gate, hence every task above) and the last level's
  /// shared experts.
  std::vector<nn::Parameter<T>*> shared_parameters() const override;

 private:
  struct Level {
    std::vector<std::vector<std::shared_ptr<nn::Module<T>>>> task_experts;
    std::vector<std::shared_ptr<nn::Module<T>>> task_gates;
    std::vector<std::shared_ptr<nn::Module<T>>> shared_experts;
    std::shared_ptr<nn::Module<T>> shared_gate;
  };
  PLEOptions opt_;
  std::vector<Level> levels_;
};

template <typename T>
PLE<T>::PLE(const PLEOptions& opt) : opt_(opt) {
  if (opt.num_tasks_ < 1 || opt.levels_ < 1 || opt.input_ <= 0 || opt.expert_sizes_.empty() ||
      opt.shared_experts_ < 0 || opt.task_experts_ < 0 ||
      opt.shared_experts_ + opt.task_experts_ < 1)
    throw std::invalid_argument(
        "PLE: invalid options (tasks >= 1, levels >= 1, positive input, "
        "expert sizes, at least one expert per gate)");
  const int Tn = opt.num_tasks_;
  for (int l = 0; l < opt.levels_; ++l) {
    Level lv;
    auto holder =
        this->register_module("level" + std::to_string(l), std::make_shared<nn::ModuleDict<T>>());
    const Index in = l == 0 ? opt.input_ : opt.expert_sizes_.back();
    std::vector<Index> sizes{in};
    sizes.insert(sizes.end(), opt.expert_sizes_.begin(), opt.expert_sizes_.end());
    auto expert = [&](const std::string& key) {
      return holder->insert(
          key, std::make_shared<nn::MLP<T>>(nn::MLPOptions(sizes).activation(opt.activation_)));
    };
    for (int t = 0; t < Tn; ++t) {
      lv.task_experts.emplace_back();
      for (int e = 0; e < opt.task_experts_; ++e)
        lv.task_experts.back().push_back(
            expert("task" + std::to_string(t) + "_expert" + std::to_string(e)));
      lv.task_gates.push_back(holder->insert("task" + std::to_string(t) + "_gate",
                                             std::make_shared<nn::Linear<T>>(nn::LinearOptions(
                                                 in, opt.task_experts_ + opt.shared_experts_))));
    }
    for (int e = 0; e < opt.shared_experts_; ++e)
      lv.shared_experts.push_back(expert("shared_expert" + std::to_string(e)));
    if (l + 1 < opt.levels_)
      lv.shared_gate =
          holder->insert("shared_gate", std::make_shared<nn::Linear<T>>(nn::LinearOptions(
                                            in, Tn * opt.task_experts_ + opt.shared_experts_)));
    levels_.push_back(std::move(lv));
  }
}

template <typename T>
void PLE<T>::forward_tasks(const Var<T>& x, Var<T>* reps) {
  this->check_declared_tasks(opt_.num_tasks_);
  const std::size_t Tn = static_cast<std::size_t>(opt_.num_tasks_);
  detail::BorrowedVars<T> l1, l2, l3, l4, l5;
  std::vector<Var<T>>& h_ = *l1;
  std::vector<Var<T>>& next_ = *l2;
  std::vector<Var<T>>& shared_out_ = *l3;
  std::vector<Var<T>>& all_out_ = *l4;
  std::vector<Var<T>>& pool_ = *l5;
  h_.resize(Tn);
  next_.resize(Tn);
  for (auto& h : h_) h = x;
  Var<T> hs = x;
  for (std::size_t l = 0; l < levels_.size(); ++l) {
    Level& lv = levels_[l];
    shared_out_.clear();
    for (auto& e : lv.shared_experts) shared_out_.push_back(e->forward(hs));
    all_out_.clear();
    for (std::size_t t = 0; t < Tn; ++t) {
      pool_.clear();
      for (auto& e : lv.task_experts[t]) pool_.push_back(e->forward(h_[t]));
      for (auto& v : pool_) all_out_.push_back(v);
      for (auto& v : shared_out_) pool_.push_back(v);
      next_[t] = mixture(pool_, softmax(lv.task_gates[t]->forward(h_[t])));
    }
    if (lv.shared_gate) {
      for (auto& v : shared_out_) all_out_.push_back(v);
      hs = mixture(all_out_, softmax(lv.shared_gate->forward(hs)));
    }
    h_.swap(next_);
  }
  for (std::size_t t = 0; t < Tn; ++t) reps[t] = h_[t];
}

template <typename T>
std::vector<nn::Parameter<T>*> PLE<T>::shared_parameters() const {
  std::vector<nn::Parameter<T>*> out;
  for (std::size_t l = 0; l < levels_.size(); ++l) {
    const Level& lv = levels_[l];
    auto add = [&](const std::shared_ptr<nn::Module<T>>& m) {
      if (m)
        for (auto* p : m->parameters()) out.push_back(p);
    };
    for (auto& e : lv.shared_experts) add(e);
    if (l + 1 == levels_.size()) continue;
    add(lv.shared_gate);
    for (std::size_t t = 0; t < lv.task_experts.size(); ++t) {
      for (auto& e : lv.task_experts[t]) add(e);
      add(lv.task_gates[t]);
    }
  }
  return out;
}
ONESTONE_EXTERN_CLASS(SHARING, PLE)

/// Customized gate control (Tang et al. 2020): one PLE level — task-specific and shared experts,
/// one gate per task over its own and the shared experts.
///
/// Example: `auto cgc = std::make_shared<CGC<float>>(PLEOptions(2, 100, {64}).shared_experts(2));`
template <typename T>
class CGC : public PLE<T> {
 public:
  explicit CGC(PLEOptions opt) : PLE<T>(opt.levels(1)) {}
};
ONESTONE_EXTERN_CLASS(SHARING, CGC)

}  // namespace sharing
}  // namespace onestone
