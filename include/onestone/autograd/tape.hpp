#pragma once
/// @file tape.hpp
/// The autograd tape: variables and nodes recorded in creation order; backward is one reverse
/// loop over plain structs with function-pointer backward kernels.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/autograd/grad_mode.hpp"
#include "onestone/tensor/arena.hpp"
#include "onestone/tensor/shape.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone {
namespace autograd {

template <typename T>
class Tape;

/// One recorded operation. Plain data: a backward kernel pointer, the output and up to three
/// input variable ids, and a few slots for saved scalars, integers and arena pointers.
template <typename T>
struct Node {
  using BackwardFn = void (*)(Tape<T>&, const Node<T>&);
  BackwardFn backward = nullptr;
  const char* op = "";  ///< operation name, for error messages and anomaly reports
  int out = -1;
  int in[3] = {-1, -1, -1};
  void* aux = nullptr;  ///< saved arena data (masks, statistics, index lists)
  void* aux2 = nullptr;
  T s[2] = {T(0), T(0)};  ///< saved scalars
  Index i[2] = {0, 0};    ///< saved integers
};

/// Bookkeeping for one variable on the tape.
template <typename T>
struct VarSlot {
  T* value = nullptr;
  T* grad = nullptr;
  Shape shape;
  std::uint64_t stamp = 0;  ///< unique creation stamp; detects stale handles
  bool requires_grad = false;
  bool grad_ready = false;     ///< grad holds valid data in the current backward pass
  bool leaf = false;           ///< created directly, not by an operation
  bool external_grad = false;  ///< grad memory belongs to a parameter (always accumulated)
};

/// Where a backward kernel writes an input's gradient: `fresh` means the buffer holds no data yet
/// and must be assigned rather than accumulated.
template <typename T>
struct GradSink {
  T* ptr = nullptr;
  bool fresh = false;
  explicit operator bool() const noexcept { return ptr != nullptr; }
  MatrixMap<T> matrix(Index r, Index c) const { return MatrixMap<T>(ptr, r, c); }
};

/// Assigns or accumulates an Eigen expression into a gradient sink (one pass either way).
template <typename T, typename Dst, typename Expr>
inline void accumulate(const GradSink<T>& sink, Dst&& dst, const Expr& e) {
  if (sink.fresh)
    dst = e;
  else
    dst += e;
}

/// The record of a computation: variables (values live in an `Arena`) and nodes in creation
/// order. One tape per thread and scalar type (`Tape<T>::current()`), like Stan Math's stack.
///
/// Lifetime: a graph lives until `reset()`. `request_reset()` (called by optimizers after a step)
/// defers the reset to the next variable created, so results stay readable until the next
/// forward pass starts. Vectors and the arena keep their capacity, so steady-state steps do not
/// allocate. Handles to variables of a reset graph are detected and rejected.
///
/// Example:
/// @code
/// auto& tape = onestone::autograd::Tape<float>::current();
/// tape.reset();                      // start a fresh graph
/// // ... build a graph with Var<float> operations, then loss.backward();
/// @endcode
template <typename T>
class Tape {
 public:
  Tape() {
    vars_.reserve(256);
    nodes_.reserve(256);
  }
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  /// The calling thread's tape for scalar type T.
  static Tape& current() {
    thread_local Tape tape;
    return tape;
  }

  /// Drops every variable and node; capacity is kept.
  void reset() {
    vars_.clear();
    nodes_.clear();
    arena_.reset();
    reset_pending_ = false;
  }
  /// Resets before the next variable is created (results stay readable until then).
  void request_reset() noexcept { reset_pending_ = true; }
  /// Applies a requested reset now (called before reusing cached parameter handles).
  void sync() {
    if (reset_pending_) reset();
  }

  /// A position to return to with `rewind()` (see `GraphScope`).
  struct Mark {
    std::size_t vars = 0, nodes = 0;
    Arena::Mark arena;
  };
  Mark mark() {
    apply_pending_reset();
    return Mark{vars_.size(), nodes_.size(), arena_.mark()};
  }
  void rewind(const Mark& m) {
    if (m.vars > vars_.size() || m.nodes > nodes_.size()) return;  // graph was reset meanwhile
    vars_.resize(m.vars);
    nodes_.resize(m.nodes);
    arena_.rewind(m.arena);
  }

  // ---- variables -------------------------------------------------------------------------

  /// A new variable with uninitialised arena storage.
  int new_var(const Shape& shape, bool requires_grad) {
    apply_pending_reset();
    VarSlot<T> s;
    s.value = arena_.allocate<T>(static_cast<std::size_t>(shape.numel()));
    s.shape = shape;
    s.stamp = ++stamp_counter_;
    s.requires_grad = requires_grad && is_grad_enabled();
    vars_.push_back(s);
    return static_cast<int>(vars_.size() - 1);
  }
  /// A non-leaf variable that aliases existing memory (reshape views): no copy.
  int alias_var(T* value, const Shape& shape, bool requires_grad) {
    apply_pending_reset();
    VarSlot<T> s;
    s.value = value;
    s.shape = shape;
    s.stamp = ++stamp_counter_;
    s.requires_grad = requires_grad && is_grad_enabled();
    vars_.push_back(s);
    return static_cast<int>(vars_.size() - 1);
  }
  /// A leaf over external memory (parameters): gradients accumulate into `grad`.
  int external_leaf(T* value, T* grad, const Shape& shape, bool requires_grad) {
    apply_pending_reset();
    VarSlot<T> s;
    s.value = value;
    s.grad = grad;
    s.shape = shape;
    s.stamp = ++stamp_counter_;
    s.requires_grad = requires_grad && grad != nullptr;
    s.leaf = true;
    s.external_grad = grad != nullptr;
    vars_.push_back(s);
    return static_cast<int>(vars_.size() - 1);
  }
  /// A leaf whose gradient lives in the arena (inputs you want gradients for).
  int arena_leaf(const Shape& shape, bool requires_grad) {
    const int id = new_var(shape, requires_grad);
    vars_[static_cast<std::size_t>(id)].leaf = true;
    vars_[static_cast<std::size_t>(id)].requires_grad = requires_grad;
    return id;
  }

  /// Records a node; callers record only when some input requires grad.
  void record(const Node<T>& n) { nodes_.push_back(n); }

  VarSlot<T>& slot(int id) { return vars_[static_cast<std::size_t>(id)]; }
  const VarSlot<T>& slot(int id) const { return vars_[static_cast<std::size_t>(id)]; }
  /// True when (id, stamp) names a live variable of this tape.
  bool alive(int id, std::uint64_t stamp) const noexcept {
    return !reset_pending_or_stale(id, stamp);
  }
  T* value(int id) { return slot(id).value; }
  const Shape& shape(int id) const { return slot(id).shape; }
  bool requires_grad(int id) const { return slot(id).requires_grad; }
  std::size_t num_vars() const noexcept { return vars_.size(); }
  std::size_t num_nodes() const noexcept { return nodes_.size(); }
  const Node<T>& node(std::size_t i) const { return nodes_[i]; }
  Arena& arena() noexcept { return arena_; }

  // ---- backward --------------------------------------------------------------------------

  /// The sink for variable `id`'s gradient in the current backward pass, or a null sink when the
  /// variable does not require a gradient.
  GradSink<T> sink(int id) {
    VarSlot<T>& s = slot(id);
    if (!s.requires_grad) return GradSink<T>{};
    if (s.external_grad) return GradSink<T>{s.grad, false};
    if (!s.grad) s.grad = arena_.allocate<T>(static_cast<std::size_t>(s.shape.numel()));
    const bool fresh = !s.grad_ready;
    s.grad_ready = true;
    return GradSink<T>{s.grad, fresh};
  }
  /// The gradient flowing into variable `id` in this pass, or nullptr when none arrived.
  const T* grad_in(int id) const {
    const VarSlot<T>& s = slot(id);
    if (s.external_grad) return s.grad;
    return s.grad_ready ? s.grad : nullptr;
  }

  /// Runs backward from `root`, seeding its gradient with ones (root must hold one element)
  /// or with `seed` (numel(root) values). Intermediate gradients restart at every call; leaf
  /// and parameter gradients accumulate. The graph is kept, so backward may run again from
  /// another root (per-task gradients). With `floor` ≥ 0, nodes whose output id is ≤ floor are
  /// not visited: backward stops at variable `floor` (whose gradient can then be read), e.g.
  /// back-propagating a task's loss through its head only, down to the shared representation.
  void backward(int root, const T* seed = nullptr, int floor = -1) {
    VarSlot<T>& r = slot(root);
    if (!seed && r.shape.numel() != 1)
      throw std::invalid_argument("backward: root has shape " + r.shape.str() +
                                  "; a non-scalar root needs a seed gradient");
    if (!r.requires_grad)
      throw std::invalid_argument(
          "backward: the root does not require grad (no parameter or grad-requiring input "
          "reaches it, or it was computed under NoGradGuard)");
    for (auto& v : vars_)
      if (!v.leaf) v.grad_ready = false;
    GradSink<T> g = sink(root);
    const Index n = r.shape.numel();
    if (seed) {
      if (g.fresh)
        std::memcpy(g.ptr, seed, sizeof(T) * static_cast<std::size_t>(n));
      else
        for (Index k = 0; k < n; ++k) g.ptr[k] += seed[k];
    } else {
      g.ptr[0] = g.fresh ? T(1) : g.ptr[0] + T(1);
    }
    for (std::size_t k = nodes_.size(); k-- > 0;) {
      const Node<T>& nd = nodes_[k];
      if (nd.out > root) continue;
      if (nd.out <= floor) break;
      const VarSlot<T>& o = slot(nd.out);
      if (o.external_grad || !o.grad_ready) continue;
      nd.backward(*this, nd);
      if (check_finite_) check_node_grads(nd, k);
    }
  }

  /// Anomaly mode: check every op's output (forward) and gradients (backward) for NaN/Inf.
  void set_detect_anomaly(bool on) noexcept { check_finite_ = on; }
  bool detect_anomaly() const noexcept { return check_finite_; }
  /// Called by ops after computing an output when anomaly mode is on.
  void check_forward(int out, const char* op) const {
    if (!check_finite_) return;
    const VarSlot<T>& s = slot(out);
    for (Index k = 0; k < s.shape.numel(); ++k)
      if (!std::isfinite(s.value[k]))
        throw std::runtime_error(std::string("anomaly: ") + op +
                                 " produced a non-finite value at " + "element " +
                                 std::to_string(k) + " of output " + s.shape.str() +
                                 " (variable #" + std::to_string(out) + ")");
  }

 private:
  bool reset_pending_or_stale(int id, std::uint64_t stamp) const noexcept {
    return id < 0 || static_cast<std::size_t>(id) >= vars_.size() ||
           vars_[static_cast<std::size_t>(id)].stamp != stamp;
  }
  void apply_pending_reset() {
    if (reset_pending_) reset();
  }
  void check_node_grads(const Node<T>& nd, std::size_t index) const {
    for (int in : nd.in) {
      if (in < 0) continue;
      const VarSlot<T>& s = slot(in);
      if (!s.requires_grad || !s.grad) continue;
      for (Index k = 0; k < s.shape.numel(); ++k)
        if (!std::isfinite(s.grad[k]))
          throw std::runtime_error(std::string("anomaly: backward of ") + nd.op + " (node #" +
                                   std::to_string(index) +
                                   ") produced a non-finite gradient for input " + s.shape.str());
    }
  }

  std::vector<VarSlot<T>> vars_;
  std::vector<Node<T>> nodes_;
  Arena arena_;
  std::uint64_t stamp_counter_ = 0;
  bool reset_pending_ = false;
  bool check_finite_ = false;
};

/// RAII scope that releases every variable created inside it on exit (evaluation loops).
///
/// Example:
/// @code
/// for (auto& batch : loader) {
///   onestone::GraphScope<float> scope;   // memory of this batch is reclaimed at scope exit
///   onestone::NoGradGuard no_grad;
///   auto y = model.forward(...);
/// }
/// @endcode
template <typename T>
class GraphScope {
 public:
  explicit GraphScope(Tape<T>& tape = Tape<T>::current()) : tape_(tape), mark_(tape.mark()) {}
  ~GraphScope() { tape_.rewind(mark_); }
  GraphScope(const GraphScope&) = delete;
  GraphScope& operator=(const GraphScope&) = delete;

 private:
  Tape<T>& tape_;
  typename Tape<T>::Mark mark_;
};

}  // namespace autograd
using autograd::GraphScope;
}  // namespace onestone
