#pragma once
// MPI for a Catch2 test program that uses Catch2WithMain's prebuilt main() (compiling Catch's
// session into the program itself costs about 12 s per executable): a listener initialises MPI
// when the test run starts and finalises it when the run ends. Include it in exactly one
// translation unit of the program, and define CATCH_CONFIG_EXTERNAL_INTERFACES for it (the build
// does), which makes <catch2/catch.hpp> declare the listener base class.
//
// Every rank reports its own failures (mpirun exits non-zero when any rank does); at the end of
// the run the ranks agree on the worst count, and a rank whose own tests passed says that
// another one failed, so that no rank's log looks clean when the run was not.
#ifndef CATCH_CONFIG_EXTERNAL_INTERFACES
#error "mpi_listener.hpp needs CATCH_CONFIG_EXTERNAL_INTERFACES defined before <catch2/catch.hpp>"
#endif
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <memory>

#include "onestone/distributed/communicator.hpp"

namespace onestone_test {

class MpiListener : public Catch::TestEventListenerBase {
 public:
  using Catch::TestEventListenerBase::TestEventListenerBase;

  void testRunStarting(Catch::TestRunInfo const& info) override {
    env_ = std::make_unique<onestone::distributed::Environment>();
    Catch::TestEventListenerBase::testRunStarting(info);
  }

  void testRunEnded(Catch::TestRunStats const& stats) override {
    Catch::TestEventListenerBase::testRunEnded(stats);
    const onestone::distributed::Communicator world;
    std::int64_t mine = static_cast<std::int64_t>(stats.totals.assertions.failed);
    std::int64_t worst = mine;
    world.allreduce_max(&worst, 1);
    if (mine == 0 && worst > 0)
      std::fprintf(stderr, "rank %d: another rank failed %lld assertion(s)\n", world.rank(),
                   static_cast<long long>(worst));
    env_.reset();  // MPI_Finalize
  }

 private:
  std::unique_ptr<onestone::distributed::Environment> env_;
};

CATCH_REGISTER_LISTENER(MpiListener)

}  // namespace onestone_test
