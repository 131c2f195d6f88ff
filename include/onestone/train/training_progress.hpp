#pragma once
/// @file training_progress.hpp
/// `TrainingProgress`: the `Trainer`'s progress output — a redrawn bar on a terminal (steps,
/// rate, time left, current per-task losses), exactly one plain line per epoch otherwise.

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "onestone/train/records.hpp"

namespace onestone {
namespace train {

/// Progress output of a training run. On a terminal it redraws one line in place
/// ("epoch 2/10 [#######-----] 120/200 35.2 it/s eta 2.3s | a 0.412 b 0.087"), at most ten
/// times a second, and ends each epoch with its summary line. When the stream is not a
/// terminal (a log file, CI, a std::ostringstream) it prints exactly one plain line per epoch
/// and nothing else ("epoch 2/10 step 400 loss 0.4997 | a 0.4120 b 0.0877 | val mean_primary
/// 0.2511 | lr 0.001 | 3.1s"). Whether the stream is a terminal is detected for std::cout and
/// std::cerr (isatty) unless given; `set_enabled(false)` silences it. Drawing does not
/// allocate (fixed buffer).
///
/// @code
/// std::ostringstream out;
/// onestone::train::TrainingProgress progress(out, /*is_terminal=*/false);
/// progress.set_tasks({"a", "b"});
/// progress.start_epoch(1, 10, loader.num_batches());
/// // ... progress.update(batch, losses) per step ...
/// progress.end_epoch(epoch_info);   // one line in `out`
/// @endcode
class TrainingProgress {
 public:
  /// Writes to `out`; whether it is a terminal is detected (std::cout / std::cerr only).
  explicit TrainingProgress(std::ostream& out = std::cout) : out_(&out) {
#if defined(__unix__) || defined(__APPLE__)
    tty_ = (&out == &std::cout && ::isatty(1)) || (&out == &std::cerr && ::isatty(2));
#endif
  }
  /// Writes to `out`, a terminal or not as told (tests, or forcing plain lines).
  TrainingProgress(std::ostream& out, bool is_terminal) : out_(&out), tty_(is_terminal) {}

  /// Turns the output on or off (off: nothing is written).
  void set_enabled(bool on) noexcept { enabled_ = on; }
  bool enabled() const noexcept { return enabled_; }
  /// Whether the stream is treated as a terminal (bar redraws) or not (one line per epoch).
  bool is_terminal() const noexcept { return tty_; }
  /// Task names, in model order (for the per-task losses).
  void set_tasks(std::vector<std::string> names) { tasks_ = std::move(names); }

  /// Starts epoch `epoch` of `epochs` with `batches` batches, `done` of them already done
  /// (resuming within an epoch).
  void start_epoch(int epoch, int epochs, std::int64_t batches, std::int64_t done = 0) {
    epoch_ = epoch;
    epochs_ = epochs;
    batches_ = batches > 0 ? batches : 1;
    start_done_ = done;
    start_ = last_draw_ = std::chrono::steady_clock::now();
    drawn_ = false;
  }
  /// `done` batches of the epoch are done; `losses` are the current per-task losses (NaN:
  /// absent). Redraws on a terminal (throttled); nothing otherwise.
  void update(std::int64_t done, const std::vector<double>& losses) {
    if (!enabled_ || !tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && done < batches_ && std::chrono::duration<double>(now - last_draw_).count() < 0.1)
      return;
    last_draw_ = now;
    drawn_ = true;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done - start_done_) / secs : 0.0;
    const double eta = rate > 0 ? static_cast<double>(batches_ - done) / rate : 0.0;
    const int width = 24;
    long long filled = width * done / batches_;
    if (filled > width) filled = width;
    if (filled < 0) filled = 0;
    std::size_t n = 0;
    put(n, "\repoch %d/%d [", epoch_, epochs_);
    for (int i = 0; i < width && n + 1 < buf_.size(); ++i) buf_[n++] = i < filled ? '#' : '-';
    put(n, "] %lld/%lld %.1f it/s eta %.1fs |", static_cast<long long>(done),
        static_cast<long long>(batches_), rate, eta);
    for (std::size_t i = 0; i < tasks_.size() && i < losses.size(); ++i) {
      if (std::isnan(losses[i]))
        put(n, " %s -", tasks_[i].c_str());
      else
        put(n, " %s %.4g", tasks_[i].c_str(), losses[i]);
    }
    put(n, "\033[K");
    out_->write(buf_.data(), static_cast<std::streamsize>(n));
    out_->flush();
  }
  /// Ends the epoch with its summary line (replacing the bar on a terminal).
  void end_epoch(const EpochInfo& r, const std::string& monitor_name = "") {
    if (!enabled_) return;
    std::size_t n = 0;
    if (tty_) put(n, "\r");
    put(n, "epoch %d/%d step %lld loss %.4f |", r.epoch, epochs_, static_cast<long long>(r.step),
        r.train_total);
    for (std::size_t i = 0; i < r.tasks.size() && i < r.train_losses.size(); ++i)
      put(n, " %s %.4f", r.tasks[i].c_str(), r.train_losses[i]);
    if (r.has_validation)
      put(n, " | val %s %.4f", monitor_name.empty() ? "monitor" : monitor_name.c_str(), r.monitor);
    put(n, " | lr %.3g | %.1fs", r.lr, r.elapsed_seconds);
    if (!r.complete) put(n, " (stopped)");
    if (tty_) put(n, "\033[K");
    put(n, "\n");
    out_->write(buf_.data(), static_cast<std::streamsize>(n));
    out_->flush();
  }

 private:
  void put(std::size_t& n, const char* text) {
    while (*text && n + 1 < buf_.size()) buf_[n++] = *text++;
  }
  template <class A0, class... A>
  void put(std::size_t& n, const char* fmt, A0 a0, A... args) {
    if (n + 1 >= buf_.size()) return;
    const int w = std::snprintf(buf_.data() + n, buf_.size() - n, fmt, a0, args...);
    if (w > 0) n = std::min(buf_.size() - 1, n + static_cast<std::size_t>(w));
  }

  std::ostream* out_;
  bool tty_ = false;
  bool enabled_ = true;
  std::vector<std::string> tasks_;
  int epoch_ = 0, epochs_ = 0;
  std::int64_t batches_ = 1, start_done_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::array<char, 1024> buf_{};
};

}  // namespace train
}  // namespace onestone
