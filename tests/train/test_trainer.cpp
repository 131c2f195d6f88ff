// Tests of train::Trainer: exact resume (double and float, at an epoch end and within an
// epoch), gradient accumulation, early stopping and the best parameters, evaluation and
// callback counts, learning-rate schedules, parameter-group rates and option errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "onestone/onestone.hpp"
#include "onestone/train/trainer.hpp"
#include "trainer_test_util.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_train_trainer {

using namespace onestone;
using trainer_test::quiet;
using trainer_test::Rig;
using trainer_test::TempDir;

namespace {

template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// 3 epochs straight vs 1 epoch + last checkpoint + a new Trainer (new objects) + resume + the
// remaining 2 epochs: identical parameters, bit for bit.
template <typename T>
void check_resume_at_epoch_end(const std::string& balancer) {
  TempDir dir;
  const std::string last = dir.file("last.safetensors");
  const auto opts = [&] {
    return quiet().epochs(3).early_stopping(train::Monitor::mean_primary(), 10);
  };

  Rig<T> a(7, 16, true, balancer);
  optim::StepLR<T> sched_a(*a.opt, 1, 0.7);
  train::Trainer<T> ta(*a.model, *a.opt, *a.train_loader, opts());
  ta.set_validation(*a.val_loader).set_scheduler(sched_a);
  const auto sa = ta.fit();
  REQUIRE(sa.epochs == 3);

  {
    Rig<T> b(7, 16, true, balancer);
    optim::StepLR<T> sched_b(*b.opt, 1, 0.7);
    train::Trainer<T> tb(*b.model, *b.opt, *b.train_loader, opts().epochs(1).checkpoint_last(last));
    tb.set_validation(*b.val_loader).set_scheduler(sched_b);
    tb.fit();
  }
  Rig<T> c(99, 16, true, balancer);  // other initial values: everything comes from the file
  REQUIRE(!bitwise_equal(c.params(), a.params()));
  optim::StepLR<T> sched_c(*c.opt, 1, 0.7);
  train::Trainer<T> tc(*c.model, *c.opt, *c.train_loader, opts());
  tc.set_validation(*c.val_loader).set_scheduler(sched_c);
  tc.resume(last);
  CHECK(tc.epoch() == 1);
  const auto sc = tc.fit();
  CHECK(sc.epochs == 3);
  CHECK(sc.steps == sa.steps);
  REQUIRE(sc.history.size() == 3);
  CHECK(sc.history[0].train_total == sa.history[0].train_total);
  CHECK(sc.history[2].train_total == sa.history[2].train_total);
  CHECK(sc.best_value == sa.best_value);
  CHECK(sc.best_epoch == sa.best_epoch);
  CHECK(c.opt->lr() == a.opt->lr());
  REQUIRE(bitwise_equal(c.params(), a.params()));
}

}  // namespace

TEST_CASE("trainer: resume after an epoch is bit-for-bit (double)", "[train][resume]") {
  check_resume_at_epoch_end<double>("");
}

TEST_CASE("trainer: resume after an epoch is bit-for-bit (float)", "[train][resume]") {
  check_resume_at_epoch_end<float>("");
}

TEST_CASE("trainer: resume with a stateful balancer is bit-for-bit (float, DWA)",
          "[train][resume]") {
  check_resume_at_epoch_end<float>("dwa");
}

TEST_CASE("trainer: resume within an epoch (accumulation, per-step schedule, FAMO)",
          "[train][resume]") {
  TempDir dir;
  const std::string last = dir.file("last.safetensors");
  const auto opts = [] {
    return quiet()
        .epochs(3)
        .accumulate_steps(2)
        .scheduler_interval(train::SchedulerInterval::Step)
        .eval_every_steps(3);
  };
  Rig<double> a(4, 16, true, "famo");
  optim::StepLR<double> sched_a(*a.opt, 2, 0.9);
  train::Trainer<double> ta(*a.model, *a.opt, *a.train_loader, opts());
  ta.set_validation(*a.val_loader).set_scheduler(sched_a);
  ta.fit();

  {
    Rig<double> b(4, 16, true, "famo");
    optim::StepLR<double> sched_b(*b.opt, 2, 0.9);
    train::Trainer<double> tb(*b.model, *b.opt, *b.train_loader, opts().checkpoint_last(last));
    tb.set_validation(*b.val_loader).set_scheduler(sched_b);
    tb.on_step([&](const train::StepInfo& s) {
      if (s.step == 6) tb.request_stop();  // 4 steps per epoch: within epoch 2
    });
    const auto sb = tb.fit();
    CHECK(sb.steps == 6);
    CHECK(sb.epochs == 1);
    REQUIRE(sb.history.size() == 2);
    CHECK_FALSE(sb.history[1].complete);
  }
  Rig<double> c(12, 16, true, "famo");
  optim::StepLR<double> sched_c(*c.opt, 2, 0.9);
  train::Trainer<double> tc(*c.model, *c.opt, *c.train_loader, opts());
  tc.set_validation(*c.val_loader).set_scheduler(sched_c);
  tc.resume(last);
  CHECK(tc.global_step() == 6);
  const auto sc = tc.fit();
  CHECK(sc.steps == 12);
  REQUIRE(sc.history.size() == 3);  // the partial record of epoch 2 is replaced
  CHECK(sc.history[1].complete);
  CHECK(sc.history[1].train_total == ta.history()[1].train_total);
  REQUIRE(bitwise_equal(c.params(), a.params()));
}

TEST_CASE("train step: FAMO's after-step losses are taken without moving the balancer",
          "[train][famo]") {
  // One step of TrainStep with FAMO equals the hand-written sequence: losses L, weights,
  // backward, update, losses L' on the same batch (no combination), after_step(L'). With
  // z = (1/2, 1/2) the first Adam step on the logits is ξ = −w_lr·sign(g), g₀ = (δ₀ − δ₁)/4.
  Rig<double> a(7, 16, false, "famo");
  auto* famo = dynamic_cast<weighting::FAMO<double>*>(a.model->balancer());
  REQUIRE(famo != nullptr);
  const auto& batch = *a.train_loader->begin();
  train::TrainStep<double> step(*a.model, *a.opt);
  const auto& r = step(batch);
  const double l0 = r.task_losses[0], l1 = r.task_losses[1];
  CHECK(famo->steps() == 1);  // the after-step forward does not count as a step
  {
    NoGradGuard no_grad;
    a.model->compute_losses(batch);
  }
  const double n0 = a.model->task_losses()[0].item(), n1 = a.model->task_losses()[1].item();
  const double d0 = std::log(l0 + 1e-8) - std::log(n0 + 1e-8);
  const double d1 = std::log(l1 + 1e-8) - std::log(n1 + 1e-8);
  REQUIRE(d0 != d1);
  const double g0 = (d0 - d1) / 4;  // the L2 term γ·ξ is 0 at the first step
  CHECK(famo->logits()[0] == Approx(-0.025 * g0 / (std::abs(g0) + 1e-8)).epsilon(1e-6));
  CHECK(famo->logits()[1] == Approx(0.025 * g0 / (std::abs(g0) + 1e-8)).epsilon(1e-6));
}

TEST_CASE("trainer: resume refuses a file that is not a Trainer checkpoint", "[train][resume]") {
  TempDir dir;
  Rig<double> a(1);
  io::CheckpointState<double> st(*a.model, *a.opt);
  io::save_checkpoint(dir.file("plain.safetensors"), st);
  train::Trainer<double> t(*a.model, *a.opt, *a.train_loader, quiet());
  CHECK_THROWS_WITH(t.resume(dir.file("plain.safetensors")),
                    Catch::Matchers::Contains("not a Trainer checkpoint"));
}

TEST_CASE("trainer: accumulating k=2 batches of B equals one step on 2B (double, MSE)",
          "[train][accumulation]") {
  // 120 training samples: 6 batches of 20, or 3 of 40; unshuffled so the groups match.
  Rig<double> a(5, 20, false, "", true);
  Rig<double> b(5, 40, false, "", true);
  REQUIRE(a.params() == b.params());
  train::Trainer<double> ta(*a.model, *a.opt, *a.train_loader,
                            quiet().epochs(2).accumulate_steps(2));
  train::Trainer<double> tb(*b.model, *b.opt, *b.train_loader, quiet().epochs(2));
  int steps_a = 0;
  ta.on_step([&](const train::StepInfo& s) {
    ++steps_a;
    CHECK(s.batches == 2);
  });
  const auto sa = ta.fit();
  const auto sb = tb.fit();
  CHECK(sa.steps == 6);
  CHECK(sb.steps == 6);
  CHECK(steps_a == 6);
  const auto pa = a.params(), pb = b.params();
  REQUIRE(pa.size() == pb.size());
  double worst = 0;
  for (std::size_t i = 0; i < pa.size(); ++i) worst = std::max(worst, std::abs(pa[i] - pb[i]));
  CHECK(worst <= 1e-12);
  REQUIRE(pa != Rig<double>(5, 20, false, "", true).params());  // it trained
}

TEST_CASE("trainer: early stopping stops, records and restores the best", "[train][early]") {
  TempDir dir;
  const std::string best = dir.file("best.safetensors");
  Rig<double> r(3);
  // A min_delta no change can beat: the first evaluation stays the best.
  train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                           quiet()
                               .epochs(10)
                               .early_stopping(train::Monitor::metric("task0/mse"), 2, 1e9)
                               .checkpoint_best(best)
                               .restore_best(true));
  t.set_validation(*r.val_loader);
  std::vector<double> after_epoch1;
  int evals = 0;
  t.on_epoch([&](const train::EpochInfo& e) {
    if (e.epoch == 1) after_epoch1 = r.params();
  });
  t.on_eval([&](const train::EvalInfo& e) {
    ++evals;
    CHECK_FALSE(e.higher_is_better);  // MSE
    CHECK(e.improved == (evals == 1));
  });
  const auto s = t.fit();
  CHECK(s.stopped_early);
  CHECK(s.epochs == 3);
  CHECK(evals == 3);
  REQUIRE(s.history.size() == 3);
  CHECK(s.has_best);
  CHECK(s.best_epoch == 1);
  CHECK(s.best_step == 8);  // 120 samples / 16: 8 steps per epoch
  CHECK(s.best_value == s.history[0].monitor);
  CHECK(s.restored_best);
  CHECK(r.params() == after_epoch1);
  // The best checkpoint holds the same parameters.
  Rig<double> other(77);
  io::CheckpointState<double> st;
  st.model = other.model.get();
  io::load_checkpoint(best, st);
  CHECK(other.params() == after_epoch1);
}

TEST_CASE("trainer: the monitor's direction decides the best", "[train][early]") {
  Rig<double> r(3);
  train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                           quiet().epochs(4).monitor(train::Monitor::mean_primary()));
  t.set_validation(*r.val_loader);
  const auto s = t.fit();
  REQUIRE(s.history.size() == 4);
  CHECK_FALSE(s.higher_is_better);  // both primary metrics are MSE
  double lowest = s.history[0].monitor;
  for (const auto& e : s.history) lowest = std::min(lowest, e.monitor);
  CHECK(s.best_value == lowest);
  CHECK_FALSE(s.stopped_early);
  // Mean of the primaries: here the mean of the two MSEs.
  const auto& v = s.history.back().validation;
  CHECK(s.history.back().monitor == Approx((v.get("task0", "mse") + v.get("task1", "mse")) / 2));
}

TEST_CASE("trainer: Monitor values and directions", "[train][monitor]") {
  model::EvalReport r;
  model::TaskMetrics a, b;
  a.task = "a";
  a.loss = 0.5;
  a.add("accuracy", 0.8, true);
  b.task = "b";
  b.loss = 2.0;
  b.add("mse", 2.0, false);
  r.tasks = {a, b};
  CHECK(train::Monitor::metric("a/accuracy").value(r) == 0.8);
  CHECK(train::Monitor::metric("a/accuracy").higher_is_better(r));
  CHECK_FALSE(train::Monitor::metric("b/mse").higher_is_better(r));
  CHECK_FALSE(train::Monitor::metric("a/loss").higher_is_better(r));
  // mixed directions: mean of (0.8, -2.0), higher-better
  CHECK(train::Monitor::mean_primary().value(r) == Approx(-0.6));
  CHECK(train::Monitor::mean_primary().higher_is_better(r));
  CHECK(train::Monitor::mean_loss().value(r) == Approx(1.25));
  model::EvalReport base = r;
  base.tasks[0].values[0].second = 0.4;  // the multi-task accuracy is twice the baseline's
  const auto dm = train::Monitor::delta_m(base);
  CHECK(dm.higher_is_better(r));
  CHECK(dm.value(r) == Approx(50.0));  // (+100% + 0%) / 2
  CHECK_THROWS_WITH(train::Monitor::metric("a/f1").value(r), Catch::Matchers::Contains("f1"));
  CHECK_THROWS_WITH(train::Monitor::metric("z/mse").value(r), Catch::Matchers::Contains("'z'"));
  CHECK_THROWS_AS(train::Monitor::metric("nomonitor"), std::invalid_argument);
}

TEST_CASE("trainer: evaluation every N steps and callback counts", "[train][callbacks]") {
  // 120 samples, batches of 16: 8 steps per epoch, 24 in 3 epochs.
  SECTION("step evaluations not on epoch ends") {
    Rig<double> r(2);
    train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                             quiet().epochs(3).eval_every_steps(5));
    t.set_validation(*r.val_loader);
    int steps = 0, epochs = 0;
    std::vector<std::int64_t> eval_steps;
    t.on_step([&](const train::StepInfo& s) { CHECK(s.step == ++steps); });
    t.on_epoch([&](const train::EpochInfo& e) { CHECK(e.epoch == ++epochs); });
    t.on_eval([&](const train::EvalInfo& e) { eval_steps.push_back(e.step); });
    t.fit();
    CHECK(steps == 24);
    CHECK(epochs == 3);
    CHECK(eval_steps == std::vector<std::int64_t>{5, 8, 10, 15, 16, 20, 24});
  }
  SECTION("an epoch end that was just evaluated is not evaluated again") {
    Rig<double> r(2);
    train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                             quiet().epochs(3).eval_every_steps(4));
    t.set_validation(*r.val_loader);
    std::vector<std::int64_t> eval_steps;
    t.on_eval([&](const train::EvalInfo& e) { eval_steps.push_back(e.step); });
    t.fit();
    CHECK(eval_steps == std::vector<std::int64_t>{4, 8, 12, 16, 20, 24});
  }
  SECTION("steps only") {
    Rig<double> r(2);
    train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                             quiet().epochs(2).eval_every_steps(3).eval_every_epoch(false));
    t.set_validation(*r.val_loader);
    int evals = 0;
    t.on_eval([&](const train::EvalInfo&) { ++evals; });
    t.fit();
    CHECK(evals == 5);  // 3, 6, 9, 12, 15 of 16
  }
}

TEST_CASE("trainer: learning-rate schedules per epoch and per step", "[train][schedule]") {
  SECTION("per epoch") {
    Rig<double> r(2, 16, true, "", true);
    optim::StepLR<double> sched(*r.opt, 1, 0.5);
    train::Trainer<double> t(*r.model, *r.opt, *r.train_loader, quiet().epochs(3));
    t.set_scheduler(sched);
    std::vector<double> step_lrs;
    t.on_step([&](const train::StepInfo& s) { step_lrs.push_back(s.lr); });
    const auto s = t.fit();
    REQUIRE(s.history.size() == 3);
    CHECK(s.history[0].lr == 0.05);
    CHECK(s.history[1].lr == 0.025);
    CHECK(s.history[2].lr == 0.0125);
    CHECK(r.opt->lr() == 0.00625);
    REQUIRE(step_lrs.size() == 24);
    CHECK(step_lrs[7] == 0.05);
    CHECK(step_lrs[8] == 0.025);
  }
  SECTION("per step") {
    Rig<double> r(2, 16, true, "", true);
    optim::StepLR<double> sched(*r.opt, 2, 0.5);
    train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                             quiet().epochs(1).scheduler_interval(train::SchedulerInterval::Step));
    t.set_scheduler(sched);
    std::vector<double> lrs;
    t.on_step([&](const train::StepInfo& s) { lrs.push_back(s.lr); });
    t.fit();
    CHECK(lrs == std::vector<double>{0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125, 0.00625, 0.00625});
    CHECK(sched.count() == 8);
  }
}

TEST_CASE("trainer: per-group learning rates", "[train][groups]") {
  Rig<double> r(2, 16, true, "", true);
  const auto head1_before = r.params_of("heads.task1");
  const auto head0_before = r.params_of("heads.task0");
  train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                           quiet().epochs(1).lr_multiplier("heads.task1", 0.0));
  t.fit();
  CHECK(r.params_of("heads.task1") == head1_before);  // frozen by a factor 0
  CHECK(r.params_of("heads.task0") != head0_before);
  CHECK_THROWS_WITH(train::Trainer<double>(*r.model, *r.opt, *r.train_loader,
                                           quiet().lr_multiplier("nothing.", 2.0)),
                    Catch::Matchers::Contains("nothing."));
}

TEST_CASE("trainer: the balancer's weights and the static weights are reported",
          "[train][weights]") {
  Rig<double> r(2, 16, true, "", false, 160, {1.0, 0.25});
  train::Trainer<double> t(*r.model, *r.opt, *r.train_loader, quiet().epochs(1));
  const auto s = t.fit();
  CHECK(s.history[0].task_weights == std::vector<double>{1.0, 0.25});
  Rig<double> u(2, 16, true, "dwa");
  train::Trainer<double> tu(*u.model, *u.opt, *u.train_loader, quiet().epochs(3));
  const auto su = tu.fit();
  // DWA: weights from the loss ratios once two epochs are known; they sum to the task count.
  const auto& w = su.history[2].task_weights;
  CHECK(w[0] + w[1] == Approx(2.0));
}

TEST_CASE("trainer: bad options are refused clearly", "[train][options]") {
  CHECK_THROWS_AS(train::TrainerOptions().epochs(0), std::invalid_argument);
  CHECK_THROWS_AS(train::TrainerOptions().accumulate_steps(0), std::invalid_argument);
  CHECK_THROWS_AS(train::TrainerOptions().early_stopping(train::Monitor(), 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(train::TrainerOptions().early_stopping(train::Monitor(), 2, -1.0),
                  std::invalid_argument);
  CHECK_THROWS_AS(train::TrainerOptions().eval_every_steps(-1), std::invalid_argument);
  Rig<double> r(2);
  {
    train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                             quiet().early_stopping(train::Monitor(), 2));
    CHECK_THROWS_WITH(t.fit(), Catch::Matchers::Contains("set_validation"));
  }
  {
    train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                             quiet().epochs(1).monitor(train::Monitor::metric("task9/mse")));
    t.set_validation(*r.val_loader);
    CHECK_THROWS_WITH(t.fit(), Catch::Matchers::Contains("task9"));
  }
}

}  // namespace test_train_trainer
