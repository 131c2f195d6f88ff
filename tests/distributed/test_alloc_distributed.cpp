// Counts heap allocations in steady-state data-parallel steps (operator new, and malloc on
// glibc, which also sees MPI's own allocations). Replaces the global operator new, so it is an
// executable of its own, run under mpirun like test_distributed.
#include <catch2/catch.hpp>

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <memory>
#include <string>

#include "../common/alloc_counter.hpp"
#include "mpi_listener.hpp"
#include "onestone/distributed/distributed.hpp"
#include "onestone/onestone.hpp"

using namespace onestone;

namespace {
void count(const std::string& method, weighting::GradientSource src) {
  distributed::Communicator comm;
  auto ds = data::make_mmoe_synthetic<double>(
      data::SyntheticOptions().samples(64).dim(6).num_tasks(2).correlation(0.3).seed(1));
  manual_seed(2);
  auto trunk = std::make_shared<nn::MLP<double>>(nn::MLPOptions({6, 16, 16}));
  MultiTaskModel<double> model(std::make_shared<sharing::HardSharing<double>>(trunk, 16));
  for (int t = 0; t < 2; ++t)
    model.add_task(TaskOptions<double>("task" + std::to_string(t))
                       .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(16, 1)))
                       .loss(LossKind::MSE));
  if (!method.empty()) model.set_balancer(weighting::make_balancer<double>(method, 7), src);
  optim::Adam<double> opt(model.parameters(), optim::AdamOptions(1e-3));
  distributed::DistributedTrainStep<double> step(comm, model, opt);
  distributed::DistributedLoader<double> loader(ds, 8, comm.rank(), comm.size(),
                                                distributed::SamplerOptions().seed(3));
  data::Batch<double> b;
  auto one = [&] {
    if (!loader.next(b)) {
      loader.start_epoch();
      loader.next(b);
    }
    step(b);
  };
  for (int i = 0; i < 10; ++i) one();
  g_news = 0;
  g_mallocs = 0;
  g_counting = true;
  for (int i = 0; i < 20; ++i) one();
  g_counting = false;
  const long news = g_news, mallocs = g_mallocs;
  // The same count for bare MPI_Allreduce calls: Open MPI's collectives may malloc internally
  // (their temporary buffers); onestone's own part of the step is what must not allocate.
  double x[4] = {1, 2, 3, 4};
  g_mallocs = 0;
  g_counting = true;
  for (int i = 0; i < 20; ++i) comm.allreduce_sum(x, 4);
  g_counting = false;
  const long mpi_mallocs = g_mallocs;
  // And for non-blocking ones (the gradient buckets, started during the backward pass).
  MPI_Request req;
  g_mallocs = 0;
  g_counting = true;
  for (int i = 0; i < 20; ++i) {
    comm.iallreduce_sum(x, 4, &req);
    distributed::Communicator::wait_all(&req, 1);
  }
  g_counting = false;
  const long nb_mallocs = g_mallocs;
  INFO(method << ": " << news << " operator new, " << mallocs << " malloc calls in 20 steps; "
              << mpi_mallocs << " malloc calls in 20 bare MPI_Allreduce calls, " << nb_mallocs
              << " in 20 MPI_Iallreduce calls");
  CHECK(news == 0);
  if (mpi_mallocs == 0 && nb_mallocs == 0)
    CHECK(mallocs == 0);
  else
    WARN(method << ": " << mallocs << " malloc calls in 20 steps, from MPI's collectives ("
                << mpi_mallocs << " in 20 bare MPI_Allreduce calls, " << nb_mallocs
                << " in 20 MPI_Iallreduce calls)");
}
}  // namespace

TEST_CASE("data-parallel steps make no heap allocation in steady state", "[distributed][alloc]") {
  count("", weighting::GradientSource::Representation);
  count("dwa", weighting::GradientSource::Representation);
  count("pcgrad", weighting::GradientSource::Representation);
  count("mgda", weighting::GradientSource::Parameters);
}
