#pragma once
/// @file tape.hpp
/// The autograd tape: variables and nodes recorded in creation order; backward is one reverse
/// loop over plain structs with function-pointer backward kernels.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "onestone/autograd/grad_mode.hpp"
#include "onestone/config.hpp"
#include "onestone/tensor/arena.hpp"
#include "onestone/tensor/shape.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone {
namespace autograd {

template <typename T>
class Tape;

/// One recorded operation: plain data, no virtual call, no heap. `saved` points at the
/// operation's own state (a named struct kept in the tape's arena), `in` at its input ids;
/// `backward` is the operation's reverse callback, reached through one function pointer.
template <typename T>
struct Node {
  using BackwardFn = void (*)(Tape<T>&, const Node<T>&);
  BackwardFn backward = nullptr;
  const char* op = "";          ///< operation name, for error messages and anomaly reports
  const void* saved = nullptr;  ///< the operation's saved state (in the arena)
  const int* in = nullptr;      ///< input variable ids (in the arena)
  int num_in = 0;
  int out = -1;
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
  /// Element k gets v (fresh sink) or v is added to it. For a sink written element by element
  /// in one pass that touches every element once.
  void add(Index k, T v) const { ptr[k] = fresh ? v : ptr[k] + v; }
  /// Zeroes the n elements of a fresh sink so that a scattered pass can accumulate into it;
  /// afterwards the sink is no longer fresh.
  void zero_if_fresh(Index n) {
    if (fresh && n > 0) std::memset(ptr, 0, sizeof(T) * static_cast<std::size_t>(n));
    fresh = false;
  }
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

  /// Records operation `op` (its saved state) as the producer of variable `out` from the
  /// inputs `ins[0..n)`. Runs the anomaly check of the output, then, when `out` requires a
  /// gradient, copies `op` and the input ids into the arena and appends a node. Every
  /// operation passes through here (see autograd/operation.hpp), so no operation can skip the
  /// anomaly check. `Op` must be trivially copyable and destructible (the arena never runs
  /// destructors) and provide `const char* name() const` and
  /// `void backward(const BackwardContext<T>&) const`.
  template <typename Op>
  void record_op(int out, const Op& op, const int* ins, int n);

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
    const BackwardHook hook = hook_;  // a local: the test below costs nothing without a hook
    void* const hook_context = hook_context_;
    for (std::size_t k = nodes_.size(); k-- > 0;) {
      const Node<T>& nd = nodes_[k];
      if (nd.out > root) continue;
      if (nd.out <= floor) break;
      const VarSlot<T>& o = slot(nd.out);
      if (o.external_grad || !o.grad_ready) continue;
      nd.backward(*this, nd);
      if (check_finite_) check_node_grads(nd, k);
      if (hook) hook(hook_context, k);
    }
  }

  /// An observer of backward passes: `hook(context, k)` runs after node k's backward (nodes run
  /// in decreasing k, so every node >= k is then done for this pass), e.g. to start reducing
  /// the gradients of parameters whose last use has passed (`distributed::GradientAllreducer`).
  /// A plain function pointer and a context: no allocation, and without a hook a backward pass
  /// pays one test of a local per node. The hook must not record on, rewind or reset the tape;
  /// a hook set during a pass applies from the next pass. nullptr removes it.
  using BackwardHook = void (*)(void* context, std::size_t node);
  void set_backward_hook(BackwardHook hook, void* context = nullptr) noexcept {
    hook_ = hook;
    hook_context_ = hook ? context : nullptr;
  }
  BackwardHook backward_hook() const noexcept { return hook_; }
  void* backward_hook_context() const noexcept { return hook_context_; }

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
  template <typename Op>
  static void call_backward(Tape& t, const Node<T>& n);
  void check_node_grads(const Node<T>& nd, std::size_t index) const {
    for (int k = 0; k < nd.num_in; ++k) {
      const int in = nd.in[k];
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
  BackwardHook hook_ = nullptr;
  void* hook_context_ = nullptr;
};

/// What an operation's backward sees: the upstream gradient and value of its output, the values
/// and shapes of its inputs, and a sink per input for that input's gradient.
///
/// Example (inside an operation's `backward`):
/// @code
/// void backward(const onestone::autograd::BackwardContext<double>& c) const {
///   auto dx = c.input_grad(0);          // null when input 0 needs no gradient
///   if (!dx) return;
///   const double* g = c.grad_output();  // dL/d(output), shape c.output_shape()
///   const double* x = c.input(0);
///   for (onestone::Index k = 0; k < c.output_shape().numel(); ++k)
///     dx.add(k, g[k] * 3 * x[k] * x[k]);
/// }
/// @endcode
template <typename T>
class BackwardContext {
 public:
  BackwardContext(Tape<T>& tape, const Node<T>& node) : tape_(tape), node_(node) {}
  Tape<T>& tape() const noexcept { return tape_; }
  /// The gradient of the loss with respect to the output (numel(output) values).
  const T* grad_output() const { return tape_.grad_in(node_.out); }
  const T* output() const { return tape_.value(node_.out); }
  const Shape& output_shape() const { return tape_.shape(node_.out); }
  int num_inputs() const noexcept { return node_.num_in; }
  /// Variable id of input k.
  int input_id(int k) const { return node_.in[k]; }
  const T* input(int k) const { return tape_.value(node_.in[k]); }
  const Shape& input_shape(int k) const { return tape_.shape(node_.in[k]); }
  /// Where input k's gradient goes (null when it needs none). A sink is `fresh` the first time
  /// it is handed out in a backward pass: then its memory holds no data and must be assigned.
  GradSink<T> input_grad(int k) const { return tape_.sink(node_.in[k]); }
  /// Scratch memory valid until the graph is reset (no heap allocation in steady state).
  template <typename U>
  U* scratch(std::size_t n) const {
    return tape_.arena().template allocate<U>(n ? n : 1);
  }

 private:
  Tape<T>& tape_;
  const Node<T>& node_;
};

template <typename T>
template <typename Op>
void Tape<T>::call_backward(Tape& t, const Node<T>& n) {
  static_cast<const Op*>(n.saved)->backward(BackwardContext<T>(t, n));
}

template <typename T>
template <typename Op>
void Tape<T>::record_op(int out, const Op& op, const int* ins, int n) {
  static_assert(std::is_trivially_copyable<Op>::value && std::is_trivially_destructible<Op>::value,
                "an operation's saved state must be trivially copyable and destructible");
  const char* name = op.name();
  check_forward(out, name);
  if (!slot(out).requires_grad) return;
  void* mem = arena_.allocate_bytes(sizeof(Op));
  const Op* saved = new (mem) Op(op);
  int* in = arena_.template allocate<int>(static_cast<std::size_t>(n > 0 ? n : 1));
  for (int k = 0; k < n; ++k) in[k] = ins[k];
  Node<T> node;
  node.backward = &Tape<T>::template call_backward<Op>;
  node.op = name;
  node.saved = saved;
  node.in = in;
  node.num_in = n;
  node.out = out;
  nodes_.push_back(node);
}

ONESTONE_EXTERN_CLASS(AUTOGRAD, Tape)

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
