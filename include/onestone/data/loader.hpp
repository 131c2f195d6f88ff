#pragma once
/// @file loader.hpp
/// `DataLoader<T>`: shuffled mini-batches over a `Dataset<T>`, allocation-free in steady state,
/// with exact checkpoint / resume through `state()` and `set_state()`.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>
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
/// For text (see `SequenceDatasetBuilder`):
/// - `bucket_by_length(lengths, window_batches = 50)`: each epoch, after the usual shuffle, the
///   samples are sorted by `lengths` within consecutive windows of `window_batches *
///   batch_size` samples (ties by sample index), cut into batches, and the order of the batches
///   is shuffled with the same generator (when `shuffle` is on). Batches then hold samples of
///   similar lengths; `state()` / `set_state()` still reproduce an epoch exactly. With
///   `drop_last` the one smaller batch (the end of the last window) is the one dropped.
/// - `trim_padding(pad_value)`: for inputs `[N, L]`, each batch's x is cut to `[B, l]`, l =
///   the largest position + 1 of a value other than `pad_value` in the batch (at least 1), and
///   every target tensor of shape `[B, L]` (token tags; also any other `[B, L]` field, so do
///   not combine with e.g. a regression target of exactly L values) is cut the same way.
///   Trimming works in place: no allocation once the batch buffers hold a full batch.
///
/// @code
/// auto opts = onestone::data::LoaderOptions().batch_size(64).shuffle(true).seed(7);
/// onestone::Index b = opts.batch_size();   // 64
/// // text: batches of similar lengths, each cut to its longest sequence
/// auto text_opts = onestone::data::LoaderOptions().batch_size(32)
///     .bucket_by_length(builder.lengths()).trim_padding(vocab.pad_id());
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
  /// Length bucketing with each sample's length (one per sample, >= 0) and the window in
  /// batches (>= 1); an empty `lengths` turns bucketing off. Checked by the `DataLoader`.
  LoaderOptions& bucket_by_length(std::vector<Index> lengths, Index window_batches = 50) {
    bucket_lengths_ = std::move(lengths);
    bucket_window_ = window_batches;
    return *this;
  }
  /// Cuts each batch of inputs `[N, L]` (and `[N, L]` targets) after its last non-pad position.
  LoaderOptions& trim_padding(Index pad_value) {
    trim_ = true;
    pad_value_ = pad_value;
    return *this;
  }
  Index batch_size() const { return batch_size_; }
  bool shuffle() const { return shuffle_; }
  std::uint64_t seed() const { return seed_; }
  bool drop_last() const { return drop_last_; }
  /// True when `bucket_by_length` was given lengths.
  bool bucketing() const { return !bucket_lengths_.empty(); }
  const std::vector<Index>& bucket_lengths() const { return bucket_lengths_; }
  Index bucket_window() const { return bucket_window_; }
  /// True when `trim_padding` was set.
  bool trims_padding() const { return trim_; }
  Index pad_value() const { return pad_value_; }

 private:
  Index batch_size_ = 32;
  bool shuffle_ = true;
  std::uint64_t seed_ = 0;
  bool drop_last_ = false;
  std::vector<Index> bucket_lengths_;
  Index bucket_window_ = 50;
  bool trim_ = false;
  Index pad_value_ = 0;
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
  /// `batch_size < 1`, when bucketing lengths do not match the dataset (count, negative value)
  /// or the window is < 1, or when `trim_padding` is set for inputs that are not `[N, L]`.
  explicit DataLoader(const Dataset<T>& dataset, const LoaderOptions& options = LoaderOptions());
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
  bool next(Batch<T>& batch);

  /// Batches per epoch (`ceil(N / B)`, or `floor(N / B)` with `drop_last`).
  Index num_batches() const {
    const Index n = dataset_.size(), b = options_.batch_size();
    return options_.drop_last() ? n / b : (n + b - 1) / b;
  }
  /// Epochs started so far (0 before the first).
  std::uint64_t epoch() const { return epoch_; }
  /// Samples of the current epoch already returned.
  Index cursor() const { return cursor_; }
  /// The current epoch's sample order (with bucketing: batch after batch, a dropped batch last).
  const std::vector<Index>& permutation() const { return perm_; }
  const LoaderOptions& options() const { return options_; }
  const Dataset<T>& dataset() const { return dataset_; }

  /// The position to store in a checkpoint.
  State state() const { return State{epoch_, cursor_, epoch_rng_}; }

  /// Restores a position from `state()`: the same epoch count, permutation and cursor, and the
  /// generator as it was after that epoch's shuffle (so later epochs match as well). Throws
  /// std::invalid_argument when the cursor does not fit this dataset (with bucketing: when it
  /// is not at a batch boundary of that epoch).
  void set_state(const State& st);

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
    batch_pos_ = 0;
    if (options_.bucketing()) bucket();
  }

  // Batches in sample order, before the first epoch (bucketing only).
  void identity_batches();

  // Length bucketing of the shuffled perm_ (no allocation: scratch_ and the batch tables are
  // sized in the constructor; std::sort does not allocate).
  void bucket();

  // Cuts x [B, L] to its longest non-pad extent and every [B, L] target tensor likewise.
  void trim(Batch<T>& batch) const;
  template <class U>
  static void cut(Tensor<U>& t, Index B, Index L, Index keep) {
    if (t.rank() != 2 || t.size(0) != B || t.size(1) != L) return;
    U* d = t.data();
    for (Index i = 1; i < B; ++i) std::copy(d + i * L, d + i * L + keep, d + i * keep);
    t.resize(Shape{B, keep});
  }

  const Dataset<T>& dataset_;
  LoaderOptions options_;
  Generator gen_;
  Generator::State epoch_rng_{};
  std::vector<Index> perm_;
  std::vector<Index> scratch_;       // bucketing: the next permutation
  std::vector<Index> batch_order_;   // bucketing: shuffled batch numbers
  std::vector<Index> batch_offset_;  // bucketing: start of batch k in perm_ (and the end)
  Index live_batches_ = 0;           // bucketing: batches returned per epoch
  Index batch_pos_ = 0;              // bucketing: batches of the current epoch returned
  Batch<T> batch_;
  std::uint64_t epoch_ = 0;
  Index cursor_ = 0;
};

template <class T>
DataLoader<T>::DataLoader(const Dataset<T>& dataset, const LoaderOptions& options)
    : dataset_(dataset),
      options_(options),
      gen_(options.seed()),
      perm_(static_cast<std::size_t>(dataset.size())) {
  if (options_.batch_size() < 1)
    throw std::invalid_argument("DataLoader: batch_size must be >= 1, got " +
                                std::to_string(options_.batch_size()));
  std::iota(perm_.begin(), perm_.end(), Index(0));
  epoch_rng_ = gen_.state();
  if (options_.bucketing()) {
    const auto& len = options_.bucket_lengths();
    if (static_cast<Index>(len.size()) != dataset.size())
      throw std::invalid_argument("DataLoader: bucket_by_length got " + std::to_string(len.size()) +
                                  " lengths for " + std::to_string(dataset.size()) + " samples");
    for (std::size_t i = 0; i < len.size(); ++i)
      if (len[i] < 0)
        throw std::invalid_argument("DataLoader: bucket_by_length: length of sample " +
                                    std::to_string(i) + " is " + std::to_string(len[i]));
    if (options_.bucket_window() < 1)
      throw std::invalid_argument("DataLoader: bucket_by_length window must be >= 1 batch, got " +
                                  std::to_string(options_.bucket_window()));
    const Index nb = (dataset.size() + options_.batch_size() - 1) / options_.batch_size();
    scratch_.resize(perm_.size());
    batch_order_.resize(static_cast<std::size_t>(nb));
    batch_offset_.assign(static_cast<std::size_t>(nb) + 1, 0);
    identity_batches();
  }
  if (options_.trims_padding() && dataset.inputs().rank() != 2)
    throw std::invalid_argument("DataLoader: trim_padding needs inputs [N, L], got " +
                                dataset.inputs().shape().str());
}

template <class T>
bool DataLoader<T>::next(Batch<T>& batch) {
  if (epoch_ == 0) start_epoch();
  if (options_.bucketing()) {
    if (batch_pos_ >= live_batches_) return false;
    const Index begin = batch_offset_[static_cast<std::size_t>(batch_pos_)];
    const Index end = batch_offset_[static_cast<std::size_t>(batch_pos_) + 1];
    dataset_.gather(perm_.data() + begin, end - begin, batch);
    ++batch_pos_;
    cursor_ = end;
    if (options_.trims_padding()) trim(batch);
    return true;
  }
  const Index n = dataset_.size();
  const Index left = n - cursor_;
  if (left <= 0 || (options_.drop_last() && left < options_.batch_size())) return false;
  const Index count = left < options_.batch_size() ? left : options_.batch_size();
  dataset_.gather(perm_.data() + cursor_, count, batch);
  cursor_ += count;
  if (options_.trims_padding()) trim(batch);
  return true;
}

template <class T>
void DataLoader<T>::set_state(const State& st) {
  if (st.cursor < 0 || st.cursor > dataset_.size() || (st.epoch == 0 && st.cursor != 0))
    throw std::invalid_argument("DataLoader::set_state: cursor " + std::to_string(st.cursor) +
                                " invalid for epoch " + std::to_string(st.epoch) + " of " +
                                std::to_string(dataset_.size()) + " samples");
  const Generator::State old_gen = gen_.state(), old_rng = epoch_rng_;
  const Index old_pos = batch_pos_;
  gen_.set_state(st.rng);
  epoch_rng_ = st.rng;
  if (st.epoch > 0) {
    build_permutation();
  } else {
    std::iota(perm_.begin(), perm_.end(), Index(0));
    if (options_.bucketing()) identity_batches();
  }
  Index pos = 0;
  if (options_.bucketing()) {
    while (pos < live_batches_ && batch_offset_[static_cast<std::size_t>(pos)] < st.cursor) ++pos;
    if (batch_offset_[static_cast<std::size_t>(pos)] != st.cursor) {
      // Not a batch boundary: restore the previous position before reporting it.
      gen_.set_state(old_rng);
      if (epoch_ > 0) {
        build_permutation();
      } else {
        std::iota(perm_.begin(), perm_.end(), Index(0));
        identity_batches();
      }
      gen_.set_state(old_gen);
      epoch_rng_ = old_rng;
      batch_pos_ = old_pos;
      throw std::invalid_argument("DataLoader::set_state: cursor " + std::to_string(st.cursor) +
                                  " is not at a batch boundary of epoch " +
                                  std::to_string(st.epoch) + " (length bucketing)");
    }
  }
  epoch_ = st.epoch;
  cursor_ = st.cursor;
  batch_pos_ = pos;
}

template <class T>
void DataLoader<T>::identity_batches() {
  const Index n = dataset_.size(), b = options_.batch_size();
  const Index nb = static_cast<Index>(batch_order_.size());
  live_batches_ = options_.drop_last() ? n / b : nb;
  for (Index k = 0; k <= nb; ++k) batch_offset_[static_cast<std::size_t>(k)] = std::min(k * b, n);
  batch_pos_ = 0;
}

template <class T>
void DataLoader<T>::bucket() {
  const Index n = dataset_.size(), b = options_.batch_size();
  const auto& len = options_.bucket_lengths();
  const Index window = options_.bucket_window() * b;
  for (Index start = 0; start < n; start += window) {
    const Index stop = std::min(n, start + window);
    std::sort(perm_.begin() + start, perm_.begin() + stop, [&](Index x, Index y) {
      const Index lx = len[static_cast<std::size_t>(x)], ly = len[static_cast<std::size_t>(y)];
      return lx != ly ? lx < ly : x < y;
    });
  }
  const Index nb = static_cast<Index>(batch_order_.size());
  const bool partial = n % b != 0;
  // The batches to shuffle: every full batch, plus the smaller last one unless it is dropped.
  const Index shuffled = options_.drop_last() && partial ? nb - 1 : nb;
  std::iota(batch_order_.begin(), batch_order_.end(), Index(0));
  if (options_.shuffle()) gen_.shuffle(batch_order_.begin(), batch_order_.begin() + shuffled);
  Index at = 0;
  for (Index k = 0; k < nb; ++k) {
    const Index src = batch_order_[static_cast<std::size_t>(k)];
    const Index begin = src * b, end = std::min(n, begin + b);
    batch_offset_[static_cast<std::size_t>(k)] = at;
    std::copy(perm_.begin() + begin, perm_.begin() + end, scratch_.begin() + at);
    at += end - begin;
  }
  batch_offset_[static_cast<std::size_t>(nb)] = at;
  perm_.swap(scratch_);
  live_batches_ = shuffled;
}

template <class T>
void DataLoader<T>::trim(Batch<T>& batch) const {
  if (batch.x.rank() != 2) return;
  const Index B = batch.x.size(0), L = batch.x.size(1);
  const T pad = static_cast<T>(options_.pad_value());
  Index keep = 1;
  for (Index i = 0; i < B; ++i) {
    const T* row = batch.x.data() + i * L;
    Index j = L;
    while (j > keep && row[j - 1] == pad) --j;
    keep = std::max(keep, j);
  }
  if (keep >= L) return;
  cut(batch.x, B, L, keep);
  for (Target<T>& t : batch.targets) {
    cut(t.labels, B, L, keep);
    cut(t.values, B, L, keep);
    for (auto& f : t.fields) cut(f.second, B, L, keep);
    for (auto& f : t.label_fields) cut(f.second, B, L, keep);
  }
}
ONESTONE_EXTERN_CLASS(DATA, DataLoader)

}  // namespace onestone::data
