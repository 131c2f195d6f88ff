// distributed_mtl: data-parallel multi-task training over MPI ranks (onestone::mpi).
//
//   mpirun -np 2 ./distributed_mtl --method nash_mtl --source parameters --epochs 3
//   mpirun -np 8 --hostfile hosts ./distributed_mtl --batch 64       (several machines)
//
// Every rank reads its shard of a synthetic 3-task regression set (the MMoE generator), the
// steps average gradients over the ranks (each bucket's reduction started during the backward
// pass, --no-overlap: after it), the balancer sees what it would see on one process with the
// ranks' batches together. A train::Trainer drives it (distributed::DataParallelBackend):
// rank 0 prints the loss, the throughput and the share of a step spent communicating, and
// writes the checkpoint (--checkpoint, after every epoch); --resume reads it back, with any
// number of ranks.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>

#include "onestone/distributed/distributed.hpp"
#include "onestone/onestone.hpp"

using namespace onestone;

namespace {
struct Args {
  std::string method = "equal", source = "representation", checkpoint, resume;
  int epochs = 2, batch = 64, width = 256, samples = 4096, bucket_kb = 25 * 1024;
  bool overlap = true;
  std::uint64_t seed = 1;
};

const char* kUsage =
    "usage: distributed_mtl [--method NAME] [--source representation|parameters] [--epochs N]\n"
    "                       [--batch PER_RANK] [--width W] [--samples N] [--seed S]\n"
    "                       [--checkpoint PATH] [--resume PATH] [--bucket-kb KB]\n"
    "                       [--no-overlap] [--help]\n"
    "Run under MPI: mpirun -np 2 ./distributed_mtl ...\n";

int parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--help") {
      std::printf("%s", kUsage);
      return 0;
    }
    if (k == "--no-overlap") {
      a.overlap = false;
      continue;
    }
    const bool known = k == "--method" || k == "--source" || k == "--epochs" || k == "--batch" ||
                       k == "--width" || k == "--samples" || k == "--seed" || k == "--checkpoint" ||
                       k == "--resume" || k == "--bucket-kb";
    if (!known) {
      std::fprintf(stderr, "distributed_mtl: unknown option '%s'\n%s", k.c_str(), kUsage);
      return 2;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "distributed_mtl: option %s needs a value\n", k.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    const bool is_int = !v.empty() && *end == '\0' && n > 0;
    if (k == "--method")
      a.method = v;
    else if (k == "--source")
      a.source = v;
    else if (k == "--checkpoint")
      a.checkpoint = v;
    else if (k == "--resume")
      a.resume = v;
    else if (!is_int) {
      std::fprintf(stderr, "distributed_mtl: option %s expects a positive integer, got '%s'\n",
                   k.c_str(), v.c_str());
      return 2;
    } else if (k == "--epochs")
      a.epochs = static_cast<int>(n);
    else if (k == "--batch")
      a.batch = static_cast<int>(n);
    else if (k == "--width")
      a.width = static_cast<int>(n);
    else if (k == "--samples")
      a.samples = static_cast<int>(n);
    else if (k == "--bucket-kb")
      a.bucket_kb = static_cast<int>(n);
    else
      a.seed = static_cast<std::uint64_t>(n);
  }
  if (a.source != "representation" && a.source != "parameters") {
    std::fprintf(stderr, "distributed_mtl: --source must be representation or parameters\n");
    return 2;
  }
  return -1;
}
}  // namespace

int run(const Args& a);

int main(int argc, char** argv) {
  Args a;
  // --help and bad options are answered before MPI starts (so they work without mpirun).
  const int rc = parse(argc, argv, a);
  if (rc >= 0) return rc;
  distributed::Environment env(argc, argv);
  try {
    return run(a);
  } catch (const std::exception& e) {
    // Errors found collectively (mismatched ranks, checkpoints) are thrown on every rank; any
    // other ends the whole job rather than leave the other ranks waiting.
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::fprintf(stderr, "distributed_mtl (rank %d): error: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  return 1;
}

int run(const Args& a) {
  distributed::Communicator comm;
  const bool root = comm.is_root();
  set_num_threads(1);

  const Index dim = 64, T = 3;
  auto data = data::make_mmoe_synthetic<float>(
      data::SyntheticOptions().samples(a.samples).dim(dim).num_tasks(T).correlation(0.5).seed(
          a.seed));
  manual_seed(a.seed);
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({dim, a.width, a.width}));
  MultiTaskModel<float> model(std::make_shared<sharing::HardSharing<float>>(trunk, a.width));
  for (Index t = 0; t < T; ++t)
    model.add_task(TaskOptions<float>("task" + std::to_string(t))
                       .head(std::make_shared<nn::MLP<float>>(nn::MLPOptions({a.width, 32, 1})))
                       .loss(LossKind::MSE));
  const auto source = a.source == "parameters" ? weighting::GradientSource::Parameters
                                               : weighting::GradientSource::Representation;
  model.set_balancer(weighting::make_balancer<float>(a.method, a.seed), source);
  optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));

  // The data-parallel side: this rank's shard, the steps, rank 0's checkpoints.
  distributed::DataParallelBackend<float> backend(
      comm, data, a.batch, distributed::SamplerOptions().seed(a.seed),
      distributed::DataParallelOptions().bucket_mb(a.bucket_kb / 1024.0).overlap(a.overlap));
  auto options = train::TrainerOptions().epochs(a.epochs).progress(false);
  if (!a.checkpoint.empty()) options.checkpoint_last(a.checkpoint);
  train::Trainer<float> trainer(model, opt, backend, options);
  if (!a.resume.empty()) {
    trainer.resume(a.resume);
    if (root)
      std::printf("resumed from %s at step %lld (epoch %d)\n", a.resume.c_str(),
                  (long long)trainer.global_step(), trainer.epoch());
  }
  const auto& step = backend.step();
  if (root)
    std::printf(
        "%d rank(s), batch %d per rank (global %d), %s on %s gradients, %d bucket(s) of "
        "gradients (%lld scalars), reduction %s the backward pass\n",
        comm.size(), a.batch, a.batch * comm.size(), a.method.c_str(), a.source.c_str(),
        step.allreducer().num_buckets(), (long long)step.allreducer().numel(),
        a.overlap ? "overlapped with" : "after");

  // Per epoch: throughput and the share of the time in collectives (the slowest rank's).
  double total_time = 0, t_epoch = MPI_Wtime(), comm0 = step.communication_seconds();
  long long samples = 0;
  std::int64_t steps0 = trainer.global_step();
  trainer.on_epoch([&](const train::EpochInfo& e) {
    const double now = MPI_Wtime(), dt = now - t_epoch;
    const std::int64_t steps = e.step - steps0;
    double share = (step.communication_seconds() - comm0) / dt;
    comm.allreduce_max(&share, 1);
    const double rate = double(steps) * a.batch * comm.size() / dt;
    total_time += dt;
    samples += steps * a.batch * comm.size();
    if (root)
      std::printf("epoch %d: mean loss %.5f, %.0f samples/s, communication %.1f%% of the time\n",
                  e.epoch, e.train_total, rate, 100 * share);
    steps0 = e.step;
    comm0 = step.communication_seconds();
    t_epoch = MPI_Wtime();
  });
  comm.barrier();
  t_epoch = MPI_Wtime();
  trainer.fit();
  if (root && !a.checkpoint.empty())
    std::printf("checkpoint written to %s\n", a.checkpoint.c_str());
  if (root && total_time > 0)
    std::printf("throughput: %.0f samples/s over %d rank(s)\n", samples / total_time, comm.size());
  return 0;
}
