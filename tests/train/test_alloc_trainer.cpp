// Counts heap allocations of the Trainer's steady-state steps (its own loop around TrainStep:
// accumulation, running means, callbacks, progress). This file replaces the global operator
// new, so it builds into its own test executable.
#include <catch2/catch.hpp>

#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <atomic>
#include <cstdlib>
#include <new>
#include <sstream>
#include <vector>

#include "../common/alloc_counter.hpp"
#include "onestone/onestone.hpp"
#include "onestone/train/trainer.hpp"
#include "trainer_test_util.hpp"

using namespace onestone;

TEST_CASE("trainer: steady-state steps allocate nothing (accumulation, progress on a tty)",
          "[train][alloc]") {
#if defined(__SANITIZE_ADDRESS__)
  WARN("allocation counting is off under AddressSanitizer (it owns operator new)");
  return;
#endif
  {  // the counter counts
    g_news = 0;
    g_counting = true;
    std::vector<char> probe(static_cast<std::size_t>(100 + std::rand() % 7));
    g_counting = false;
    REQUIRE(g_news >= 1);
    REQUIRE(probe.size() >= 100);
  }
  // 120 samples in batches of 8: 15 batches; k = 1 and k = 3 (5 steps per epoch).
  for (int k : {1, 3}) {
    trainer_test::Rig<float> r(2, 8);
    std::ostringstream out;
    train::Trainer<float> t(*r.model, *r.opt, *r.train_loader,
                            train::TrainerOptions()
                                .epochs(3)
                                .accumulate_steps(k)
                                .progress_stream(out)
                                .progress_terminal(true));
    t.set_validation(*r.val_loader);
    const std::int64_t per_epoch = 15 / k;
    const std::int64_t first = 2 * per_epoch + 1, last = 3 * per_epoch - 1;  // within epoch 3
    long counted = -1;
    t.on_step([&](const train::StepInfo& s) {
      if (s.step == first) {
        g_news = 0;
        g_counting = true;
      } else if (s.step == last) {
        g_counting = false;
        counted = g_news;
      }
    });
    t.fit();
    INFO("accumulate_steps " << k);
    CHECK(counted == 0);
  }
}
