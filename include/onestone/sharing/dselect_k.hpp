#pragma once
/// @file dselect_k.hpp
/// `DSelectK<T>`: mixture of experts with the DSelect-k gate (Hazimeh et al., NeurIPS 2021).

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/ops/combine.hpp"
#include "onestone/autograd/ops/softmax.hpp"
#include "onestone/config.hpp"
#include "onestone/nn/init.hpp"
#include "onestone/nn/linear.hpp"
#include "onestone/nn/mlp.hpp"
#include "onestone/nn/module_dict.hpp"
#include "onestone/sharing/mmoe.hpp"
#include "onestone/sharing/strategy.hpp"

namespace onestone {
namespace sharing {

/// Options of `DSelectK`: tasks, input width, expert layer sizes and count (as `MMoEOptions`),
/// k (the most experts a task's gate may select), γ of the smooth step, the entropy
/// regularization weight, and whether gates depend on the example (default) or only on the task.
///
/// Example: `DSelectKOptions(2, 100, {64}, 8, /*k=*/2)`.
struct DSelectKOptions {
  DSelectKOptions(int num_tasks, Index input, std::vector<Index> expert_sizes, int num_experts,
                  int k)
      : num_tasks_(num_tasks),
        input_(input),
        expert_sizes_(std::move(expert_sizes)),
        num_experts_(num_experts),
        k_(k) {}
  /// Width of the smooth step's cubic region (default 1, as the authors' code).
  DSelectKOptions& gamma(double g) {
    gamma_ = g;
    return *this;
  }
  /// Weight of the entropy of every single-expert selector added to the loss in training
  /// (default 0: off, as the authors' default); summed over examples and selectors as their
  /// code does. A positive weight drives each selector to one expert sooner.
  DSelectKOptions& entropy_reg(double w) {
    entropy_reg_ = w;
    return *this;
  }
  /// Gates computed from each example (default) or learned per task only (static gates).
  DSelectKOptions& per_example(bool on) {
    per_example_ = on;
    return *this;
  }
  DSelectKOptions& activation(nn::Activation a) {
    activation_ = a;
    return *this;
  }
  /// Seed of the gates' and experts' initial values (default: the thread's generator).
  DSelectKOptions& seed(std::uint64_t s) {
    seed_ = s;
    has_seed_ = true;
    return *this;
  }
  int num_tasks_;
  Index input_;
  std::vector<Index> expert_sizes_;
  int num_experts_;
  int k_;
  double gamma_ = 1.0;
  double entropy_reg_ = 0.0;
  bool per_example_ = true;
  nn::Activation activation_ = nn::Activation::ReLU;
  std::uint64_t seed_ = 0;
  bool has_seed_ = false;
};

/// Mixture of experts whose task gates are DSelect-k gates (Hazimeh et al., "DSelect-k:
/// Differentiable Selection in the Mixture of Experts with Applications to Multi-Task
/// Learning", NeurIPS 2021): a smooth, differentiable gate that converges to using at most k
/// of the n experts per task.
///
/// With m = ⌈log₂ n⌉ and the smooth step S(t) = 0 for t ≤ −γ/2, 1 for t ≥ γ/2, and
/// −2t³/γ³ + 3t/(2γ) + ½ between, each of a task's k single-expert selectors i has logits
/// zᵢ ∈ ℝᵐ and gives expert j (binary code b(j), most significant bit first) the weight
///     rᵢ(j) = Πₗ [ S(zᵢₗ) if b(j)ₗ = 1, else 1 − S(zᵢₗ) ],
/// a distribution over the experts that becomes one-hot when every S(zᵢₗ) reaches 0 or 1. The
/// task's expert weights are q = Σᵢ softmax(w)ᵢ rᵢ, and its representation Σⱼ qⱼ fⱼ(x). Per
/// example, z and w are linear in x (per task); static gates learn them as parameters.
/// In training the regularizer adds `entropy_reg` · Σ −rᵢ(j) log(rᵢ(j) + 10⁻⁶) and, when n is not
/// a power of two, Σ 1/Σⱼ rᵢ(j) so that no selector can put its weight on the 2ᵐ − n codes
/// without an expert (both summed over examples and selectors, as the authors' code). Initial
/// values as the authors: z ~ U(−γ/100, γ/100), w ~ U(−0.05, 0.05).
///
/// Example:
/// @code
/// auto ds = std::make_shared<onestone::sharing::DSelectK<float>>(
///     onestone::sharing::DSelectKOptions(/*tasks=*/2, /*input=*/100, {64}, /*experts=*/8,
///     /*k=*/2));
/// onestone::MultiTaskModel<float> model(ds);
/// @endcode
template <typename T>
class DSelectK : public SharingStrategy<T> {
 public:
  explicit DSelectK(const DSelectKOptions& opt);

  void set_num_tasks(int n) override { this->set_declared_tasks(n, opt_.num_tasks_); }

  void forward_tasks(const Var<T>& x, Var<T>* reps) override;

  /// The gate's regularizer of the last training forward (see the class comment).
  Var<T> regularizer() override { return this->is_training() ? reg_ : Var<T>(); }
  Index output_features() const override { return opt_.expert_sizes_.back(); }
  std::string name() const override { return "DSelectK"; }
  /// The experts (shared by every task).
  std::vector<nn::Parameter<T>*> shared_parameters() const override {
    return experts_->parameters();
  }
  /// Task t's expert weights q for inputs x ([rows, n]; each row sums to 1).
  Tensor<T> gate_weights(int t, const Tensor<T>& x);
  const DSelectKOptions& options() const { return opt_; }

 private:
  // The smooth step: the cubic of the clamped input is exactly 0 and 1 at ±γ/2 and flat beyond.
  Var<T> smooth_step(const Var<T>& z) const {
    const T g = static_cast<T>(opt_.gamma_);
    const Var<T> c = clamp(z, -g / 2, g / 2);
    return (c * c * c) * static_cast<T>(-2.0 / (opt_.gamma_ * opt_.gamma_ * opt_.gamma_)) +
           c * static_cast<T>(1.5 / opt_.gamma_) + static_cast<T>(0.5);
  }

  // Task t's expert weights q ([rows, n]) and its selector outputs r.
  Var<T> expert_weights(int t, const Var<T>& x, Var<T>& r);

  Var<T> selector_regularizer(const Var<T>& r) const;

  DSelectKOptions opt_;
  std::shared_ptr<nn::ModuleDict<T>> experts_, gates_;
  int m_ = 0;
  std::vector<Tensor<T>> bit_a_, bit_b_;
  Var<T> reg_;
};

template <typename T>
DSelectK<T>::DSelectK(const DSelectKOptions& opt)
    : opt_(opt),
      experts_(this->register_module("experts", std::make_shared<nn::ModuleDict<T>>())),
      gates_(this->register_module("gates", std::make_shared<nn::ModuleDict<T>>())) {
  if (opt.num_tasks_ < 1 || opt.num_experts_ < 1 || opt.input_ <= 0 || opt.expert_sizes_.empty())
    throw std::invalid_argument(
        "DSelectK: need >= 1 task, >= 1 expert, a positive input width and expert sizes");
  if (opt.k_ < 1 || opt.k_ > opt.num_experts_)
    throw std::invalid_argument("DSelectK: k = " + std::to_string(opt.k_) + " must be in [1, " +
                                std::to_string(opt.num_experts_) + "]");
  if (!(opt.gamma_ > 0) || !(opt.entropy_reg_ >= 0))
    throw std::invalid_argument("DSelectK: needs gamma > 0 and entropy_reg >= 0");
  Generator local(opt.seed_);
  Generator& gen = opt.has_seed_ ? local : default_generator();
  m_ = 0;
  while ((Index(1) << m_) < opt.num_experts_) ++m_;
  const Index n = opt.num_experts_;
  // Per bit l: rᵢ(j)'s factor is a_l[j] + S(zᵢₗ)·b_l[j] (a = 1 − bit, b = 2·bit − 1).
  for (int l = 0; l < m_; ++l) {
    Tensor<T> a({n}), b({n});
    for (Index j = 0; j < n; ++j) {
      const int bit = static_cast<int>((j >> (m_ - 1 - l)) & 1);
      a[j] = static_cast<T>(1 - bit);
      b[j] = static_cast<T>(2 * bit - 1);
    }
    bit_a_.push_back(std::move(a));
    bit_b_.push_back(std::move(b));
  }
  std::vector<Index> sizes{opt.input_};
  sizes.insert(sizes.end(), opt.expert_sizes_.begin(), opt.expert_sizes_.end());
  for (int e = 0; e < opt.num_experts_; ++e) {
    nn::MLPOptions mo = nn::MLPOptions(sizes).activation(opt.activation_);
    if (opt.has_seed_) mo.seed(gen.next_u64());
    experts_->insert(std::to_string(e), std::make_shared<nn::MLP<T>>(mo));
  }
  const double zb = opt.gamma_ / 100.0;
  for (int t = 0; t < opt.num_tasks_; ++t) {
    auto gate = std::make_shared<nn::Module<T>>();
    if (opt.per_example_) {
      auto z = gate->register_module("z", std::make_shared<nn::Linear<T>>(nn::LinearOptions(
                                              opt.input_, opt.k_ * m_ > 0 ? opt.k_ * m_ : 1)));
      auto w = gate->register_module(
          "w", std::make_shared<nn::Linear<T>>(nn::LinearOptions(opt.input_, opt.k_)));
      for (auto* p : z->parameters()) nn::init::uniform_(p->value(), -zb, zb, gen);
      for (auto* p : w->parameters()) nn::init::uniform_(p->value(), -0.05, 0.05, gen);
    } else {
      Tensor<T> z({opt.k_, m_ > 0 ? m_ : 1}), w({opt.k_});
      nn::init::uniform_(z, -zb, zb, gen);
      nn::init::uniform_(w, -0.05, 0.05, gen);
      gate->register_parameter("z", std::move(z));
      gate->register_parameter("w", std::move(w));
    }
    gates_->insert(std::to_string(t), gate);
  }
}

template <typename T>
void DSelectK<T>::forward_tasks(const Var<T>& x, Var<T>* reps) {
  this->check_declared_tasks(opt_.num_tasks_);
  detail::BorrowedVars<T> outs_list;
  std::vector<Var<T>>& outs = *outs_list;
  outs.resize(experts_->size());
  for (std::size_t e = 0; e < outs.size(); ++e) outs[e] = experts_->at(e).forward(x);
  const bool train = this->is_training();
  Var<T> reg;
  for (int t = 0; t < opt_.num_tasks_; ++t) {
    Var<T> r;  // selector outputs: [B, k, n] per example, [k, n] static
    const Var<T> q = expert_weights(t, x, r);
    reps[t] = mixture(outs, q);
    if (train) {
      Var<T> term = selector_regularizer(r);
      if (term.defined()) reg = reg.defined() ? reg + term : term;
    }
  }
  if (train) reg_ = reg;
}

template <typename T>
Tensor<T> DSelectK<T>::gate_weights(int t, const Tensor<T>& x) {
  NoGradGuard ng;
  autograd::Tape<T>& tape = autograd::Tape<T>::current();
  GraphScope<T> scope(tape);
  Var<T> r;
  const Var<T> q = expert_weights(t, Var<T>::from(x, tape), r);
  Tensor<T> out(q.shape());
  std::copy(q.data(), q.data() + q.numel(), out.data());
  return out;
}

template <typename T>
Var<T> DSelectK<T>::expert_weights(int t, const Var<T>& x, Var<T>& r) {
  nn::Module<T>& gate = gates_->at(static_cast<std::size_t>(t));
  autograd::Tape<T>& tape = x.tape();
  const Index n = opt_.num_experts_, k = opt_.k_;
  const Index rows = x.shape().rows();
  Var<T> s, wl;
  int axis;  // the selectors' axis
  if (opt_.per_example_) {
    auto& zl = gate.named_children()[0].second;
    auto& wm = gate.named_children()[1].second;
    s = smooth_step(reshape(zl->forward(x), Shape{rows, k, m_ > 0 ? m_ : 1}));  // [B, k, m]
    wl = wm->forward(x);                                                        // [B, k]
    axis = 1;
  } else {
    s = smooth_step(gate.parameter("z").var(tape));  // [k, m]
    wl = gate.parameter("w").var(tape);              // [k]
    axis = 0;
  }
  const int last = s.shape().rank() - 1;
  if (m_ == 0) {
    // One expert: every selector picks it.
    r = s * static_cast<T>(0) + static_cast<T>(1);
  } else {
    for (int l = 0; l < m_; ++l) {
      const Var<T> sl = narrow(s, last, l, 1);  // [.., k, 1]
      const Var<T> f = Var<T>::from(bit_a_[static_cast<std::size_t>(l)], tape) +
                       sl * Var<T>::from(bit_b_[static_cast<std::size_t>(l)], tape);  // [.., k, n]
      r = l == 0 ? f : r * f;
    }
  }
  const Var<T> w = unsqueeze(softmax(wl, axis), axis + 1);  // [.., k, 1]
  Var<T> q = sum(w * r, axis);                              // [B, n] or [n]
  if (!opt_.per_example_) q = expand(unsqueeze(q, 0), Shape{rows, n});
  return q;
}

template <typename T>
Var<T> DSelectK<T>::selector_regularizer(const Var<T>& r) const {
  Var<T> reg;
  if (opt_.entropy_reg_ > 0)
    reg = sum(r * log(r + static_cast<T>(1e-6))) * static_cast<T>(-opt_.entropy_reg_);
  if ((Index(1) << m_) != opt_.num_experts_) {
    const Var<T> reach = sum(pow(sum(r, r.shape().rank() - 1), static_cast<T>(-1)));
    reg = reg.defined() ? reg + reach : reach;
  }
  return reg;
}
ONESTONE_EXTERN_CLASS(SHARING, DSelectK)

}  // namespace sharing
}  // namespace onestone
