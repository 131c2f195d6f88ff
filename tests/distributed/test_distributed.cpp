// onestone::mpi: the distributed sampler, data-parallel steps equal to one process with the
// ranks' batches together, for every balancer family, checkpoints across rank counts, and
// clear errors when ranks disagree. Run under mpirun with any number of ranks (1, 2, 3).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "mpi_listener.hpp"
#include "onestone/distributed/distributed.hpp"
#include "onestone/onestone.hpp"

using namespace onestone;
using distributed::Communicator;

namespace {

const Communicator& world() {
  static Communicator c(MPI_COMM_WORLD);
  return c;
}
const Communicator& self() {
  static Communicator c(MPI_COMM_SELF);
  return c;
}

data::Dataset<double> make_data(Index n = 60) {
  return data::make_mmoe_synthetic<double>(
      data::SyntheticOptions().samples(n).dim(6).num_tasks(2).correlation(0.3).seed(11));
}

std::unique_ptr<MultiTaskModel<double>> make_model(const std::string& method,
                                                   weighting::GradientSource src, Index width = 8) {
  manual_seed(5);
  auto trunk = std::make_shared<nn::MLP<double>>(nn::MLPOptions({6, width, width}));
  auto m = std::make_unique<MultiTaskModel<double>>(
      std::make_shared<sharing::HardSharing<double>>(trunk, width));
  for (int t = 0; t < 2; ++t)
    m->add_task(TaskOptions<double>("task" + std::to_string(t))
                    .head(std::make_shared<nn::Linear<double>>(nn::LinearOptions(width, 1)))
                    .loss(LossKind::MSE));
  if (!method.empty()) m->set_balancer(weighting::make_balancer<double>(method, 42), src);
  return m;
}

double max_param_diff(const MultiTaskModel<double>& a, const MultiTaskModel<double>& b) {
  const auto pa = a.parameters(), pb = b.parameters();
  REQUIRE(pa.size() == pb.size());
  double d = 0;
  for (std::size_t i = 0; i < pa.size(); ++i)
    for (Index k = 0; k < pa[i]->numel(); ++k)
      d = std::max(d, std::abs(pa[i]->value().data()[k] - pb[i]->value().data()[k]));
  return d;
}

// True on every rank when `ok` holds on every rank (so all ranks take the same branch).
bool all_ranks(bool ok) {
  std::int64_t v = ok ? 1 : 0;
  world().allreduce_min(&v, 1);
  return v == 1;
}

// Runs `epochs` epochs of one process with global batch N·B (plain TrainStep) beside the
// data-parallel run with batch B per rank; checks the parameters, the losses and the
// balancer's weights after every step.
void check_equivalence(const std::string& method, weighting::GradientSource src, int epochs = 3) {
  const Communicator& comm = world();
  const Index B = 5, N = comm.size();
  auto ds = make_data();
  auto ref = make_model(method, src);
  auto dist = make_model(method, src);
  optim::SGD<double> ref_opt(ref->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  optim::SGD<double> dist_opt(dist->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  train::TrainStep<double> ref_step(*ref, ref_opt);
  distributed::DistributedTrainStep<double> dist_step(comm, *dist, dist_opt);
  const auto so = distributed::SamplerOptions().seed(3);
  distributed::DistributedLoader<double> ref_loader(ds, B * N, 0, 1, so);
  distributed::DistributedLoader<double> dist_loader(ds, B, comm.rank(), static_cast<int>(N), so);
  int steps = 0;
  double worst = 0, worst_loss = 0, worst_w = 0;
  for (int e = 0; e < epochs; ++e) {
    ref_loader.start_epoch();
    dist_loader.start_epoch();
    data::Batch<double> rb, db;
    while (ref_loader.next(rb)) {
      REQUIRE(dist_loader.next(db));
      const auto& r1 = ref_step(rb);
      const auto& r2 = dist_step(db);
      worst_loss = std::max(worst_loss, std::abs(r1.total - r2.total) / (1 + std::abs(r1.total)));
      worst = std::max(worst, max_param_diff(*ref, *dist));
      if (ref->balancer())
        worst_w = std::max(
            worst_w,
            (ref->balancer()->weights() - dist->balancer()->weights()).cwiseAbs().maxCoeff());
      ++steps;
    }
    CHECK_FALSE(dist_loader.next(db));
    ref->end_epoch();
    dist->end_epoch();
  }
  INFO(method << " ("
              << (src == weighting::GradientSource::Parameters ? "parameters" : "representation")
              << ") on " << N << " ranks, " << steps << " steps: parameter diff " << worst
              << ", loss diff " << worst_loss << ", weight diff " << worst_w);
  CHECK(steps == epochs * ((60 + B * N - 1) / (B * N)));
  CHECK(worst < 1e-10);
  CHECK(worst_loss < 1e-12);
  CHECK(worst_w < 1e-9);
  CHECK(all_ranks(worst < 1e-10));
}

}  // namespace

TEST_CASE("the sampler gives equal disjoint shards whose blocks form the one-process batch",
          "[distributed][sampler]") {
  for (bool drop : {false, true})
    for (int ranks : {1, 2, 3, 4}) {
      const Index n = 23, B = 3;
      const auto so = distributed::SamplerOptions().seed(9).drop_tail(drop);
      distributed::DistributedSampler one(n, B * ranks, 0, 1, so);
      std::vector<distributed::DistributedSampler> s;
      for (int r = 0; r < ranks; ++r) s.emplace_back(n, B, r, ranks, so);
      for (int epoch = 0; epoch < 2; ++epoch) {
        one.start_epoch();
        for (auto& x : s) x.start_epoch();
        std::vector<Index> got, mine;
        std::vector<std::size_t> counts(static_cast<std::size_t>(ranks), 0);
        Index pos = 0;
        bool more = true;
        while (more) {
          got.clear();
          for (int r = 0; r < ranks; ++r) {
            const bool has = s[static_cast<std::size_t>(r)].next(mine);
            if (r == 0) more = has;
            REQUIRE(has == more);
            if (!has) continue;
            counts[static_cast<std::size_t>(r)] += mine.size();
            got.insert(got.end(), mine.begin(), mine.end());
          }
          // The ranks' blocks, in rank order, are consecutive positions of the epoch's order,
          // which is the same permutation one process draws.
          for (Index k : got) CHECK(k == one.at(pos++));
        }
        for (auto& x : s) CHECK_FALSE(x.next(mine));
        for (int r = 1; r < ranks; ++r) CHECK(counts[static_cast<std::size_t>(r)] == counts[0]);
        const Index expect = drop ? (n / ranks) : (n + ranks - 1) / ranks;
        CHECK(static_cast<Index>(counts[0]) == expect);
        CHECK(s[0].shard_size() == expect);
      }
    }
  // Reshuffled every epoch, and the same for the same seed.
  distributed::DistributedSampler a(50, 50, 0, 1), b(50, 50, 0, 1);
  std::vector<Index> e1, e2, f1;
  a.start_epoch();
  a.next(e1);
  a.start_epoch();
  a.next(e2);
  b.start_epoch();
  b.next(f1);
  CHECK(e1 != e2);
  CHECK(e1 == f1);
  CHECK(std::set<Index>(e1.begin(), e1.end()).size() == 50);
  CHECK_THROWS_AS(distributed::DistributedSampler(10, 0, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS(distributed::DistributedSampler(10, 2, 2, 2), std::invalid_argument);
}

TEST_CASE("gradients are averaged in fused buckets", "[distributed][allreduce]") {
  const Communicator& comm = world();
  auto model = make_model("", weighting::GradientSource::Representation);
  auto params = model->parameters();
  // Tiny buckets: several tensors per bucket, every tensor in one.
  distributed::GradientAllreducer<double> ar(comm, params, 8 * 80.0);
  CHECK(ar.num_buckets() > 1);
  CHECK(ar.num_buckets() < static_cast<int>(params.size()));
  distributed::GradientAllreducer<double> big(comm, params);
  CHECK(big.num_buckets() == 1);
  for (auto* p : params)
    for (Index k = 0; k < p->numel(); ++k) p->grad().data()[k] = comm.rank() + 0.5 * k;
  ar.average();
  const double mean_rank = (comm.size() - 1) / 2.0;
  double err = 0;
  for (auto* p : params)
    for (Index k = 0; k < p->numel(); ++k)
      err = std::max(err, std::abs(p->grad().data()[k] - (mean_rank + 0.5 * k)));
  CHECK(err < 1e-12);
}

TEST_CASE("rank 0's parameters reach every rank", "[distributed][broadcast]") {
  const Communicator& comm = world();
  manual_seed(100 + static_cast<std::uint64_t>(comm.rank()));
  nn::Linear<double> lin(nn::LinearOptions(4, 3));
  distributed::broadcast_module(comm, lin);
  double sum = 0;
  for (auto* p : lin.parameters())
    for (Index k = 0; k < p->numel(); ++k) sum += p->value().data()[k];
  double lo = sum, hi = sum;
  comm.allreduce_min(&lo, 1);
  comm.allreduce_max(&hi, 1);
  CHECK(lo == hi);
}

TEST_CASE("N ranks with batch B step as one process with batch N*B: static and loss weighting",
          "[distributed][equivalence]") {
  check_equivalence("", weighting::GradientSource::Representation);
  check_equivalence("equal", weighting::GradientSource::Representation);
  check_equivalence("dwa", weighting::GradientSource::Representation, 4);
  check_equivalence("uncertainty", weighting::GradientSource::Representation);
}

TEST_CASE("N ranks with batch B step as one process with batch N*B: gradient methods",
          "[distributed][equivalence]") {
  for (auto src :
       {weighting::GradientSource::Representation, weighting::GradientSource::Parameters}) {
    check_equivalence("pcgrad", src);
    check_equivalence("mgda", src);
    check_equivalence("nash_mtl", src);
  }
  check_equivalence("graddrop", weighting::GradientSource::Representation);
  check_equivalence("famo", weighting::GradientSource::Representation);
  check_equivalence("sdmgrad", weighting::GradientSource::Representation);
}

TEST_CASE("ranks that disagree on the model's shape fail with a clear error on every rank",
          "[distributed][errors]") {
  const Communicator& comm = world();
  auto model = make_model("mgda", weighting::GradientSource::Representation,
                          8 + (comm.rank() == comm.size() - 1 ? 1 : 0));
  optim::SGD<double> opt(model->parameters(), optim::SGDOptions(0.1));
  if (comm.size() == 1) {
    CHECK_NOTHROW(distributed::DistributedTrainStep<double>(comm, *model, opt));
    return;
  }
  std::string msg;
  try {
    distributed::DistributedTrainStep<double> step(comm, *model, opt);
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK(msg.find("differs across the") != std::string::npos);
  CHECK(all_ranks(!msg.empty()));
}

TEST_CASE("ranks with different tasks present fail on every rank", "[distributed][errors]") {
  const Communicator& comm = world();
  if (comm.size() == 1) return;
  auto ds = make_data(20);
  auto model = make_model("pcgrad", weighting::GradientSource::Representation);
  optim::SGD<double> opt(model->parameters(), optim::SGDOptions(0.1));
  distributed::DistributedTrainStep<double> step(comm, *model, opt);
  data::Batch<double> b;
  const Index idx[4] = {0, 1, 2, 3};
  ds.gather(idx, 4, b);
  if (comm.rank() == 0) {  // task1 unlabelled on rank 0 only
    b.targets[1].weight = Tensor<double>({4});
    b.targets[1].weight.zero_();
  }
  std::string msg;
  try {
    step(b);
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  INFO(msg);
  CHECK(msg.find("task1") != std::string::npos);
  CHECK(all_ranks(!msg.empty()));
}

TEST_CASE("a checkpoint written by rank 0 resumes on another number of ranks",
          "[distributed][checkpoint]") {
  const Communicator& comm = world();
  const Index B = 4, N = comm.size();
  const std::string path = "distributed_test_ckpt.safetensors";
  auto ds = make_data();
  const auto so = distributed::SamplerOptions().seed(21);
  auto src = weighting::GradientSource::Representation;
  // N ranks: 5 steps, checkpoint, 3 more steps.
  auto model = make_model("dwa", src);
  optim::SGD<double> opt(model->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  distributed::DistributedTrainStep<double> step(comm, *model, opt);
  distributed::DistributedLoader<double> loader(ds, B, comm.rank(), static_cast<int>(N), so);
  data::Batch<double> b;
  auto next = [&](auto& ld, data::Batch<double>& out, MultiTaskModel<double>& m) {
    if (!ld.next(out)) {
      m.end_epoch();
      ld.start_epoch();
      REQUIRE(ld.next(out));
    }
  };
  for (int s = 0; s < 5; ++s) {
    next(loader, b, *model);
    step(b);
  }
  io::CheckpointState<double> st(*model, opt);
  st.step = step.steps();
  distributed::save_checkpoint(comm, path, st, &loader.sampler());
  for (int s = 0; s < 3; ++s) {
    next(loader, b, *model);
    step(b);
  }
  // One process (on every rank, over MPI_COMM_SELF) with batch N·B resumes from the file.
  auto solo = make_model("dwa", src);
  optim::SGD<double> solo_opt(solo->parameters(), optim::SGDOptions(0.05).momentum(0.9));
  distributed::DistributedTrainStep<double> solo_step(self(), *solo, solo_opt);
  distributed::DistributedLoader<double> solo_loader(ds, B * N, 0, 1, so);
  io::CheckpointState<double> st2(*solo, solo_opt);
  const auto meta = distributed::load_checkpoint(self(), path, st2, &solo_loader.sampler());
  CHECK(st2.step == 5);
  CHECK(meta.at("distributed.ranks") == std::to_string(N));
  for (int s = 0; s < 3; ++s) {
    next(solo_loader, b, *solo);
    solo_step(b);
  }
  const double d = max_param_diff(*model, *solo);
  INFO("parameter difference after resuming on 1 rank: " << d);
  CHECK(d < 1e-10);
  // A checkpoint that cannot be written fails on every rank.
  std::string msg;
  try {
    distributed::save_checkpoint(comm, "no/such/dir/ckpt.safetensors", st, &loader.sampler());
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  CHECK(msg.find("rank 0") != std::string::npos);
  // A missing file fails on every rank.
  msg.clear();
  io::CheckpointState<double> st3(*model, opt);
  try {
    distributed::load_checkpoint(comm, "no_such_checkpoint.safetensors", st3, &loader.sampler());
  } catch (const std::runtime_error& e) {
    msg = e.what();
  }
  CHECK(!msg.empty());
  comm.barrier();
  if (comm.is_root()) std::remove(path.c_str());
}

namespace {

// The Trainer's options shared by the reference and the distributed runs.
train::TrainerOptions trainer_options(int epochs, int accumulate) {
  return train::TrainerOptions()
      .epochs(epochs)
      .accumulate_steps(accumulate)
      .early_stopping(train::Monitor::mean_loss(), 2)
      .progress(false);
}

void check_history(const train::FitSummary& a, const train::FitSummary& b, const char* what) {
  INFO(what);
  REQUIRE(a.history.size() == b.history.size());
  CHECK(a.steps == b.steps);
  CHECK(a.stopped_early == b.stopped_early);
  CHECK(a.best_epoch == b.best_epoch);
  CHECK(std::abs(a.best_value - b.best_value) <= 1e-12 * (1 + std::abs(a.best_value)));
  for (std::size_t e = 0; e < a.history.size(); ++e) {
    CHECK(std::abs(a.history[e].train_total - b.history[e].train_total) <=
          1e-12 * (1 + std::abs(a.history[e].train_total)));
    for (std::size_t k = 0; k < a.history[e].train_losses.size(); ++k)
      CHECK(std::abs(a.history[e].train_losses[k] - b.history[e].train_losses[k]) <=
            1e-12 * (1 + std::abs(a.history[e].train_losses[k])));
    CHECK(std::abs(a.history[e].monitor - b.history[e].monitor) <=
          1e-12 * (1 + std::abs(a.history[e].monitor)));
  }
}

}  // namespace

TEST_CASE("a Trainer over N ranks with batch B runs as a one-process Trainer with batch N*B",
          "[distributed][trainer]") {
  const Communicator& comm = world();
  const Index B = 5, N = comm.size();
  auto ds = make_data();
  auto val = make_data(24);
  for (const std::string method : {"dwa", "pcgrad"})
    for (int accumulate : {1, 2}) {
      INFO(method << ", accumulate " << accumulate << ", " << N << " ranks");
      const auto src = weighting::GradientSource::Representation;
      // Reference: the plain Trainer, unshuffled loader with batch N·B.
      auto ref = make_model(method, src);
      optim::SGD<double> ref_opt(ref->parameters(), optim::SGDOptions(0.05).momentum(0.9));
      data::DataLoader<double> ref_loader(ds,
                                          data::LoaderOptions().batch_size(B * N).shuffle(false));
      data::DataLoader<double> ref_val(val, data::LoaderOptions().batch_size(8).shuffle(false));
      train::Trainer<double> ref_trainer(*ref, ref_opt, ref_loader, trainer_options(4, accumulate));
      ref_trainer.set_validation(ref_val);
      const auto a = ref_trainer.fit();
      // N ranks with batch B, the same order (unshuffled sampler).
      auto dist = make_model(method, src);
      optim::SGD<double> opt(dist->parameters(), optim::SGDOptions(0.05).momentum(0.9));
      distributed::DataParallelBackend<double> backend(
          comm, ds, B, distributed::SamplerOptions().shuffle(false));
      data::DataLoader<double> dval(val, data::LoaderOptions().batch_size(8).shuffle(false));
      train::Trainer<double> trainer(*dist, opt, backend, trainer_options(4, accumulate));
      trainer.set_validation(dval);
      const auto b = trainer.fit();
      check_history(a, b, "plain Trainer vs distributed Trainer");
      const double d = max_param_diff(*ref, *dist);
      INFO("parameter difference " << d);
      CHECK(d < 1e-10);
      CHECK(all_ranks(d < 1e-10));
      CHECK(backend.step().allreducer().num_buckets() >= 1);
    }
}

TEST_CASE("a distributed Trainer writes its checkpoints once and resumes on any number of ranks",
          "[distributed][trainer][checkpoint]") {
  const Communicator& comm = world();
  const Index B = 4, N = comm.size();
  const std::string last = "distributed_trainer_last.safetensors";
  const std::string best = "distributed_trainer_best.safetensors";
  const std::string log = "distributed_trainer_log.csv";
  auto ds = make_data();
  auto val = make_data(24);
  const auto so = distributed::SamplerOptions().seed(5);
  const auto src = weighting::GradientSource::Representation;
  const auto options = [&] {
    return train::TrainerOptions().epochs(3).progress(false).checkpoint_last(last).checkpoint_best(
        best);
  };
  // Uninterrupted: N ranks, 3 epochs.
  auto full = make_model("mgda", src);
  {
    optim::Adam<double> opt(full->parameters(), optim::AdamOptions(1e-2));
    distributed::DataParallelBackend<double> backend(comm, ds, B, so);
    data::DataLoader<double> dval(val, data::LoaderOptions().batch_size(8).shuffle(false));
    train::Trainer<double> t(*full, opt, backend,
                             train::TrainerOptions().epochs(3).progress(false));
    t.set_validation(dval);
    t.fit();
  }
  // Interrupted: the last rank alone asks to stop at step 7 (every rank stops), the last
  // checkpoint is written by rank 0 only.
  {
    auto m = make_model("mgda", src);
    optim::Adam<double> opt(m->parameters(), optim::AdamOptions(1e-2));
    distributed::DataParallelBackend<double> backend(comm, ds, B, so);
    data::DataLoader<double> dval(val, data::LoaderOptions().batch_size(8).shuffle(false));
    train::Trainer<double> t(*m, opt, backend, options().log_csv(log));
    t.set_validation(dval);
    t.on_step([&](const train::StepInfo& s) {
      if (s.step == 7 && comm.rank() == comm.size() - 1) t.request_stop();
    });
    const auto s = t.fit();
    CHECK(s.steps == 7);
    CHECK(all_ranks(s.steps == 7));
    if (comm.is_root())
      CHECK(backend.checkpoints_written() > 0);
    else
      CHECK(backend.checkpoints_written() == 0);
    std::map<std::string, std::string> meta;
    io::read_safetensors(last, &meta);
    CHECK(meta.at("user.distributed.ranks") == std::to_string(N));
  }
  // Resumed on N ranks, and on one process (MPI_COMM_SELF) with batch N·B.
  for (const Communicator* c : {&world(), &self()}) {
    auto m = make_model("mgda", src);
    optim::Adam<double> opt(m->parameters(), optim::AdamOptions(1e-2));
    const Index b = c == &world() ? B : B * N;
    distributed::DataParallelBackend<double> backend(*c, ds, b, so);
    data::DataLoader<double> dval(val, data::LoaderOptions().batch_size(8).shuffle(false));
    train::Trainer<double> t(*m, opt, backend, train::TrainerOptions().epochs(3).progress(false));
    t.set_validation(dval);
    t.resume(last);
    CHECK(t.global_step() == 7);
    const auto s = t.fit();
    CHECK(s.epochs == 3);
    const double d = max_param_diff(*full, *m);
    INFO((c == &world() ? "resumed on the same ranks" : "resumed on one process")
         << ": parameter difference " << d);
    CHECK(d < 1e-10);
  }
  // A missing checkpoint fails on every rank.
  {
    auto m = make_model("mgda", src);
    optim::Adam<double> opt(m->parameters(), optim::AdamOptions(1e-2));
    distributed::DataParallelBackend<double> backend(comm, ds, B, so);
    train::Trainer<double> t(*m, opt, backend, train::TrainerOptions().epochs(3).progress(false));
    std::string msg;
    try {
      t.resume("no_such_trainer_checkpoint.safetensors");
    } catch (const std::runtime_error& e) {
      msg = e.what();
    }
    CHECK(all_ranks(!msg.empty()));
  }
  comm.barrier();
  if (comm.is_root()) {
    std::remove(last.c_str());
    std::remove(best.c_str());
    std::remove(log.c_str());
  }
}

TEST_CASE("overlapped and after-backward gradient reductions give the same steps",
          "[distributed][overlap]") {
  const Communicator& comm = world();
  const Index B = 5, N = comm.size();
  auto ds = make_data();
  for (const std::string method : {"", "pcgrad"})
    for (auto src :
         {weighting::GradientSource::Representation, weighting::GradientSource::Parameters}) {
      if (method.empty() && src == weighting::GradientSource::Parameters) continue;
      auto a = make_model(method, src), b = make_model(method, src);
      optim::SGD<double> oa(a->parameters(), optim::SGDOptions(0.05));
      optim::SGD<double> ob(b->parameters(), optim::SGDOptions(0.05));
      // Tiny buckets: at least two per step (a parameter is never split across buckets), one
      // started during the backward while the rest of it runs.
      distributed::DistributedTrainStep<double> sa(
          comm, *a, oa, distributed::DataParallelOptions().bucket_mb(100 * 8 / 1048576.0));
      distributed::DistributedTrainStep<double> sb(
          comm, *b, ob,
          distributed::DataParallelOptions().bucket_mb(100 * 8 / 1048576.0).overlap(false));
      CHECK(sa.allreducer().num_buckets() >= 2);
      distributed::DistributedLoader<double> la(ds, B, comm.rank(), static_cast<int>(N));
      distributed::DistributedLoader<double> lb(ds, B, comm.rank(), static_cast<int>(N));
      data::Batch<double> ba, bb;
      la.start_epoch();
      lb.start_epoch();
      int started = 0;
      while (la.next(ba)) {
        REQUIRE(lb.next(bb));
        sa(ba);
        sb(bb);
        started += sa.allreducer().started_in_backward();
      }
      INFO("method '" << method << "', "
                      << (src == weighting::GradientSource::Parameters ? "parameters"
                                                                       : "representation")
                      << ": " << started << " buckets started during backward passes");
      CHECK(max_param_diff(*a, *b) < 1e-13);
      if (N > 1 && src == weighting::GradientSource::Representation) CHECK(started > 0);
      if (src == weighting::GradientSource::Parameters) CHECK(started == 0);
    }
}
