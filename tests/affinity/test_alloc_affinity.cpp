// Counts heap allocations of steady-state probes: after the first probe (which sizes the
// probe's buffers), measuring allocates nothing, in a custom loop and with the Trainer.
#include <catch2/catch.hpp>
#include <memory>
#include <vector>

#include "../common/alloc_counter.hpp"
#include "onestone/onestone.hpp"
#include "onestone/train/task_affinity.hpp"
#include "onestone/train/trainer.hpp"

using namespace onestone;

namespace {
struct Rig {
  data::Dataset<float> ds;
  std::unique_ptr<MultiTaskModel<float>> model;
  std::unique_ptr<optim::Adam<float>> opt;
  std::unique_ptr<data::DataLoader<float>> loader, probe_loader;
  Rig()
      : ds(data::make_mmoe_synthetic<float>(
            data::SyntheticOptions().samples(128).dim(5).num_tasks(3).correlation(0.5).seed(9))) {
    manual_seed(3);
    auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({5, 10, 6}));
    model = std::make_unique<MultiTaskModel<float>>(
        std::make_shared<sharing::HardSharing<float>>(trunk, 6));
    for (int t = 0; t < 3; ++t)
      model->add_task(TaskOptions<float>("task" + std::to_string(t))
                          .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(6, 1)))
                          .loss(LossKind::MSE));
    opt = std::make_unique<optim::Adam<float>>(model->parameters(), optim::AdamOptions(0.01));
    loader =
        std::make_unique<data::DataLoader<float>>(ds, data::LoaderOptions().batch_size(16).seed(2));
    probe_loader = std::make_unique<data::DataLoader<float>>(
        ds, data::LoaderOptions().batch_size(16).seed(77));
  }
};
}  // namespace

TEST_CASE("affinity probes allocate nothing in steady state", "[affinity][alloc]") {
#if defined(__SANITIZE_ADDRESS__)
  WARN("allocation counting is off under AddressSanitizer (it owns operator new)");
  return;
#endif
  {  // custom loop: probe + step on the same batch
    Rig r;
    train::TrainStep<float> step(*r.model, *r.opt);
    train::TaskAffinity<float> probe(*r.model);
    data::Batch<float> batch;
    long counted = -1;
    for (int epoch = 0; epoch < 3; ++epoch) {
      r.loader->start_epoch();
      int b = 0;
      while (r.loader->next(batch)) {
        if (epoch == 2 && b == 1) {
          g_news = 0;
          g_counting = true;
        }
        probe.measure(batch, 0.01);
        step(batch);
        if (epoch == 2 && b == 6) {
          g_counting = false;
          counted = g_news;
        }
        ++b;
      }
    }
    CHECK(counted == 0);
  }
  {  // the Trainer with the probe attached (every 2 steps)
    Rig r;
    train::Trainer<float> t(*r.model, *r.opt, *r.loader,
                            train::TrainerOptions().epochs(3).progress(false));
    train::TaskAffinity<float> probe(*r.model, train::TaskAffinityOptions().every(2));
    probe.attach(t, *r.probe_loader);
    long counted = -1;
    // 8 steps per epoch: count from step 18 to step 23 (within epoch 3; probes at 18, 20, 22)
    t.on_step([&](const train::StepInfo& s) {
      probe.on_step(s);
      if (s.step == 17) {
        g_news = 0;
        g_counting = true;
      } else if (s.step == 23) {
        g_counting = false;
        counted = g_news;
      }
    });
    t.fit();
    CHECK(probe.probes() == 12);
    CHECK(counted == 0);
  }
}
