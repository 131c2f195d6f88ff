#pragma once
/// @file grad_mode.hpp
/// Thread-local switches: recording operations (`NoGradGuard`) and serving (`InferenceGuard`).

namespace onestone {
namespace autograd {
namespace detail {
inline bool& grad_enabled_flag() noexcept {
  thread_local bool enabled = true;
  return enabled;
}
inline bool& inference_flag() noexcept {
  thread_local bool on = false;
  return on;
}
}  // namespace detail

/// True when operations on the calling thread are recorded for backward.
inline bool is_grad_enabled() noexcept { return detail::grad_enabled_flag(); }
/// Turns recording on or off for the calling thread.
inline void set_grad_enabled(bool on) noexcept { detail::grad_enabled_flag() = on; }

/// True inside an `InferenceGuard` on the calling thread: modules behave as in evaluation mode
/// (dropout off, batch norm on its running statistics) whatever their train() setting, and
/// change no state of theirs, so a model may serve predictions from several threads at once.
inline bool is_inference_mode() noexcept { return detail::inference_flag(); }

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

/// RAII guard for serving: no recording (as `NoGradGuard`) and evaluation behaviour of every
/// module on this thread, without changing any module's state.
///
/// Example:
/// @code
/// onestone::InferenceGuard serving;
/// auto outputs = model.predict(x);
/// @endcode
class InferenceGuard {
 public:
  InferenceGuard() noexcept : grad_(is_grad_enabled()), inference_(is_inference_mode()) {
    set_grad_enabled(false);
    detail::inference_flag() = true;
  }
  ~InferenceGuard() {
    set_grad_enabled(grad_);
    detail::inference_flag() = inference_;
  }
  InferenceGuard(const InferenceGuard&) = delete;
  InferenceGuard& operator=(const InferenceGuard&) = delete;

 private:
  bool grad_, inference_;
};

}  // namespace autograd
using autograd::InferenceGuard;
using autograd::NoGradGuard;
}  // namespace onestone
