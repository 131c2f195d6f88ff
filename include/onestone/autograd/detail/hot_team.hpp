#pragma once
/// @file hot_team.hpp
/// `HotTeam`: a few persistent worker threads for work that takes microseconds and is split
/// into a few parts, such as a batch-1 matrix-vector product while serving. OpenMP's team
/// costs a wake-up per parallel region once its threads have gone to sleep; these workers keep
/// spinning for `get_worker_spin_us()` microseconds after each job, so back-to-back calls find
/// them awake, and then nap in growing timed sleeps (50 µs to 4 ms).
///
/// A job is a range of chunks cut into one contiguous share per thread, the same share for the
/// same thread on every call, so its data stays in that core's cache. Each worker has its own
/// mailbox (one cache line holding the whole job) and its own completion line: handing a job
/// over and back moves two cache lines per worker. Callers never wake a worker: a wake-up
/// costs the caller a system call, and Linux places the woken thread on the waker's core, where
/// its spinning would take the caller's time. Instead the caller runs the share of a worker
/// that has not picked it up by the time the caller is done with its own, and takes chunks from
/// the far end of a share whose worker is more than 2 µs late (descheduled, or slowed down), so
/// a sleeping or preempted worker never holds a call up. Which thread runs a chunk never
/// changes what the chunk computes.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__unix__)
#include <pthread.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "onestone/tensor/threads.hpp"

namespace onestone {
namespace autograd {
namespace detail {

/// A hint to the processor that the calling thread is spinning (x86 `pause`).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// A job for `HotTeam`: `run(task, c0, c1, reverse)` computes chunks [c0, c1), in that order or
/// the reverse; `arg` carries up to four pointers the job needs (copied into each worker's
/// mailbox, so a worker reads one cache line to start).
struct TeamTask {
  void (*run)(const TeamTask& task, std::int64_t c0, std::int64_t c1, bool reverse) = nullptr;
  const void* arg[4] = {nullptr, nullptr, nullptr, nullptr};
};

/// Process-wide team of persistent workers (see the file comment). `run` is safe to call from
/// several threads at once: one caller at a time gets the workers, the others run the whole
/// job on their own thread.
class HotTeam {
 public:
  /// At most this many threads (the caller and kMaxParts − 1 workers) work on one job.
  static constexpr int kMaxParts = 16;

  /// The team (workers start at the first job that needs them).
  static HotTeam& instance() {
    static HotTeam team;
    return team;
  }

  /// Runs every chunk in [0, chunks) exactly once and returns when all have run. The chunks are
  /// cut into `parts` contiguous shares, share 0 the caller's and share p worker p's, each
  /// walked from its start (from its end when `reverse`) in calls of task.run over consecutive
  /// chunks. With parts <= 1, or while another caller holds the team, the caller runs all of
  /// them in one call.
  void run(int parts, std::int64_t chunks, const TeamTask& task, bool reverse = false) {
    if (chunks <= 0) return;
    if (parts > chunks) parts = static_cast<int>(chunks);
    if (parts > kMaxParts) parts = kMaxParts;
    if (parts <= 1 || chunks >= (std::int64_t(1) << 31) ||
        failed_.load(std::memory_order_relaxed) ||
        busy_.exchange(true, std::memory_order_acquire)) {
      task.run(task, 0, chunks, reverse);
      return;
    }
    if (!ensure_workers(parts - 1)) {
      busy_.store(false, std::memory_order_release);
      task.run(task, 0, chunks, reverse);
      return;
    }
    const std::uint64_t gen = ++gen_;
    for (int p = 1; p < parts; ++p) {
      Mailbox& m = boxes_[p];
      const auto lo = static_cast<std::uint64_t>(chunks * p / parts);
      const auto hi = static_cast<std::uint64_t>(chunks * (p + 1) / parts);
      m.task = task;
      m.reverse = reverse;
      m.bounds.store((lo << 32) | hi, std::memory_order_relaxed);
      m.word.store(gen << 1, std::memory_order_release);  // publishes the job, unclaimed
    }
    task.run(task, 0, chunks / parts, reverse);
    using clock = std::chrono::steady_clock;
    clock::time_point patience{};
    for (int p = 1; p < parts; ++p) {
      Mailbox& m = boxes_[p];
      if (dones_[p].gen.load(std::memory_order_acquire) == gen) continue;
      std::uint64_t w = gen << 1;
      if (m.word.compare_exchange_strong(w, w | 1, std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
        // The worker had not started: its share is the caller's.
        const std::uint64_t b = m.bounds.load(std::memory_order_relaxed);
        task.run(task, static_cast<std::int64_t>(b >> 32),
                 static_cast<std::int64_t>(b & 0xffffffffu), reverse);
        continue;
      }
      // The worker is on it. If it is late (descheduled, or slowed down), take chunks from
      // the far end of its share.
      if (patience == clock::time_point{}) patience = clock::now() + kPatience;
      for (unsigned i = 0; dones_[p].gen.load(std::memory_order_acquire) != gen; ++i) {
        cpu_relax();
        if ((i & 15) == 15 && clock::now() >= patience) {
          std::int64_t c;
          while (take(m, reverse, c)) task.run(task, c, c + 1, reverse);
          patience = clock::time_point::min();
        }
        if (i >= 4096) std::this_thread::yield();
      }
    }
    busy_.store(false, std::memory_order_release);
  }

  /// Number of worker threads started so far (tests).
  int workers() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(threads_.size());
  }

  HotTeam(const HotTeam&) = delete;
  HotTeam& operator=(const HotTeam&) = delete;
  ~HotTeam() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_.store(true, std::memory_order_seq_cst);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  // Worker p's job: `word` = generation << 1 | claimed (by the worker, or by the caller when
  // the worker was late); the other fields are written before `word` by the caller and read
  // by the worker only after it claimed that generation.
  struct alignas(64) Mailbox {
    std::atomic<std::uint64_t> word{0};
    std::atomic<std::uint64_t> bounds{0};  // chunks left: front << 32 | back
    TeamTask task;
    bool reverse = false;
  };
  // How long a caller done with its share waits for a worker before taking its chunks.
  static constexpr std::chrono::microseconds kPatience{2};
  // The last generation worker p finished (written by the worker alone).
  struct alignas(64) Done {
    std::atomic<std::uint64_t> gen{0};
  };

  // The spin setting is created first, so that it outlives the team at exit.
  HotTeam() {
    (void)get_worker_spin_us();
#if defined(__unix__)
    pthread_atfork(nullptr, nullptr, [] { instance().after_fork(); });
#endif
  }

  // In a child process the workers do not exist: forget them (never joined; a worker may
  // have held the mutex) and start afresh.
  void after_fork() {
    if (!orphans_) orphans_ = new std::vector<std::thread>();  // never destroyed (or joined)
    for (auto& t : threads_) orphans_->push_back(std::move(t));
    threads_.clear();
    new (&mutex_) std::mutex;
    new (&cv_) std::condition_variable;
    for (auto& m : boxes_) m.word.store(0, std::memory_order_relaxed);
    for (auto& d : dones_) d.gen.store(0, std::memory_order_relaxed);
    gen_ = 0;
    busy_.store(false, std::memory_order_relaxed);
  }

  // Starts workers until there are n (called by the one caller holding busy_).
  bool ensure_workers(int n) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int>(threads_.size()) < n) {
      const int p = static_cast<int>(threads_.size()) + 1;
      try {
        threads_.emplace_back([this, p] { serve(p); });
      } catch (const std::system_error&) {
        failed_.store(true, std::memory_order_relaxed);
        return false;
      }
    }
    return true;
  }

  // Waits until worker p's mailbox holds a generation other than `seen` (or the team stops):
  // spins for the configured time, then sleeps in growing timed naps (50 µs to 4 ms) and spins
  // again once it sees that jobs came meanwhile. Callers never wake a worker: a wake-up costs
  // the caller a system call, and Linux would move the woken worker onto the caller's core
  // (where its spinning would take the caller's time); a job that finds its worker asleep is
  // run by the caller. Returns the mailbox word.
  std::uint64_t wait(int p, std::uint64_t seen) {
    using clock = std::chrono::steady_clock;
    std::atomic<std::uint64_t>& word = boxes_[p].word;
    auto changed = [&](std::uint64_t& w) {
      w = word.load(std::memory_order_acquire);
      return (w >> 1) != seen || stop_.load(std::memory_order_relaxed);
    };
    std::uint64_t w;
    for (;;) {
      const auto until = clock::now() + std::chrono::microseconds(get_worker_spin_us());
      for (unsigned i = 1;; ++i) {
        w = word.load(std::memory_order_acquire);
        if ((w >> 1) != seen) return w;
        cpu_relax();
        if ((i & 63) == 0 && (stop_.load(std::memory_order_relaxed) || clock::now() >= until))
          break;
      }
      std::unique_lock<std::mutex> lock(mutex_);
      for (auto nap = std::chrono::microseconds(50);;
           nap = std::min(2 * nap, decltype(nap)(4000))) {
        if (cv_.wait_for(lock, nap, [&] { return changed(w); })) break;
      }
      if (stop_.load(std::memory_order_relaxed) || (w & 1) == 0) return w;
      // Jobs came while it slept (the callers ran them): spin again for the next one.
      seen = w >> 1;
    }
  }

  // Takes the chunk at the front (or back) of a worker's share; false when none is left.
  // With `most`, takes about half of what is left (at least one chunk) as [c, c + n).
  static bool take(Mailbox& m, bool front, std::int64_t& c, std::int64_t* most = nullptr) {
    std::uint64_t s = m.bounds.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint64_t lo = s >> 32, hi = s & 0xffffffffu;
      if (lo >= hi) return false;
      const std::uint64_t n = most ? (hi - lo + 1) / 2 : 1;
      const std::uint64_t next = front ? ((lo + n) << 32) | hi : (lo << 32) | (hi - n);
      if (m.bounds.compare_exchange_weak(s, next, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
        c = static_cast<std::int64_t>(front ? lo : hi - n);
        if (most) *most = static_cast<std::int64_t>(n);
        return true;
      }
    }
  }

  // Worker p's loop: claim each new job, run its share in halving pieces from the near end
  // (the caller may take chunks from the far end), report it done.
  void serve(int p) {
    Mailbox& m = boxes_[p];
    std::uint64_t seen = 0;
    for (;;) {
      std::uint64_t w = wait(p, seen);
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = w >> 1;
      if ((w & 1) == 0 && m.word.compare_exchange_strong(w, w | 1, std::memory_order_acq_rel,
                                                         std::memory_order_relaxed)) {
        std::int64_t c, n;
        while (take(m, !m.reverse, c, &n)) m.task.run(m.task, c, c + n, m.reverse);
        dones_[p].gen.store(seen, std::memory_order_release);
      }
    }
  }

  Mailbox boxes_[kMaxParts];
  Done dones_[kMaxParts];
  alignas(64) std::atomic<bool> stop_{false};  // read by spinning workers: a line of its own
  alignas(64) std::atomic<bool> busy_{false};
  std::atomic<bool> failed_{false};
  std::uint64_t gen_ = 0;  // the last generation handed out (written by the busy_ holder)
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
  std::vector<std::thread>* orphans_ = nullptr;  // the parent's workers, in a forked child
};

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
