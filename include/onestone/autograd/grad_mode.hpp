#pragma once
/// @file grad_mode.hpp
/// Thread-local switch for recording operations, and `NoGradGuard`.

namespace onestone {
namespace autograd {
namespace detail {
inline bool& grad_enabled_flag() noexcept {
  thread_local bool enabled = true;
  return enabled;
}
}  // namespace detail

/// True when operations on the calling thread are recorded for backward.
inline bool is_grad_enabled() noexcept { return detail::grad_enabled_flag(); }
/// Turns recording on or off for the calling thread.
inline void set_grad_enabled(bool on) noexcept { detail::grad_enabled_flag() = on; }

/// RAII guard that disables recording on this thread for its lifetime (inference, evaluation).
///
/// Example:
/// @code
/// {
///   onestone::NoGradGuard no_grad;
///   auto logits = model.forward(x);   // no nodes recorded, no gradients
/// }
/// @endcode
class NoGradGuard {
 public:
  NoGradGuard() noexcept : previous_(is_grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace autograd
using autograd::NoGradGuard;
}  // namespace onestone
