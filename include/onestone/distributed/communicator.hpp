#pragma once
/// @file communicator.hpp
/// `distributed::Environment` (MPI_Init / MPI_Finalize, MPI_Abort on an escaping exception) and
/// `distributed::Communicator` (rank, size and the few collectives data-parallel training needs,
/// typed for float, double and 64-bit integers). Part of the optional `onestone::mpi` target:
/// include it only in programs linked with MPI.

// Only MPI's C interface (not the deprecated C++ bindings Open MPI and MPICH add by default).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace onestone {
namespace distributed {

namespace detail {
template <typename T>
MPI_Datatype mpi_type() {
  if (std::is_same<T, float>::value) return MPI_FLOAT;
  if (std::is_same<T, double>::value) return MPI_DOUBLE;
  if (std::is_same<T, std::int64_t>::value) return MPI_INT64_T;
  if (std::is_same<T, std::uint64_t>::value) return MPI_UINT64_T;
  if (std::is_same<T, int>::value) return MPI_INT;
  if (std::is_same<T, char>::value || std::is_same<T, unsigned char>::value) return MPI_BYTE;
  throw std::logic_error("onestone::distributed: no MPI type for this element type");
}

inline void check(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, msg, &len);
  throw std::runtime_error(std::string("onestone::distributed: ") + what +
                           " failed: " + std::string(msg, static_cast<std::size_t>(len)));
}
}  // namespace detail

/// Initializes MPI for the lifetime of the object (unless already initialized) and finalizes it
/// at the end. If the object is destroyed while an exception escapes (a rank failed), it calls
/// `MPI_Abort` instead, so the other ranks are stopped rather than left waiting in a collective.
///
/// @code
/// int main(int argc, char** argv) {
///   onestone::distributed::Environment env(argc, argv);
///   onestone::distributed::Communicator comm;   // MPI_COMM_WORLD
///   // ... train ...
/// }
/// @endcode
class Environment {
 public:
  Environment(int& argc, char**& argv) {
    int done = 0;
    MPI_Initialized(&done);
    if (!done) {
      detail::check(MPI_Init(&argc, &argv), "MPI_Init");
      owner_ = true;
    }
    uncaught_ = std::uncaught_exceptions();
  }
  Environment() {
    int done = 0;
    MPI_Initialized(&done);
    if (!done) {
      detail::check(MPI_Init(nullptr, nullptr), "MPI_Init");
      owner_ = true;
    }
    uncaught_ = std::uncaught_exceptions();
  }
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  ~Environment() {
    if (!owner_) return;
    int fin = 0;
    MPI_Finalized(&fin);
    if (fin) return;
    if (std::uncaught_exceptions() > uncaught_) {
      MPI_Abort(MPI_COMM_WORLD, 1);
      return;
    }
    MPI_Finalize();
  }

 private:
  bool owner_ = false;
  int uncaught_ = 0;
};

/// A communicator (MPI_COMM_WORLD by default, not owned) with the collectives onestone uses.
/// Every call is collective: every rank must make the same calls in the same order. Errors
/// from MPI are thrown as std::runtime_error.
///
/// @code
/// onestone::distributed::Communicator comm;
/// double loss = local_loss;
/// comm.allreduce_sum(&loss, 1);      // summed over the ranks
/// loss /= comm.size();
/// @endcode
class Communicator {
 public:
  explicit Communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
    int init = 0;
    MPI_Initialized(&init);
    if (!init)
      throw std::logic_error(
          "onestone::distributed::Communicator: MPI is not initialized (create a "
          "distributed::Environment first)");
    detail::check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    detail::check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  bool is_root() const noexcept { return rank_ == 0; }
  MPI_Comm native() const noexcept { return comm_; }

  /// In-place sum over the ranks of `count` values.
  template <typename U>
  void allreduce_sum(U* data, std::int64_t count) const {
    allreduce(data, count, MPI_SUM, "MPI_Allreduce(sum)");
  }
  /// In-place minimum / maximum over the ranks.
  template <typename U>
  void allreduce_min(U* data, std::int64_t count) const {
    allreduce(data, count, MPI_MIN, "MPI_Allreduce(min)");
  }
  template <typename U>
  void allreduce_max(U* data, std::int64_t count) const {
    allreduce(data, count, MPI_MAX, "MPI_Allreduce(max)");
  }
  /// In-place broadcast of `count` values from `root`.
  template <typename U>
  void broadcast(U* data, std::int64_t count, int root = 0) const {
    for (std::int64_t off = 0; off < count;) {
      const int n = chunk(count - off);
      detail::check(MPI_Bcast(data + off, n, detail::mpi_type<U>(), root, comm_), "MPI_Bcast");
      off += n;
    }
  }
  /// Every rank's `count` values, rank after rank, into `out` (size() * count values).
  template <typename U>
  void allgather(const U* in, std::int64_t count, U* out) const {
    if (count > INT32_MAX)
      throw std::invalid_argument("Communicator::allgather: too many values per rank");
    detail::check(MPI_Allgather(in, static_cast<int>(count), detail::mpi_type<U>(), out,
                                static_cast<int>(count), detail::mpi_type<U>(), comm_),
                  "MPI_Allgather");
  }
  void barrier() const { detail::check(MPI_Barrier(comm_), "MPI_Barrier"); }

  /// Starts an in-place, non-blocking sum over the ranks of `count` (< 2^31) values
  /// (`MPI_Iallreduce`, MPI-3); complete it with `wait_all` (or drive it with `test_all`).
  /// Every rank must start its non-blocking reductions in the same order.
  template <typename U>
  void iallreduce_sum(U* data, std::int64_t count, MPI_Request* request) const {
    if (count > INT32_MAX)
      throw std::invalid_argument("Communicator::iallreduce_sum: too many values in one call");
    detail::check(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), detail::mpi_type<U>(),
                                 MPI_SUM, comm_, request),
                  "MPI_Iallreduce(sum)");
  }
  /// Lets MPI progress the `n` requests (completed ones become MPI_REQUEST_NULL); true when all
  /// are complete.
  static bool test_all(MPI_Request* requests, int n) {
    int done = 0;
    detail::check(MPI_Testall(n, requests, &done, MPI_STATUSES_IGNORE), "MPI_Testall");
    return done != 0;
  }
  /// Waits for the `n` requests.
  static void wait_all(MPI_Request* requests, int n) {
    detail::check(MPI_Waitall(n, requests, MPI_STATUSES_IGNORE), "MPI_Waitall");
  }

 private:
  static int chunk(std::int64_t left) {
    return static_cast<int>(left > (1 << 30) ? (1 << 30) : left);
  }
  template <typename U>
  void allreduce(U* data, std::int64_t count, MPI_Op op, const char* what) const {
    for (std::int64_t off = 0; off < count;) {
      const int n = chunk(count - off);
      detail::check(MPI_Allreduce(MPI_IN_PLACE, data + off, n, detail::mpi_type<U>(), op, comm_),
                    what);
      off += n;
    }
  }

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace distributed
}  // namespace onestone
