#pragma once
/// @file loader.hpp
/// `DataLoader<T>`: shuffled mini-batches over a `Dataset<T>`, allocation-free in steady state,
/// with exact checkpoint / resume through `state()` and `set_state()`.

#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/shape.hpp"

namespace onestone::data {

/// Options of a `DataLoader`, set with chained builders and read with the same-named getters.
///
/// Fields: `batch_size` (default 32, must be > 0), `shuffle` (default true: a new permutation
/// each epoch), `seed` (default 0: seeds the loader's Generator), `drop_last` (default false:
/// when true, a final batch smaller than `batch_size` is skipped).
///
/// @code
/// auto opts = onestone::data::LoaderOptions().batch_size(64).shuffle(true).seed(7);
/// onestone::Index b = opts.batch_size();   // 64
/// @endcode
struct LoaderOptions {
  LoaderOptions& batch_size(Index v) {
    batch_size_ = v;
    return *this;
  }
  LoaderOptions& shuffle(bool v) {
    shuffle_ = v;
    return *this;
  }
  LoaderOptions& seed(std::uint64_t v) {
    seed_ = v;
    return *this;
  }
  LoaderOptions& drop_last(bool v) {
    drop_last_ = v;
    return *this;
  }
  Index batch_size() const { return batch_size_; }
  bool shuffle() const { return shuffle_; }
  std::uint64_t seed() const { return seed_; }
  bool drop_last() const { return drop_last_; }

 private:
  Index batch_size_ = 32;
  bool shuffle_ = true;
  std::uint64_t seed_ = 0;
  bool drop_last_ = false;
};

/// Iterates a `Dataset<T>` in mini-batches, epoch by epoch.
///
/// @tparam T element type of the dataset.
///
/// The loader keeps a const reference to the dataset (which must outlive it), an index
/// permutation and a `Generator` seeded from `LoaderOptions::seed`. `start_epoch()` resets the
/// permutation to the identity and, when shuffling, Fisher-Yates shuffles it in place; `next()`
/// gathers the next rows into a caller's `Batch`. Neither allocates once the batch buffers have
/// reached capacity. Because each epoch's permutation depends only on the generator state at
/// the start of that epoch, `state()` records that state and `set_state()` rebuilds exactly the
/// same permutation and position (given the same dataset and options).
///
/// @code
/// onestone::data::DataLoader<float> loader(train, onestone::data::LoaderOptions().batch_size(64));
/// for (int e = 0; e < 10; ++e)
///   for (const onestone::data::Batch<float>& b : loader) {   // starts an epoch each time
///     step(b.x, b.targets);
///   }
/// auto st = loader.state();   // save with the model checkpoint; later: loader.set_state(st)
/// @endcode
template <class T>
class DataLoader {
 public:
  /// The loader position for checkpoints: `epoch` (epochs started so far; 0 = none yet),
  /// `cursor` (samples of the current epoch already returned) and `rng` (the generator state at
  /// the start of the current epoch, before its shuffle).
  ///
  /// @code
  /// auto st = loader.state();  /* ... */  other_loader.set_state(st);
  /// @endcode
  struct State {
    std::uint64_t epoch = 0;
    Index cursor = 0;
    Generator::State rng{};
  };

  /// Forward iterator over the batches of one epoch; dereferences to the loader's internal batch.
  ///
  /// @code
  /// for (auto it = loader.begin(); it != loader.end(); ++it) use(*it);
  /// @endcode
  class Iterator {
   public:
    explicit Iterator(DataLoader* loader) : loader_(loader) { advance(); }
    const Batch<T>& operator*() const { return loader_->batch_; }
    const Batch<T>* operator->() const { return &loader_->batch_; }
    Iterator& operator++() {
      advance();
      return *this;
    }
    bool done() const { return done_; }

   private:
    void advance() { done_ = !loader_->next(loader_->batch_); }
    DataLoader* loader_;
    bool done_ = false;
  };

  /// End marker of an epoch's batches.
  ///
  /// @code
  /// auto end = loader.end();
  /// @endcode
  struct Sentinel {
    friend bool operator==(const Iterator& it, Sentinel) { return it.done(); }
    friend bool operator!=(const Iterator& it, Sentinel) { return !it.done(); }
  };

  /// The rest of the current epoch as a range (no new epoch is started), e.g. after `set_state`.
  ///
  /// @code
  /// loader.set_state(saved);
  /// for (const auto& b : loader.remaining()) step(b);
  /// @endcode
  class Remaining {
   public:
    explicit Remaining(DataLoader* loader) : loader_(loader) {}
    Iterator begin() { return Iterator(loader_); }
    Sentinel end() { return Sentinel{}; }

   private:
    DataLoader* loader_;
  };

  /// Creates a loader over `dataset` (kept by reference). Throws std::invalid_argument when
  /// `batch_size < 1`.
  explicit DataLoader(const Dataset<T>& dataset, const LoaderOptions& options = LoaderOptions())
      : dataset_(dataset),
        options_(options),
        gen_(options.seed()),
        perm_(static_cast<std::size_t>(dataset.size())) {
    if (options_.batch_size() < 1)
      throw std::invalid_argument("DataLoader: batch_size must be >= 1, got " +
                                  std::to_string(options_.batch_size()));
    std::iota(perm_.begin(), perm_.end(), Index(0));
    epoch_rng_ = gen_.state();
  }
  /// A loader must not outlive its dataset: binding to a temporary is refused.
  DataLoader(Dataset<T>&&, const LoaderOptions& = LoaderOptions()) = delete;

  /// Starts a new epoch: identity permutation, shuffled in place when `shuffle` is on.
  void start_epoch() {
    epoch_rng_ = gen_.state();
    build_permutation();
    cursor_ = 0;
    ++epoch_;
  }

  /// Fills `batch` with the next samples of the current epoch (starting the first epoch if none
  /// was started). Returns false, leaving `batch` untouched, at the end of the epoch.
  bool next(Batch<T>& batch) {
    if (epoch_ == 0) start_epoch();
    const Index n = dataset_.size();
    const Index left = n - cursor_;
    if (left <= 0 || (options_.drop_last() && left < options_.batch_size())) return false;
    const Index count = left < options_.batch_size() ? left : options_.batch_size();
    dataset_.gather(perm_.data() + cursor_, count, batch);
    cursor_ += count;
    return true;
  }

  /// Batches per epoch (`ceil(N / B)`, or `floor(N / B)` with `drop_last`).
  Index num_batches() const {
    const Index n = dataset_.size(), b = options_.batch_size();
    return options_.drop_last() ? n / b : (n + b - 1) / b;
  }
  /// Epochs started so far (0 before the first).
  std::uint64_t epoch() const { return epoch_; }
  /// Samples of the current epoch already returned.
  Index cursor() const { return cursor_; }
  /// The current epoch's sample order.
  const std::vector<Index>& permutation() const { return perm_; }
  const LoaderOptions& options() const { return options_; }
  const Dataset<T>& dataset() const { return dataset_; }

  /// The position to store in a checkpoint.
  State state() const { return State{epoch_, cursor_, epoch_rng_}; }

  /// Restores a position from `state()`: the same epoch count, permutation and cursor, and the
  /// generator as it was after that epoch's shuffle (so later epochs match as well). Throws
  /// std::invalid_argument when the cursor does not fit this dataset.
  void set_state(const State& st) {
    if (st.cursor < 0 || st.cursor > dataset_.size() || (st.epoch == 0 && st.cursor != 0))
      throw std::invalid_argument("DataLoader::set_state: cursor " + std::to_string(st.cursor) +
                                  " invalid for epoch " + std::to_string(st.epoch) + " of " +
                                  std::to_string(dataset_.size()) + " samples");
    gen_.set_state(st.rng);
    epoch_rng_ = st.rng;
    if (st.epoch > 0)
      build_permutation();
    else
      std::iota(perm_.begin(), perm_.end(), Index(0));
    epoch_ = st.epoch;
    cursor_ = st.cursor;
  }

  /// Starts a new epoch and returns an iterator over its batches (range-for support).
  Iterator begin() {
    start_epoch();
    return Iterator(this);
  }
  Sentinel end() { return Sentinel{}; }
  /// The remaining batches of the current epoch, without starting a new one.
  Remaining remaining() { return Remaining(this); }

 private:
  void build_permutation() {
    std::iota(perm_.begin(), perm_.end(), Index(0));
    if (options_.shuffle()) gen_.shuffle(perm_.begin(), perm_.end());
  }

  const Dataset<T>& dataset_;
  LoaderOptions options_;
  Generator gen_;
  Generator::State epoch_rng_{};
  std::vector<Index> perm_;
  Batch<T> batch_;
  std::uint64_t epoch_ = 0;
  Index cursor_ = 0;
};
ONESTONE_EXTERN_CLASS(DATA, DataLoader)

}  // namespace onestone::data
