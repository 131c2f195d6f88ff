#pragma once
/// @file arena.hpp
/// `Arena`: the buffer pool behind the autograd tape. Memory is handed out by bumping a pointer
/// and reclaimed all at once; capacity is kept between training steps.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace onestone {

/// A bump allocator of 64-byte-aligned blocks that keeps its capacity across `reset()`.
///
/// The first training step grows the arena (possibly over several blocks); `reset()` then merges
/// the blocks into one of the total size, so every later step of the same shape allocates nothing.
/// `mark()` / `rewind()` release everything allocated after a point (nested scopes).
///
/// Example:
/// @code
/// onestone::Arena arena;
/// float* a = arena.allocate<float>(1024);
/// auto m = arena.mark();
/// double* b = arena.allocate<double>(16);
/// arena.rewind(m);   // b is released, a stays
/// arena.reset();     // everything released, capacity kept
/// @endcode
class Arena {
 public:
  static constexpr std::size_t kAlign = 64;

  /// A position in the arena returned by `mark()`.
  struct Mark {
    std::size_t block = 0;
    std::size_t offset = 0;
  };

  explicit Arena(std::size_t initial_bytes = 0) {
    if (initial_bytes) add_block(initial_bytes);
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  /// Uninitialised room for `n` objects of trivially-destructible type U, 64-byte aligned.
  template <typename U>
  U* allocate(std::size_t n) {
    return static_cast<U*>(allocate_bytes(n * sizeof(U)));
  }

  void* allocate_bytes(std::size_t bytes) {
    bytes = round_up(bytes == 0 ? 1 : bytes);
    while (current_ < blocks_.size()) {
      Block& b = blocks_[current_];
      if (offset_ + bytes <= b.size) {
        void* p = b.data.get() + offset_;
        offset_ += bytes;
        return p;
      }
      ++current_;
      offset_ = 0;
    }
    // No block fits: grow geometrically so the number of blocks stays small.
    std::size_t cap =
        std::max<std::size_t>(bytes, std::max<std::size_t>(capacity(), std::size_t(1) << 20));
    add_block(cap);
    current_ = blocks_.size() - 1;
    offset_ = bytes;
    return blocks_.back().data.get();
  }

  Mark mark() const noexcept { return Mark{current_, offset_}; }
  /// Releases everything allocated after `m`.
  void rewind(const Mark& m) noexcept {
    current_ = m.block;
    offset_ = m.offset;
  }

  /// Releases everything; keeps the capacity, merging several blocks into one.
  void reset() {
    if (blocks_.size() > 1) {
      const std::size_t total = capacity();
      blocks_.clear();
      add_block(total);
    }
    current_ = 0;
    offset_ = 0;
  }

  /// Total bytes held.
  std::size_t capacity() const noexcept {
    std::size_t c = 0;
    for (const auto& b : blocks_) c += b.size;
    return c;
  }
  /// Number of blocks currently held (1 after a reset that followed growth).
  std::size_t num_blocks() const noexcept { return blocks_.size(); }

 private:
  struct AlignedDelete {
    void operator()(unsigned char* p) const noexcept {
      ::operator delete[](p, std::align_val_t(kAlign));
    }
  };
  struct Block {
    std::unique_ptr<unsigned char[], AlignedDelete> data;
    std::size_t size = 0;
  };
  static std::size_t round_up(std::size_t n) noexcept { return (n + kAlign - 1) & ~(kAlign - 1); }
  void add_block(std::size_t bytes) {
    bytes = round_up(bytes);
    Block b;
    b.data.reset(static_cast<unsigned char*>(::operator new[](bytes, std::align_val_t(kAlign))));
    b.size = bytes;
    blocks_.push_back(std::move(b));
  }

  std::vector<Block> blocks_;
  std::size_t current_ = 0;
  std::size_t offset_ = 0;
};

}  // namespace onestone
