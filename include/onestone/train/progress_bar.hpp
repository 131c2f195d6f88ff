#pragma once
/// @file progress_bar.hpp
/// `ProgressBar`: a one-line text progress bar for training loops.

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace onestone {
namespace train {

/// A text progress bar redrawn in place on a terminal ("[#####-----] 50/100 loss 0.42 3.1s").
/// When the output is not a terminal (logs, CI) it prints only at 25% steps and at the end, so
/// logs stay short.
///
/// @param total  number of steps; @param label text before the bar; @param out the stream
///
/// Example:
/// @code
/// onestone::train::ProgressBar bar(loader.num_batches(), "epoch 1");
/// for (...) { ...; bar.update(i + 1, "loss 0.42"); }
/// bar.finish();
/// @endcode
class ProgressBar {
 public:
  explicit ProgressBar(long total, std::string label = "", std::ostream& out = std::cout,
                       int width = 30)
      : total_(total > 0 ? total : 1),
        label_(std::move(label)),
        out_(out),
        width_(width),
        start_(std::chrono::steady_clock::now()) {
#if defined(__unix__) || defined(__APPLE__)
    tty_ = (&out == &std::cout && ::isatty(1)) || (&out == &std::cerr && ::isatty(2));
#endif
  }
  /// Shows `done` of `total` steps with an optional suffix (e.g. current losses).
  void update(long done, const std::string& suffix = "") {
    done_ = done;
    const int quarter = static_cast<int>(4 * done / total_);
    if (tty_) {
      draw(suffix, '\r');
    } else if (quarter > last_quarter_ && done < total_) {
      last_quarter_ = quarter;
      draw(suffix, '\n');
    }
    suffix_ = suffix;
  }
  /// Draws the final state and ends the line.
  void finish(const std::string& suffix = "") {
    done_ = total_;
    draw(suffix.empty() ? suffix_ : suffix, tty_ ? '\r' : '\n');
    if (tty_) out_ << '\n';
    out_.flush();
  }
  double elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  void draw(const std::string& suffix, char end) {
    const int filled = static_cast<int>(width_ * done_ / total_);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(width_ - filled), '-');
    char buf[64];
    std::snprintf(buf, sizeof buf, " %ld/%ld %.1fs ", done_, total_, elapsed_seconds());
    if (end == '\r') out_ << '\r';
    out_ << label_ << (label_.empty() ? "" : " ") << '[' << bar << ']' << buf << suffix;
    if (end == '\n') out_ << '\n';
    out_.flush();
  }
  long total_;
  long done_ = 0;
  std::string label_, suffix_;
  std::ostream& out_;
  int width_;
  int last_quarter_ = 0;
  bool tty_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace train
}  // namespace onestone
