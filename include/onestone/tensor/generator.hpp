#pragma once
/// @file generator.hpp
/// `Generator`: a seeded, portable random number generator (same numbers on every machine).

#include <cmath>
#include <cstdint>
#include <limits>

namespace onestone {

/// A portable pseudo-random generator (xoshiro256** seeded through splitmix64).
///
/// Unlike `std::normal_distribution`, whose output differs between standard libraries, every
/// draw here is defined by this code alone, so the same seed yields the same initial weights,
/// shuffles and dropout masks on every machine and compiler.
///
/// Example:
/// @code
/// onestone::Generator gen(42);
/// double u = gen.uniform();          // [0, 1)
/// double z = gen.normal(0.0, 1.0);   // standard normal
/// std::uint64_t k = gen.below(10);   // integer in [0, 10)
/// @endcode
class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0x5eedULL) { seed_(seed); }

  /// Restarts the sequence from `seed`.
  void seed_(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) w = splitmix64(x);
    has_spare_ = false;
  }

  /// The next 64 random bits.
  std::uint64_t next_u64() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform double in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  /// Uniform double in [lo, hi).
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  /// Unbiased integer in [0, n) (n > 0), by rejection.
  std::uint64_t below(std::uint64_t n) noexcept {
    if (n <= 1) return 0;
    const std::uint64_t limit =
        std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t r;
    do r = next_u64();
    while (r >= limit);
    return r % n;
  }
  /// Normal draw by the Marsaglia polar method (portable: uses only log and sqrt).
  double normal(double mean = 0.0, double stddev = 1.0) noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return mean + stddev * spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return mean + stddev * u * f;
  }
  /// True with probability p.
  bool bernoulli(double p) noexcept { return uniform() < p; }

  /// Fisher-Yates shuffle of [first, last) in place (no allocation).
  template <typename It>
  void shuffle(It first, It last) noexcept {
    const auto n = static_cast<std::uint64_t>(last - first);
    for (std::uint64_t i = n; i > 1; --i) {
      const std::uint64_t j = below(i);
      using std::swap;
      swap(first[static_cast<std::ptrdiff_t>(i - 1)], first[static_cast<std::ptrdiff_t>(j)]);
    }
  }

  /// The full internal state (for checkpoints).
  struct State {
    std::uint64_t s[4];
    double spare;
    bool has_spare;
  };
  State state() const noexcept { return State{{s_[0], s_[1], s_[2], s_[3]}, spare_, has_spare_}; }
  void set_state(const State& st) noexcept {
    for (int i = 0; i < 4; ++i) s_[i] = st.s[i];
    spare_ = st.spare;
    has_spare_ = st.has_spare;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  std::uint64_t s_[4] = {0, 0, 0, 0};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

/// The calling thread's default generator, used by initializers and dropout when none is given.
inline Generator& default_generator() {
  thread_local Generator gen(0x5eedULL);
  return gen;
}

/// Seeds the calling thread's default generator (like `torch::manual_seed`).
inline void manual_seed(std::uint64_t seed) { default_generator().seed_(seed); }

}  // namespace onestone
