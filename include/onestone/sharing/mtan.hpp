#pragma once
/// @file mtan.hpp
/// `MTAN<T>`: a shared trunk with per-task attention masks at every stage.

#include <memory>
#include <string>
#include <vector>

#include "onestone/autograd/ops/arithmetic.hpp"
#include "onestone/autograd/ops/shape_ops.hpp"
#include "onestone/autograd/ops/unary.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/activation.hpp"
#include "onestone/nn/linear.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/sharing/strategy.hpp"

namespace onestone {
namespace sharing {

/// Options of `MTAN`: tasks and the shared trunk's stage sizes {in, h1, ..., hL}.
///
/// Example: `MTANOptions(2, {100, 64, 64})`
struct MTANOptions {
  MTANOptions(int num_tasks, std::vector<Index> sizes)
      : num_tasks_(num_tasks), sizes_(std::move(sizes)) {}
  MTANOptions& activation(nn::Activation a) {
    activation_ = a;
    return *this;
  }
  int num_tasks_;
  std::vector<Index> sizes_;
  nn::Activation activation_ = nn::Activation::ReLU;
};

/// Multi-task attention network (Liu, Johns & Davison, CVPR 2019) on a fully connected trunk.
/// The shared trunk has stages pₗ = act(Linear(pₗ₋₁)). Task t keeps an attended copy âₜ,ₗ of
/// each stage, gated element-wise by a mask it learns:
///   stage 1:  m = σ(W₂ ReLU(W₁ p₁)),                 âₜ,₁ = m ⊙ p₁
///   stage l:  cₜ = ReLU(Fₜ,ₗ âₜ,ₗ₋₁),  m = σ(W₂ ReLU(W₁ [pₗ, cₜ])),  âₜ,ₗ = m ⊙ pₗ
/// and its representation is âₜ,L. The trunk is shared; each task's attention modules (about
/// the size of one stage each) select the features it needs. (The paper's modules are 1×1
/// convolutions on feature maps; on vectors they become the linear maps above.)
///
/// Example:
/// @code
/// auto mtan = std::make_shared<MTAN<float>>(MTANOptions(/*tasks=*/3, {100, 64, 64}));
/// @endcode
template <typename T>
class MTAN : public SharingStrategy<T> {
 public:
  explicit MTAN(const MTANOptions& opt);
  void set_num_tasks(int n) override { this->set_declared_tasks(n, opt_.num_tasks_); }
  void forward_tasks(const Var<T>& x, Var<T>* reps) override;
  Index output_features() const override { return opt_.sizes_.back(); }
  std::string name() const override { return "MTAN"; }
  /// The shared trunk.
  std::vector<nn::Parameter<T>*> shared_parameters() const override { return trunk_->parameters(); }

 private:
  struct Att {
    std::shared_ptr<nn::Linear<T>> carry, w1, w2;
  };
  static std::shared_ptr<nn::Linear<T>> lin(nn::ModuleDict<T>& d, const std::string& key, Index in,
                                            Index out) {
    return std::static_pointer_cast<nn::Linear<T>>(
        d.insert(key, std::make_shared<nn::Linear<T>>(nn::LinearOptions(in, out))));
  }
  MTANOptions opt_;
  std::shared_ptr<nn::ModuleDict<T>> trunk_, attention_;
  std::vector<std::shared_ptr<nn::Linear<T>>> stages_;
  std::vector<std::vector<Att>> att_;
};

template <typename T>
MTAN<T>::MTAN(const MTANOptions& opt)
    : opt_(opt),
      trunk_(this->register_module("trunk", std::make_shared<nn::ModuleDict<T>>())),
      attention_(this->register_module("attention", std::make_shared<nn::ModuleDict<T>>())) {
  if (opt.num_tasks_ < 1 || opt.sizes_.size() < 2)
    throw std::invalid_argument("MTAN: need >= 1 task and at least two stage sizes");
  const std::size_t L = opt.sizes_.size() - 1;
  for (std::size_t l = 0; l < L; ++l)
    stages_.push_back(std::static_pointer_cast<nn::Linear<T>>(trunk_->insert(
        "fc" + std::to_string(l),
        std::make_shared<nn::Linear<T>>(nn::LinearOptions(opt.sizes_[l], opt.sizes_[l + 1])))));
  for (int t = 0; t < opt.num_tasks_; ++t) {
    auto task = std::static_pointer_cast<nn::ModuleDict<T>>(
        attention_->insert(std::to_string(t), std::make_shared<nn::ModuleDict<T>>()));
    std::vector<Att> atts;
    for (std::size_t l = 0; l < L; ++l) {
      const Index h = opt.sizes_[l + 1];
      Att a;
      if (l > 0) a.carry = lin(*task, "carry" + std::to_string(l), opt.sizes_[l], h);
      a.w1 = lin(*task, "att" + std::to_string(l) + "_1", l > 0 ? 2 * h : h, h);
      a.w2 = lin(*task, "att" + std::to_string(l) + "_2", h, h);
      atts.push_back(a);
    }
    att_.push_back(std::move(atts));
  }
}

template <typename T>
void MTAN<T>::forward_tasks(const Var<T>& x, Var<T>* reps) {
  this->check_declared_tasks(opt_.num_tasks_);
  detail::BorrowedVars<T> p_list;
  std::vector<Var<T>>& p_ = *p_list;
  p_.resize(stages_.size());
  Var<T> h = x;
  for (std::size_t l = 0; l < stages_.size(); ++l) {
    h = nn::activate(stages_[l]->forward(h), opt_.activation_);
    p_[l] = h;
  }
  for (int t = 0; t < opt_.num_tasks_; ++t) {
    Var<T> a;
    for (std::size_t l = 0; l < stages_.size(); ++l) {
      const Att& m = att_[static_cast<std::size_t>(t)][l];
      Var<T> in = l == 0 ? p_[0] : concat({p_[l], relu(m.carry->forward(a))});
      Var<T> mask = sigmoid(m.w2->forward(relu(m.w1->forward(in))));
      a = mask * p_[l];
    }
    reps[t] = a;
  }
}
ONESTONE_EXTERN_CLASS(SHARING, MTAN)

}  // namespace sharing
}  // namespace onestone
