#pragma once
/// @file hot_team.hpp
/// `HotTeam`: a few persistent worker threads for work that takes microseconds and is split
/// into a few parts, such as a batch-1 matrix-vector product while serving. OpenMP's team
/// costs a wake-up per parallel region when its threads have gone to sleep; these workers keep
/// spinning on a shared word for `get_worker_spin_us()` microseconds after each job (then they
/// sleep), so back-to-back calls find them awake. A job is a range of chunks cut into one
/// contiguous share per thread, so that each thread reads the same data on every call (it
/// stays in that core's cache); a thread out of work takes chunks from the far end of another
/// share, so the caller never waits for a worker that is asleep, descheduled or slowed by
/// cache misses. Which thread runs a chunk never changes what the chunk computes.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

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

/// Process-wide team of persistent workers (see the file comment). `run` is safe to call from
/// several threads at once: one caller at a time gets the workers, the others run the whole
/// job on their own thread.
class HotTeam {
 public:
  /// At most this many threads (the caller and kMaxParts − 1 workers) work on one job.
  static constexpr int kMaxParts = 16;
  /// Runs chunk `c` of the job described by `ctx`.
  using Job = void (*)(const void* ctx, std::int64_t c);

  /// The team (workers start at the first job that needs them).
  static HotTeam& instance() {
    static HotTeam team;
    return team;
  }

  /// Runs job(ctx, c) exactly once for every chunk c in [0, chunks) and returns when all have
  /// run. The chunks are cut into `parts` contiguous shares: share 0 is the caller's, share p
  /// worker p's; each thread walks its own share first (from its start, or from its end when
  /// `reverse`), then takes chunks from the far ends of the others'. With parts <= 1, or when
  /// another caller holds the team, everything runs on the caller in that walking order.
  void run(int parts, std::int64_t chunks, Job job, const void* ctx, bool reverse = false) {
    if (chunks <= 0) return;
    if (parts > chunks) parts = static_cast<int>(chunks);
    if (parts > kMaxParts) parts = kMaxParts;
    if (parts <= 1 || chunks >= (std::int64_t(1) << 31) || failed_.load(std::memory_order_relaxed) ||
        busy_.exchange(true, std::memory_order_acquire)) {
      for (std::int64_t i = 0; i < chunks; ++i) job(ctx, reverse ? chunks - 1 - i : i);
      return;
    }
    if (!ensure_workers(parts - 1)) {
      busy_.store(false, std::memory_order_release);
      for (std::int64_t i = 0; i < chunks; ++i) job(ctx, reverse ? chunks - 1 - i : i);
      return;
    }
    job_ = job;
    ctx_ = ctx;
    parts_ = parts;
    reverse_ = reverse;
    for (int p = 0; p < parts; ++p) {
      const std::uint64_t lo = static_cast<std::uint64_t>(chunks * p / parts);
      const std::uint64_t hi = static_cast<std::uint64_t>(chunks * (p + 1) / parts);
      shares_[p].bounds.store((lo << 32) | hi, std::memory_order_relaxed);
    }
    left_.store(0, std::memory_order_relaxed);
    const std::uint64_t gen = (state_.load(std::memory_order_relaxed) >> kPartBits) + 1;
    // The caller's bit and those of workers beyond `parts` start set: only workers 1..parts−1
    // may join.
    const std::uint64_t preset = 1u | (kPartMask & ~((std::uint64_t(1) << parts) - 1));
    state_.store((gen << kPartBits) | preset, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      cv_.notify_all();
    }
    work(0);
    // No chunk is left: close the job to workers that have not joined, wait for those that did.
    int joined = 0;
    for (int p = 1; p < parts; ++p) joined += !join(gen, p);
    for (unsigned i = 0; left_.load(std::memory_order_acquire) < joined; ++i) {
      cpu_relax();
      if (i >= 4096) std::this_thread::yield();
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
  // state_ = generation << kPartBits | one bit per thread that joined (or may no longer join)
  // the job of that generation.
  static constexpr int kPartBits = kMaxParts;
  static constexpr std::uint64_t kPartMask = (std::uint64_t(1) << kPartBits) - 1;
  // One share of a job: its remaining chunks [front, back) as front << 32 | back, alone on its
  // cache line.
  struct alignas(64) Share {
    std::atomic<std::uint64_t> bounds{0};
  };

  // The spin setting is created first, so that it outlives the team at exit.
  HotTeam() { (void)get_worker_spin_us(); }

  // Sets bit p of generation gen; false if it was set already or the generation moved on.
  bool join(std::uint64_t gen, int p) {
    const std::uint64_t bit = std::uint64_t(1) << p;
    std::uint64_t s = state_.load(std::memory_order_relaxed);
    for (;;) {
      if ((s >> kPartBits) != gen || (s & bit)) return false;
      if (state_.compare_exchange_weak(s, s | bit, std::memory_order_acq_rel,
                                       std::memory_order_relaxed))
        return true;
    }
  }

  // Takes the chunk at the front (or back) of share p; false when the share is empty.
  bool take(int p, bool front, std::int64_t& c) {
    std::atomic<std::uint64_t>& b = shares_[p].bounds;
    std::uint64_t s = b.load(std::memory_order_relaxed);
    for (;;) {
      const std::uint64_t lo = s >> 32, hi = s & 0xffffffffu;
      if (lo >= hi) return false;
      const std::uint64_t next = front ? ((lo + 1) << 32) | hi : (lo << 32) | (hi - 1);
      if (b.compare_exchange_weak(s, next, std::memory_order_relaxed, std::memory_order_relaxed)) {
        c = static_cast<std::int64_t>(front ? lo : hi - 1);
        return true;
      }
    }
  }

  // Runs chunks until none is left: own share first, then the far ends of the others'.
  void work(int self) {
    std::int64_t c;
    while (take(self, !reverse_, c)) job_(ctx_, c);
    for (int k = 1; k < parts_; ++k) {
      const int q = (self + k) % parts_;
      while (take(q, reverse_, c)) job_(ctx_, c);
    }
  }

  // Starts workers until there are n (called by the one caller holding busy_).
  bool ensure_workers(int n) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (static_cast<int>(threads_.size()) < n) {
      const int part = static_cast<int>(threads_.size()) + 1;
      const std::uint64_t seen = state_.load(std::memory_order_relaxed) >> kPartBits;
      try {
        threads_.emplace_back([this, part, seen] { serve(part, seen); });
      } catch (const std::system_error&) {
        failed_.store(true, std::memory_order_relaxed);
        return false;
      }
    }
    return true;
  }

  // Waits for a generation other than `seen`: spins for the configured time, then sleeps.
  std::uint64_t wait(std::uint64_t seen) {
    using clock = std::chrono::steady_clock;
    const auto until = clock::now() + std::chrono::microseconds(get_worker_spin_us());
    for (unsigned i = 1;; ++i) {
      const std::uint64_t g = state_.load(std::memory_order_acquire) >> kPartBits;
      if (g != seen || stop_.load(std::memory_order_relaxed)) return g;
      cpu_relax();
      if ((i & 63) == 0 && clock::now() >= until) break;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    cv_.wait(lock, [&] {
      return (state_.load(std::memory_order_seq_cst) >> kPartBits) != seen ||
             stop_.load(std::memory_order_relaxed);
    });
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    return state_.load(std::memory_order_acquire) >> kPartBits;
  }

  // Worker p's loop. The job's fields are stable while it has joined: its caller waits for
  // `left_` before it returns.
  void serve(int p, std::uint64_t seen) {
    for (;;) {
      const std::uint64_t gen = wait(seen);
      if (stop_.load(std::memory_order_relaxed)) return;
      seen = gen;
      if (join(gen, p)) {
        work(p);
        left_.fetch_add(1, std::memory_order_release);
      }
    }
  }

  std::atomic<std::uint64_t> state_{0};
  std::atomic<int> left_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> busy_{false};
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  Job job_ = nullptr;
  const void* ctx_ = nullptr;
  int parts_ = 0;
  bool reverse_ = false;
  Share shares_[kMaxParts];
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
};

}  // namespace detail
}  // namespace autograd
}  // namespace onestone
