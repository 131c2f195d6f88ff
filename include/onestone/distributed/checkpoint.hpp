#pragma once
/// @file checkpoint.hpp
/// Checkpoints of a data-parallel run: written once, by rank 0, atomically
/// (`io::save_checkpoint`), with the sampler's position; read back by every rank, for any number
/// of ranks. A failure on any rank is reported on every rank.

#include <cstdint>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/distributed/communicator.hpp"
#include "onestone/distributed/data_parallel.hpp"
#include "onestone/distributed/sampler.hpp"
#include "onestone/io/checkpoint.hpp"

namespace onestone {
namespace distributed {

namespace detail {
// Broadcasts rank `root`'s ok flag and message; throws on every rank if it is not ok.
inline void share_outcome(const Communicator& comm, bool ok, std::string msg, int root,
                          const std::string& what) {
  std::int64_t head[2] = {ok ? 1 : 0, static_cast<std::int64_t>(msg.size())};
  comm.broadcast(head, 2, root);
  if (head[0]) return;
  msg.resize(static_cast<std::size_t>(head[1]));
  if (head[1] > 0) comm.broadcast(&msg[0], head[1], root);
  throw std::runtime_error("onestone::distributed: " + what + " failed on rank " +
                           std::to_string(root) + ": " + msg);
}
}  // namespace detail

/// Rank 0 writes `state` to `path` atomically (a reader never sees a partial file), adding the
/// sampler's position (epoch, global cursor) and the number of ranks to the metadata; the other
/// ranks wait for the outcome, and if rank 0 fails every rank throws the same error. `state`
/// must not point at a `data::DataLoader` (the sampler holds the position).
///
/// @code
/// onestone::io::CheckpointState<float> st(model, opt);
/// st.step = step.steps();
/// onestone::distributed::save_checkpoint(comm, "run/last.safetensors", st, &loader.sampler());
/// @endcode
template <typename T>
void save_checkpoint(const Communicator& comm, const std::string& path,
                     io::CheckpointState<T> state, const DistributedSampler* sampler = nullptr) {
  bool ok = true;
  std::string msg;
  if (comm.is_root()) {
    try {
      state.metadata["distributed.ranks"] = std::to_string(comm.size());
      if (sampler) {
        state.metadata["distributed.epoch"] = std::to_string(sampler->epoch());
        state.metadata["distributed.cursor"] = std::to_string(sampler->cursor());
        state.metadata["distributed.global_batch"] =
            std::to_string(sampler->batch_size() * sampler->num_ranks());
      }
      io::save_checkpoint(path, state);
    } catch (const std::exception& e) {
      ok = false;
      msg = e.what();
    }
  }
  detail::share_outcome(comm, ok, msg, 0, "writing checkpoint '" + path + "'");
}

/// Every rank reads `path` into `state` and restores the sampler's position (the file may come
/// from a run with another number of ranks; the global batch size must be the same for the
/// position to fall on a batch boundary). Then checks that all ranks hold the same structure
/// and the same parameter values. Any failure is thrown on every rank. Returns the file's
/// metadata.
///
/// @code
/// onestone::io::CheckpointState<float> st(model, opt);
/// onestone::distributed::load_checkpoint(comm, "run/last.safetensors", st, &loader.sampler());
/// @endcode
template <typename T>
std::map<std::string, std::string> load_checkpoint(const Communicator& comm,
                                                   const std::string& path,
                                                   io::CheckpointState<T>& state,
                                                   DistributedSampler* sampler = nullptr) {
  std::string msg;
  try {
    io::load_checkpoint(path, state);
    if (sampler) {
      const auto e = state.metadata.find("distributed.epoch");
      const auto c = state.metadata.find("distributed.cursor");
      if (e == state.metadata.end() || c == state.metadata.end())
        throw std::runtime_error("the checkpoint has no sampler position");
      sampler->set_position(std::stoull(e->second), std::stoll(c->second));
    }
  } catch (const std::exception& e) {
    msg = e.what();
  }
  // The first failing rank's message, on every rank.
  std::int64_t failed = msg.empty() ? comm.size() : comm.rank();
  comm.allreduce_min(&failed, 1);
  if (failed < comm.size())
    detail::share_outcome(comm, failed != comm.rank(), msg, static_cast<int>(failed),
                          "reading checkpoint '" + path + "'");
  if (state.model) {
    check_same_structure(comm, *state.model);
    // Same values everywhere (e.g. every rank read the same file).
    double sum = 0, weighted = 0;
    Index k = 0;
    for (auto* p : state.model->parameters())
      for (Index i = 0; i < p->numel(); ++i, ++k) {
        const double v = static_cast<double>(p->value().data()[i]);
        sum += v;
        weighted += v * static_cast<double>(k % 7 + 1);
      }
    std::int64_t bits[2];
    std::memcpy(&bits[0], &sum, sizeof sum);
    std::memcpy(&bits[1], &weighted, sizeof weighted);
    std::vector<std::int64_t> scratch;
    detail::check_agree(comm, bits, 2, scratch, "the checksum of the loaded parameters");
  }
  return state.metadata;
}

}  // namespace distributed
}  // namespace onestone
