#pragma once
/// @file sampler.hpp
/// `distributed::DistributedSampler` (which samples each rank reads, epoch by epoch) and
/// `distributed::DistributedLoader<T>` (batches of one rank's shard from a `data::Dataset<T>`).
/// Plain C++: no MPI here (the rank and the number of ranks are given), so the sharding can be
/// tested and used without MPI.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/data/dataset.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/shape.hpp"

namespace onestone {
namespace distributed {

/// Options of `DistributedSampler`: `seed` (same on every rank), `shuffle` (default true),
/// `drop_tail` (default false: the epoch is padded by wrapping around to the start of the
/// permutation so that every rank gets the same number of samples; true: the tail that does
/// not divide evenly is dropped).
///
/// @code
/// auto o = onestone::distributed::SamplerOptions().seed(7).drop_tail(true);
/// @endcode
struct SamplerOptions {
  SamplerOptions& seed(std::uint64_t v) {
    seed_ = v;
    return *this;
  }
  SamplerOptions& shuffle(bool v) {
    shuffle_ = v;
    return *this;
  }
  SamplerOptions& drop_tail(bool v) {
    drop_tail_ = v;
    return *this;
  }
  std::uint64_t seed_ = 0x5eedULL;
  bool shuffle_ = true;
  bool drop_tail_ = false;
};

/// Which dataset rows a rank reads. Each epoch has one permutation of the dataset, drawn from
/// (seed, epoch) alone, hence the same on every rank and for any number of ranks; its length is
/// made a multiple of the number of ranks (padding by wrapping, or dropping the tail). A global
/// batch of `batch_size × num_ranks` consecutive positions of the permutation is split into
/// `num_ranks` consecutive blocks, block r for rank r: rank r's batches over the epoch are its
/// equal shard, and the concatenation of the ranks' batches in rank order is exactly the batch
/// that one process with batch `batch_size × num_ranks` reads. The position (epoch, global
/// cursor) does not depend on the number of ranks, so a run can resume with another number of
/// ranks (same global batch size).
///
/// @code
/// onestone::distributed::DistributedSampler s(1000, /*batch=*/32, comm.rank(), comm.size(),
///     onestone::distributed::SamplerOptions().seed(3));
/// std::vector<onestone::Index> idx;
/// s.start_epoch();
/// while (s.next(idx)) { /* this rank's rows of the next global batch */ }
/// @endcode
class DistributedSampler {
 public:
  DistributedSampler(Index dataset_size, Index batch_size, int rank, int num_ranks,
                     SamplerOptions options = SamplerOptions())
      : n_(dataset_size), batch_(batch_size), rank_(rank), ranks_(num_ranks), options_(options) {
    if (num_ranks < 1 || rank < 0 || rank >= num_ranks)
      throw std::invalid_argument("DistributedSampler: rank " + std::to_string(rank) +
                                  " invalid for " + std::to_string(num_ranks) + " ranks");
    if (batch_size < 1)
      throw std::invalid_argument("DistributedSampler: batch_size must be >= 1, got " +
                                  std::to_string(batch_size));
    if (dataset_size < 1) throw std::invalid_argument("DistributedSampler: empty dataset");
    if (options.drop_tail_ && dataset_size < num_ranks)
      throw std::invalid_argument("DistributedSampler: " + std::to_string(dataset_size) +
                                  " samples cannot be dropped to equal shards over " +
                                  std::to_string(num_ranks) + " ranks");
    const Index r = static_cast<Index>(num_ranks);
    len_ = options.drop_tail_ ? (n_ / r) * r : ((n_ + r - 1) / r) * r;
    perm_.resize(static_cast<std::size_t>(n_));
  }

  /// Starts the next epoch (its permutation from (seed, epoch)).
  void start_epoch() { set_position(epoch_ + 1, 0); }

  /// This rank's indices of the next global batch (its block); false at the end of the epoch.
  /// The last global batch may be smaller (it is still split evenly). Starts the first epoch
  /// if none was started. `out` keeps its capacity.
  bool next(std::vector<Index>& out) {
    if (epoch_ == 0) start_epoch();
    if (cursor_ >= len_) return false;
    const Index r = static_cast<Index>(ranks_);
    const Index global = std::min(batch_ * r, len_ - cursor_);
    const Index per = global / r;  // len_ - cursor_ is a multiple of r
    const Index begin = cursor_ + per * rank_;
    out.resize(static_cast<std::size_t>(per));
    for (Index k = 0; k < per; ++k) out[static_cast<std::size_t>(k)] = at(begin + k);
    cursor_ += global;
    return true;
  }

  /// The sample at position `pos` (< padded length) of the current epoch's order.
  Index at(Index pos) const { return perm_[static_cast<std::size_t>(pos % n_)]; }

  /// Global batches per epoch (the same on every rank).
  Index num_batches() const {
    const Index g = batch_ * static_cast<Index>(ranks_);
    return (len_ + g - 1) / g;
  }
  /// Samples this rank reads per epoch.
  Index shard_size() const { return len_ / static_cast<Index>(ranks_); }
  /// Epochs started (0 before the first) and samples of the epoch consumed by all ranks.
  std::uint64_t epoch() const noexcept { return epoch_; }
  Index cursor() const noexcept { return cursor_; }
  int rank() const noexcept { return rank_; }
  int num_ranks() const noexcept { return ranks_; }
  Index batch_size() const noexcept { return batch_; }

  /// Restores a position saved from `epoch()` and `cursor()` (by any number of ranks). Throws
  /// std::invalid_argument for a cursor outside the epoch or not a multiple of the number of
  /// ranks.
  void set_position(std::uint64_t epoch, Index cursor) {
    if (cursor < 0 || cursor > len_ || (epoch == 0 && cursor != 0) ||
        cursor % static_cast<Index>(ranks_) != 0)
      throw std::invalid_argument("DistributedSampler::set_position: cursor " +
                                  std::to_string(cursor) + " invalid for epoch " +
                                  std::to_string(epoch) + " (" + std::to_string(len_) +
                                  " positions over " + std::to_string(ranks_) + " ranks)");
    epoch_ = epoch;
    cursor_ = cursor;
    std::iota(perm_.begin(), perm_.end(), Index(0));
    if (epoch_ > 0 && options_.shuffle_) {
      Generator g(options_.seed_ ^ (0x9e3779b97f4a7c15ULL * epoch_));
      g.shuffle(perm_.begin(), perm_.end());
    }
  }

 private:
  Index n_, batch_;
  int rank_, ranks_;
  SamplerOptions options_;
  Index len_ = 0;
  std::uint64_t epoch_ = 0;
  Index cursor_ = 0;
  std::vector<Index> perm_;
};

/// The batches of one rank's shard of `dataset` (kept by reference), through a
/// `DistributedSampler`; allocation-free once the batch has reached its capacity. It yields
/// `data::Batch<T>` as `data::DataLoader<T>` does, so `train::TrainStep` and
/// `distributed::DistributedTrainStep` take its batches unchanged.
///
/// @code
/// onestone::distributed::DistributedLoader<float> loader(train, 32, comm.rank(), comm.size(),
///     onestone::distributed::SamplerOptions().seed(1));
/// for (int e = 0; e < epochs; ++e) {
///   loader.start_epoch();
///   while (const auto* b = loader.next()) step(*b);
/// }
/// @endcode
template <typename T>
class DistributedLoader {
 public:
  DistributedLoader(const data::Dataset<T>& dataset, Index batch_size, int rank, int num_ranks,
                    SamplerOptions options = SamplerOptions())
      : dataset_(dataset), sampler_(dataset.size(), batch_size, rank, num_ranks, options) {}
  DistributedLoader(data::Dataset<T>&&, Index, int, int,
                    SamplerOptions = SamplerOptions()) = delete;

  void start_epoch() { sampler_.start_epoch(); }
  /// The next batch of this rank, or nullptr at the end of the epoch.
  const data::Batch<T>* next() {
    if (!sampler_.next(idx_)) return nullptr;
    dataset_.gather(idx_.data(), static_cast<Index>(idx_.size()), batch_);
    return &batch_;
  }
  /// Same into the caller's batch.
  bool next(data::Batch<T>& out) {
    if (!sampler_.next(idx_)) return false;
    dataset_.gather(idx_.data(), static_cast<Index>(idx_.size()), out);
    return true;
  }
  DistributedSampler& sampler() noexcept { return sampler_; }
  const DistributedSampler& sampler() const noexcept { return sampler_; }
  const std::vector<Index>& last_indices() const noexcept { return idx_; }

 private:
  const data::Dataset<T>& dataset_;
  DistributedSampler sampler_;
  std::vector<Index> idx_;
  data::Batch<T> batch_;
};

}  // namespace distributed
}  // namespace onestone
