#pragma once
/// @file task_affinity.hpp
/// `TaskAffinity<T>`: inter-task affinity measured during ordinary training — the cosine
/// similarity of per-task gradients (shared parameters and shared representation), the exact
/// lookahead affinity of Fifty et al. 2021 (TAG) and its first-order (linearised) estimate —
/// each averaged over the probes into a T×T matrix. Works from a custom loop (`measure`) and
/// from the `Trainer` (`attach`: a probe every N optimizer steps). See docs/affinity.md.

#include <Eigen/Dense>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/autograd/autograd.hpp"
#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/loader.hpp"
#include "onestone/metrics/correlation.hpp"
#include "onestone/model/multi_task_model.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/train/records.hpp"
#include "onestone/train/trainer.hpp"
#include "onestone/weighting/jacobian.hpp"

namespace onestone {
namespace train {

/// Options of `TaskAffinity`, set with chained builders (invalid values throw
/// std::invalid_argument at once).
///
/// @code
/// auto opts = onestone::train::TaskAffinityOptions().every(20).lookahead_lr(0.05);
/// @endcode
struct TaskAffinityOptions {
  /// With the Trainer: probe after every `n`-th optimizer step (n >= 1). Default 10.
  TaskAffinityOptions& every(std::int64_t n) {
    if (n < 1)
      throw std::invalid_argument("TaskAffinityOptions::every: must be >= 1, got " +
                                  std::to_string(n));
    every_ = n;
    return *this;
  }
  /// The step size η of the lookahead θₛ − η∇Lᵢ and of its linearisation (> 0). Default 0:
  /// the learning rate of the training step (the Trainer's, or the one given to `measure`).
  TaskAffinityOptions& lookahead_lr(double eta) {
    if (!(eta > 0) || !std::isfinite(eta))
      throw std::invalid_argument("TaskAffinityOptions::lookahead_lr: must be finite and > 0");
    lookahead_lr_ = eta;
    return *this;
  }
  /// Whether to run the exact lookahead (T extra forward passes per probe). Default true.
  TaskAffinityOptions& exact_lookahead(bool on) {
    exact_ = on;
    return *this;
  }
  /// Whether to also measure the cosine of the shared representation's gradients (when the
  /// strategy has one; costs T backward passes through the heads only). Default true.
  TaskAffinityOptions& representation_cosine(bool on) {
    representation_ = on;
    return *this;
  }
  /// Probe in training behaviour (dropout on, batch statistics) instead of evaluation
  /// behaviour (the default: deterministic, leaves buffers and generators alone). In training
  /// behaviour the probe saves and restores every buffer, `default_generator()` and the
  /// generators given to `TaskAffinity::add_generator`.
  TaskAffinityOptions& train_mode(bool on) {
    train_mode_ = on;
    return *this;
  }

  std::int64_t every_ = 10;
  double lookahead_lr_ = 0.0;
  bool exact_ = true;
  bool representation_ = true;
  bool train_mode_ = false;
};

/// How well two affinity matrices agree: Pearson's and Spearman's correlation of their
/// off-diagonal entries (NaN entries left out), and how many entries were compared.
///
/// @code
/// auto a = probe.agreement();   // exact lookahead vs linearised estimate
/// std::printf("pearson %.3f spearman %.3f over %zu pairs\n", a.pearson, a.spearman, a.pairs);
/// @endcode
struct AffinityAgreement {
  double pearson = std::numeric_limits<double>::quiet_NaN();
  double spearman = std::numeric_limits<double>::quiet_NaN();
  std::size_t pairs = 0;
};

/// Agreement of the off-diagonal entries of two T×T matrices (see `AffinityAgreement`).
///
/// @code
/// auto a = onestone::train::affinity_agreement(probe.lookahead(), probe.linearized());
/// @endcode
ONESTONE_FUNC AffinityAgreement affinity_agreement(const Eigen::MatrixXd& a,
                                                   const Eigen::MatrixXd& b)
#if ONESTONE_DEFINE_FUNCTIONS
{
  if (a.rows() != a.cols() || b.rows() != b.cols() || a.rows() != b.rows())
    throw std::invalid_argument(
        "affinity_agreement: expected two square matrices of one size, got " +
        weighting::detail::shape_str(a.rows(), a.cols()) + " and " +
        weighting::detail::shape_str(b.rows(), b.cols()));
  std::vector<double> x, y;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j)
      if (i != j && std::isfinite(a(i, j)) && std::isfinite(b(i, j))) {
        x.push_back(a(i, j));
        y.push_back(b(i, j));
      }
  AffinityAgreement r;
  r.pairs = x.size();
  r.pearson = metrics::pearson(x, y);
  r.spearman = metrics::spearman(x, y);
  return r;
}
#else
    ;
#endif

/// Writes a T×T matrix as CSV with a header row and a first column of task names ("" for NaN).
///
/// @code
/// onestone::train::write_affinity_csv("lookahead.csv", probe.task_names(), probe.lookahead());
/// @endcode
ONESTONE_FUNC void write_affinity_csv(const std::string& path,
                                      const std::vector<std::string>& names,
                                      const Eigen::MatrixXd& m)
#if ONESTONE_DEFINE_FUNCTIONS
{
  if (m.rows() != m.cols() || static_cast<std::size_t>(m.rows()) != names.size())
    throw std::invalid_argument("write_affinity_csv: a " +
                                weighting::detail::shape_str(m.rows(), m.cols()) + " matrix for " +
                                std::to_string(names.size()) + " task names");
  std::ofstream f(path);
  if (!f) throw std::runtime_error("write_affinity_csv: cannot open '" + path + "'");
  f << "source\\target";
  for (const auto& n : names) f << ',' << n;
  f << '\n';
  f.precision(10);
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    f << names[static_cast<std::size_t>(i)];
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      f << ',';
      if (std::isfinite(m(i, j))) f << m(i, j);
    }
    f << '\n';
  }
  if (!f) throw std::runtime_error("write_affinity_csv: writing '" + path + "' failed");
}
#else
    ;
#endif

/// Inter-task affinity measured at the current parameters on a batch, averaged over probes.
///
/// Every matrix is T×T with entry (i, j) the affinity OF task i ONTO task j (row = source,
/// column = target); g_i = ∇_{θₛ} L_i is task i's gradient of the shared parameters θₛ
/// (`strategy().shared_parameters()`), L_j task j's loss on the batch, η the lookahead rate:
///   - `cosine()`: cos(g_i, g_j) (symmetric, diagonal 1);
///   - `representation_cosine()`: the same with ∂L_i/∂z of the shared representation z;
///   - `lookahead()`: Z_{i→j} = 1 − L_j(θₛ − η g_i) / L_j(θₛ), the heads and task-specific
///     parameters kept fixed, same batch (TAG, Fifty et al. 2021, with an SGD lookahead);
///   - `linearized()`: its first-order estimate Ẑ_{i→j} = η g_i·g_j / L_j, from the gradients
///     already computed (L_j(θ − η g_i) ≈ L_j − η g_i·g_j).
/// Each entry is the mean over the probes in which both tasks had labelled samples (an entry
/// whose L_j ≤ 0 is left out of the lookahead means). `agreement()` compares the exact and the
/// linearised matrices.
///
/// A probe changes nothing of the training: the shared parameters are restored bit for bit
/// after the lookahead, every parameter's gradient is restored, the optimizer is not touched,
/// and (see `TaskAffinityOptions::train_mode`) neither buffers nor generators change. It runs
/// its own graph inside a `GraphScope`; call it between training steps. Cost per probe: one
/// forward, T backward passes through the model (plus T through the heads for the
/// representation cosine) and T no-grad forwards for the exact lookahead.
///
/// Example, from the Trainer (a probe every 20 steps on batches of its own loader):
/// @code
/// data::DataLoader<float> probe_loader(train_set, data::LoaderOptions().batch_size(256).seed(7));
/// train::TaskAffinity<float> probe(model, train::TaskAffinityOptions().every(20));
/// probe.attach(trainer, probe_loader);       // sets trainer.on_step
/// trainer.fit();
/// Eigen::MatrixXd Z = probe.lookahead();
/// @endcode
/// From a custom loop (exactly TAG: the lookahead on the step's own batch, before the step):
/// @code
/// for (const auto& batch : loader) {
///   if (step.steps() % 20 == 0) probe.measure(batch, opt.lr());
///   step(batch);
/// }
/// @endcode
template <typename T>
class TaskAffinity {
 public:
  explicit TaskAffinity(model::MultiTaskModel<T>& model,
                        TaskAffinityOptions options = TaskAffinityOptions());

  TaskAffinity(const TaskAffinity&) = delete;
  TaskAffinity& operator=(const TaskAffinity&) = delete;

  /// Another generator to save and restore around a probe in training behaviour.
  TaskAffinity& add_generator(Generator& g) {
    generators_.push_back(&g);
    return *this;
  }

  /// One probe on `batch` at the current parameters, with the options' lookahead rate.
  void measure(const data::Batch<T>& batch);

  /// One probe on `batch` at the current parameters with lookahead rate `eta` (> 0; the
  /// options' `lookahead_lr`, when set, takes precedence).
  void measure(const data::Batch<T>& batch, double eta);

  /// Probes the Trainer's model after every `every`-th optimizer step on the next batch of
  /// `probe_loader` (a loader of its own, e.g. over the training set with another seed; it is
  /// restarted when exhausted). Sets the Trainer's `on_step` callback: a program that needs
  /// its own should call `on_step(info)` from it instead. The lookahead rate defaults to the
  /// step's learning rate.
  void attach(Trainer<T>& trainer, data::DataLoader<T>& probe_loader) {
    loader_ = &probe_loader;
    trainer.on_step([this](const StepInfo& s) { on_step(s); });
  }
  /// Sets the loader `on_step` draws its batches from.
  void set_loader(data::DataLoader<T>& probe_loader) { loader_ = &probe_loader; }
  /// The Trainer callback: probes when `info.step` is a multiple of `every` (skipped steps
  /// never probe).
  void on_step(const StepInfo& info);

  /// The mean matrices (see the class comment); NaN where no probe measured the pair.
  Eigen::MatrixXd cosine() const { return mean(cos_sum_, cos_n_); }
  Eigen::MatrixXd representation_cosine() const { return mean(rep_sum_, rep_n_); }
  Eigen::MatrixXd lookahead() const { return mean(look_sum_, look_n_); }
  Eigen::MatrixXd linearized() const { return mean(lin_sum_, lin_n_); }
  /// The matrices of the last probe alone.
  const Eigen::MatrixXd& last_cosine() const noexcept { return last_cos_; }
  const Eigen::MatrixXd& last_representation_cosine() const noexcept { return last_rep_; }
  const Eigen::MatrixXd& last_lookahead() const noexcept { return last_look_; }
  const Eigen::MatrixXd& last_linearized() const noexcept { return last_lin_; }
  /// Agreement of the mean exact lookahead and the mean linearised estimate.
  AffinityAgreement agreement() const { return affinity_agreement(lookahead(), linearized()); }

  /// Probes taken, and the time they took (seconds).
  std::int64_t probes() const noexcept { return probes_; }
  double seconds() const noexcept { return seconds_; }
  const std::vector<std::string>& task_names() const noexcept { return names_; }
  const TaskAffinityOptions& options() const noexcept { return options_; }

  /// Forgets every probe (the means restart).
  void reset();

 private:
  static Eigen::MatrixXd mean(const Eigen::MatrixXd& s, const Eigen::MatrixXd& n);

  // Parameter lists and buffers, sized once.
  void prepare();

  void save_state();

  void restore_state();

  void probe(const data::Batch<T>& batch, double eta);

  // Cosines from the lower triangle of G_ (present tasks) into `last` and the means.
  void record_cosine(Eigen::Index m, Eigen::MatrixXd& last, Eigen::MatrixXd& sum,
                     Eigen::MatrixXd& count);

  static void add(Eigen::MatrixXd& last, Eigen::MatrixXd& sum, Eigen::MatrixXd& count, int i, int j,
                  double v);

  model::MultiTaskModel<T>& model_;
  TaskAffinityOptions options_;
  std::vector<std::string> names_;
  data::DataLoader<T>* loader_ = nullptr;
  data::Batch<T> batch_;
  std::vector<Generator*> generators_;
  // saved state
  std::vector<nn::Parameter<T>*> shared_, params_;
  std::vector<Tensor<T>*> buffers_;
  std::vector<nn::Module<T>*> modules_;
  std::vector<T> theta0_, grads0_, buffers0_;
  std::vector<char> modes0_;
  std::vector<Generator::State> gens0_;
  bool lookahead_active_ = false;
  // per probe
  std::vector<int> ids_;
  std::vector<Var<T>> losses_;
  std::vector<double> loss0_;
  weighting::Jacobian<T> J_, Jz_;
  weighting::Matrix<T> G_;
  // means
  Eigen::MatrixXd cos_sum_, cos_n_, rep_sum_, rep_n_, look_sum_, look_n_, lin_sum_, lin_n_;
  Eigen::MatrixXd last_cos_, last_rep_, last_look_, last_lin_;
  std::int64_t probes_ = 0;
  double seconds_ = 0.0;
};

template <typename T>
TaskAffinity<T>::TaskAffinity(model::MultiTaskModel<T>& model, TaskAffinityOptions options)
    : model_(model), options_(options) {
  if (model_.num_tasks() == 0)
    throw std::invalid_argument("TaskAffinity: the model has no tasks (add them first)");
  const int n = model_.num_tasks();
  for (int i = 0; i < n; ++i) names_.push_back(model_.task(i).name_);
  for (auto* m : {&cos_sum_, &cos_n_, &rep_sum_, &rep_n_, &look_sum_, &look_n_, &lin_sum_, &lin_n_})
    m->setZero(n, n);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto* m : {&last_cos_, &last_rep_, &last_look_, &last_lin_}) m->setConstant(n, n, nan);
  loss0_.assign(static_cast<std::size_t>(n), 0.0);
}

template <typename T>
void TaskAffinity<T>::measure(const data::Batch<T>& batch) {
  if (!(options_.lookahead_lr_ > 0))
    throw std::invalid_argument(
        "TaskAffinity::measure: no lookahead rate (set TaskAffinityOptions::lookahead_lr or "
        "pass the learning rate: measure(batch, lr))");
  measure(batch, options_.lookahead_lr_);
}

template <typename T>
void TaskAffinity<T>::measure(const data::Batch<T>& batch, double eta) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options_.lookahead_lr_ > 0) eta = options_.lookahead_lr_;
  if (!(eta > 0) || !std::isfinite(eta))
    throw std::invalid_argument(
        "TaskAffinity::measure: the lookahead rate must be finite and "
        "> 0, got " +
        std::to_string(eta));
  if (batch.size() == 0) throw std::invalid_argument("TaskAffinity::measure: empty batch");
  prepare();
  save_state();
  try {
    probe(batch, eta);
  } catch (...) {
    restore_state();
    throw;
  }
  restore_state();
  ++probes_;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <typename T>
void TaskAffinity<T>::on_step(const StepInfo& info) {
  if (info.skipped || info.step % options_.every_ != 0) return;
  if (!loader_)
    throw std::logic_error("TaskAffinity::on_step: no probe loader (use attach or set_loader)");
  if (!loader_->next(batch_)) {
    loader_->start_epoch();
    if (!loader_->next(batch_))
      throw std::invalid_argument("TaskAffinity::on_step: the probe loader yields no batch");
  }
  measure(batch_, info.lr);
}

template <typename T>
void TaskAffinity<T>::reset() {
  for (auto* m : {&cos_sum_, &cos_n_, &rep_sum_, &rep_n_, &look_sum_, &look_n_, &lin_sum_, &lin_n_})
    m->setZero();
  probes_ = 0;
  seconds_ = 0;
}

template <typename T>
Eigen::MatrixXd TaskAffinity<T>::mean(const Eigen::MatrixXd& s, const Eigen::MatrixXd& n) {
  Eigen::MatrixXd m(s.rows(), s.cols());
  for (Eigen::Index i = 0; i < s.rows(); ++i)
    for (Eigen::Index j = 0; j < s.cols(); ++j)
      m(i, j) = n(i, j) > 0 ? s(i, j) / n(i, j) : std::numeric_limits<double>::quiet_NaN();
  return m;
}

template <typename T>
void TaskAffinity<T>::prepare() {
  if (!params_.empty()) return;
  shared_ = model_.strategy().shared_parameters();
  if (shared_.empty())
    throw std::logic_error("TaskAffinity: the sharing strategy has no shared parameters");
  params_ = model_.parameters();
  Index P = 0, G = 0, B = 0;
  for (auto* p : shared_) P += p->numel();
  for (auto* p : params_) G += p->numel();
  for (auto& b : model_.named_buffers()) {
    buffers_.push_back(b.second);
    B += b.second->numel();
  }
  for (auto& m : model_.named_modules()) modules_.push_back(m.second);
  theta0_.resize(static_cast<std::size_t>(P));
  grads0_.resize(static_cast<std::size_t>(G));
  buffers0_.resize(static_cast<std::size_t>(B));
  modes0_.resize(modules_.size());
  gens0_.resize(generators_.size() + 1);
  const Eigen::Index n = model_.num_tasks();
  J_.resize(n, P);
  G_.resize(n, n);
}

template <typename T>
void TaskAffinity<T>::save_state() {
  std::size_t off = 0;
  for (auto* p : params_) {
    const Index k = p->numel();
    std::memcpy(grads0_.data() + off, p->grad().data(), sizeof(T) * static_cast<std::size_t>(k));
    off += static_cast<std::size_t>(k);
  }
  for (std::size_t m = 0; m < modules_.size(); ++m) modes0_[m] = modules_[m]->is_training();
  if (options_.train_mode_) {
    off = 0;
    for (auto* b : buffers_) {
      std::memcpy(buffers0_.data() + off, b->data(),
                  sizeof(T) * static_cast<std::size_t>(b->numel()));
      off += static_cast<std::size_t>(b->numel());
    }
    gens0_[0] = default_generator().state();
    for (std::size_t g = 0; g < generators_.size(); ++g) gens0_[g + 1] = generators_[g]->state();
  }
  model_.train(options_.train_mode_);
}

template <typename T>
void TaskAffinity<T>::restore_state() {
  std::size_t off = 0;
  for (auto* p : shared_) {
    // (a no-op unless a lookahead was interrupted by an exception)
    if (lookahead_active_) {
      std::memcpy(p->value().data(), theta0_.data() + off,
                  sizeof(T) * static_cast<std::size_t>(p->numel()));
    }
    off += static_cast<std::size_t>(p->numel());
  }
  lookahead_active_ = false;
  losses_.clear();  // their graph is gone (keeps the capacity)
  off = 0;
  for (auto* p : params_) {
    const Index k = p->numel();
    std::memcpy(p->grad().data(), grads0_.data() + off, sizeof(T) * static_cast<std::size_t>(k));
    off += static_cast<std::size_t>(k);
  }
  // Modules are listed parent first: setting each one's own mode last restores mixed modes.
  for (std::size_t m = 0; m < modules_.size(); ++m) modules_[m]->train(modes0_[m]);
  if (options_.train_mode_) {
    off = 0;
    for (auto* b : buffers_) {
      std::memcpy(b->data(), buffers0_.data() + off,
                  sizeof(T) * static_cast<std::size_t>(b->numel()));
      off += static_cast<std::size_t>(b->numel());
    }
    default_generator().set_state(gens0_[0]);
    for (std::size_t g = 0; g < generators_.size(); ++g) generators_[g]->set_state(gens0_[g + 1]);
  }
}

template <typename T>
void TaskAffinity<T>::probe(const data::Batch<T>& batch, double eta) {
  autograd::Tape<T>& tape = autograd::Tape<T>::current();
  GraphScope<T> scope(tape);
  const int n = model_.num_tasks();
  const std::vector<Var<T>>& out = model_.forward_tasks(batch.x);
  Var<T> z = options_.representation_ ? model_.strategy().shared_representation() : Var<T>();
  ids_.clear();
  losses_.clear();
  for (int i = 0; i < n; ++i) {
    if (model_.target_for(i, batch).labelled_count() == 0) continue;
    ids_.push_back(i);
    losses_.push_back(model_.task_loss(i, out[static_cast<std::size_t>(i)], batch));
    const double li = static_cast<double>(losses_.back().item());
    if (!std::isfinite(li))
      throw std::runtime_error("TaskAffinity::measure: the loss of task '" +
                               names_[static_cast<std::size_t>(i)] + "' is not finite");
    loss0_[static_cast<std::size_t>(i)] = li;
  }
  const Eigen::Index m = static_cast<Eigen::Index>(ids_.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (auto* M : {&last_cos_, &last_rep_, &last_look_, &last_lin_}) M->setConstant(nan);
  if (m == 0) return;

  // Representation gradients: each task's loss through its head only, down to z.
  if (z.defined()) {
    const Index D = z.numel();
    if (Jz_.cols() < D || Jz_.rows() < m) Jz_.resize(n, D);
    for (Eigen::Index r = 0; r < m; ++r) {
      tape.backward(losses_[static_cast<std::size_t>(r)].id(), nullptr, z.id());
      const T* g = tape.grad_in(z.id());
      if (g)
        Jz_.row(r).head(D) = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(g, D);
      else
        Jz_.row(r).head(D).setZero();
    }
    for (Eigen::Index a = 0; a < m; ++a)
      for (Eigen::Index b = 0; b <= a; ++b) {
        const double gab = static_cast<double>(Jz_.row(a).head(D).dot(Jz_.row(b).head(D)));
        G_(a, b) = static_cast<T>(gab);
      }
    record_cosine(m, last_rep_, rep_sum_, rep_n_);
  }

  // Shared-parameter gradients: T backward passes.
  for (Eigen::Index r = 0; r < m; ++r) {
    for (auto* p : shared_) p->zero_grad();
    losses_[static_cast<std::size_t>(r)].backward();
    Index off = 0;
    for (auto* p : shared_) {
      J_.row(r).segment(off, p->numel()) =
          Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(p->grad().data(), p->numel());
      off += p->numel();
    }
  }
  for (Eigen::Index a = 0; a < m; ++a)
    for (Eigen::Index b = 0; b <= a; ++b) G_(a, b) = J_.row(a).dot(J_.row(b));
  record_cosine(m, last_cos_, cos_sum_, cos_n_);
  for (Eigen::Index a = 0; a < m; ++a)
    for (Eigen::Index b = 0; b < m; ++b) {
      const int i = ids_[static_cast<std::size_t>(a)], j = ids_[static_cast<std::size_t>(b)];
      const double lj = loss0_[static_cast<std::size_t>(j)];
      if (!(lj > 0)) continue;
      const double gij = static_cast<double>(a >= b ? G_(a, b) : G_(b, a));
      add(last_lin_, lin_sum_, lin_n_, i, j, eta * gij / lj);
    }

  if (!options_.exact_) return;
  // Exact lookahead: θₛ ← θₛ − η gᵢ, every task's loss (no grad), then θₛ back bit for bit.
  {
    std::size_t off = 0;
    for (auto* p : shared_) {
      std::memcpy(theta0_.data() + off, p->value().data(),
                  sizeof(T) * static_cast<std::size_t>(p->numel()));
      off += static_cast<std::size_t>(p->numel());
    }
  }
  lookahead_active_ = true;
  const T step = static_cast<T>(eta);
  for (Eigen::Index a = 0; a < m; ++a) {
    Index off = 0;
    for (auto* p : shared_) {
      T* v = p->value().data();
      const T* v0 = theta0_.data() + off;
      for (Index k = 0; k < p->numel(); ++k) v[k] = v0[k] - step * J_(a, off + k);
      off += p->numel();
    }
    NoGradGuard no_grad;
    GraphScope<T> inner(tape);
    const std::vector<Var<T>>& o = model_.forward_tasks(batch.x);
    for (Eigen::Index b = 0; b < m; ++b) {
      const int j = ids_[static_cast<std::size_t>(b)];
      const double lj = loss0_[static_cast<std::size_t>(j)];
      if (!(lj > 0)) continue;
      const double after =
          static_cast<double>(model_.task_loss(j, o[static_cast<std::size_t>(j)], batch).item());
      add(last_look_, look_sum_, look_n_, ids_[static_cast<std::size_t>(a)], j, 1.0 - after / lj);
    }
  }
  std::size_t off = 0;
  for (auto* p : shared_) {
    std::memcpy(p->value().data(), theta0_.data() + off,
                sizeof(T) * static_cast<std::size_t>(p->numel()));
    off += static_cast<std::size_t>(p->numel());
  }
  lookahead_active_ = false;
}

template <typename T>
void TaskAffinity<T>::record_cosine(Eigen::Index m, Eigen::MatrixXd& last, Eigen::MatrixXd& sum,
                                    Eigen::MatrixXd& count) {
  for (Eigen::Index a = 0; a < m; ++a)
    for (Eigen::Index b = 0; b < m; ++b) {
      const double gab = static_cast<double>(a >= b ? G_(a, b) : G_(b, a));
      const double den = std::sqrt(static_cast<double>(G_(a, a)) * static_cast<double>(G_(b, b)));
      const double c = den > 0 ? gab / den : 0.0;
      add(last, sum, count, ids_[static_cast<std::size_t>(a)], ids_[static_cast<std::size_t>(b)],
          c);
    }
}

template <typename T>
void TaskAffinity<T>::add(Eigen::MatrixXd& last, Eigen::MatrixXd& sum, Eigen::MatrixXd& count,
                          int i, int j, double v) {
  last(i, j) = v;
  if (!std::isfinite(v)) return;
  sum(i, j) += v;
  count(i, j) += 1;
}

ONESTONE_EXTERN_CLASS(TRAIN, TaskAffinity)

}  // namespace train
}  // namespace onestone
