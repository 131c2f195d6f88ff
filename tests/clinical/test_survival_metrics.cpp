// Harrell's C-index: values by hand, tied times and risks, weights, against R's
// survival::concordance, the metric over batches, bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "onestone/metrics/survival.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_clinical_survival_metrics {

using namespace onestone;

namespace {
Tensor<double> vec(const std::vector<double>& v) {
  return Tensor<double>::from(v, Shape{static_cast<Index>(v.size())});
}
data::Target<double> survival_target(const std::vector<double>& t, const std::vector<double>& e) {
  data::Target<double> s;
  s.name = "survival";
  s.kind = data::TargetKind::Composite;
  s.fields.emplace_back("time", vec(t));
  s.fields.emplace_back("event", vec(e));
  return s;
}
}  // namespace

TEST_CASE("concordance_index: values by hand", "[clinical][cindex]") {
  // Times 1 (event), 2 (censored), 3 (event), 4 (event). Comparable pairs: (0,1) (0,2) (0,3)
  // (2,3) — sample 1 is censored, so it is never the shorter one.
  const auto t = vec({1, 2, 3, 4}), e = vec({1, 0, 1, 1});
  CHECK(metrics::concordance_index(vec({4, 3, 2, 1}), t, e) == 1.0);
  CHECK(metrics::concordance_index(vec({1, 2, 3, 4}), t, e) == 0.0);
  // Risk 0 beats 1 and 3 but not 2 (tie: ½); 2 beats 3: (1 + 0.5 + 1 + 1) / 4.
  CHECK(metrics::concordance_index(vec({2, 1, 2, 0}), t, e) == Approx(3.5 / 4));
  // Tied times: two events at the same time are not comparable; an event and a censoring at
  // the same time are (the censored sample outlived the event).
  const auto t2 = vec({5, 5, 5}), e2 = vec({1, 1, 0});
  CHECK(metrics::concordance_index(vec({1, 0, 0.5}), t2, e2) ==
        Approx(0.5));  // (0,2) yes, (1,2) no
  // No event: no comparable pair → NaN.
  CHECK(std::isnan(metrics::concordance_index(vec({1, 2}), vec({1, 2}), vec({0, 0}))));
  // Weights: weight 0 drops sample 2; a pair counts w_i·w_j.
  const auto w = vec({1, 1, 0, 2});
  // Pairs left: (0,1) w1 concordant, (0,3) w2 discordant → 1/3.
  CHECK(metrics::concordance_index(vec({2, 1, 9, 3}), t, e, &w) == Approx(1.0 / 3));
}

TEST_CASE("concordance_index matches R's survival::concordance", "[clinical][cindex]") {
  // R 4.2, survival 3.5 (reverse = TRUE: a higher x predicts a shorter time):
  //   time <- c(1,2,2,2,3,4,4,5,6,6,7,8); event <- c(1,1,1,0,1,0,1,1,1,1,0,1)
  //   x <- c(0.5,-1.2,0.3,0.8,-0.4,1.1,0.0,-0.7,0.9,0.2,-0.3,0.6)
  //   w <- c(1,2,0.5,1,1.5,1,1,2,1,0.5,1,1); x2 <- c(1,0,0,1,2,0,1,1,0,2,1,0)
  //   concordance(Surv(time, event) ~ x, reverse = TRUE)               -> 0.36 (18 / 32 / 0 ties)
  //   concordance(Surv(time, event) ~ x, reverse = TRUE, weights = w)  -> 0.306513409961686
  //   concordance(Surv(time, event) ~ x2, reverse = TRUE)              -> 0.51 (15 tied in x)
  const auto t = vec({1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8});
  const auto e = vec({1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1});
  const auto x = vec({0.5, -1.2, 0.3, 0.8, -0.4, 1.1, 0.0, -0.7, 0.9, 0.2, -0.3, 0.6});
  const auto w = vec({1, 2, 0.5, 1, 1.5, 1, 1, 2, 1, 0.5, 1, 1});
  const auto x2 = vec({1, 0, 0, 1, 2, 0, 1, 1, 0, 2, 1, 0});
  CHECK(metrics::concordance_index(x, t, e) == Approx(0.36).epsilon(1e-12));
  CHECK(metrics::concordance_index(x, t, e, &w) == Approx(0.306513409961686).epsilon(1e-12));
  CHECK(metrics::concordance_index(x2, t, e) == Approx(0.51).epsilon(1e-12));
}

TEST_CASE("ConcordanceIndex metric: over batches, skips weight 0, errors", "[clinical][cindex]") {
  metrics::ConcordanceIndex<double> m;
  m.reset();
  // The same data as by hand, in two batches: pairs across batches count.
  auto a = survival_target({1, 2}, {1, 0});
  auto b = survival_target({3, 4}, {1, 1});
  m.update(Tensor<double>::from({2, 1}, {2, 1}), a);
  b.weight = vec({1, 1});
  m.update(Tensor<double>::from({2, 0}, {2, 1}), b);
  std::vector<metrics::MetricValue> v;
  m.values(v);
  REQUIRE(v.size() == 1);
  CHECK(v[0].name == "c_index");
  CHECK(v[0].higher_is_better);
  CHECK(v[0].value == Approx(3.5 / 4));
  // An unlabelled sample (weight 0) is skipped even with a nonsense label.
  auto c = survival_target({-1}, {7});
  c.weight = vec({0});
  CHECK_NOTHROW(m.update(Tensor<double>::from({5}, {1}), c));
  auto clone = m.clone();
  CHECK(clone->name() == "c_index");
  CHECK_THROWS_WITH(m.update(Tensor<double>(Shape{2, 2}), a), Catch::Contains("ConcordanceIndex"));
  data::Target<double> no_time;
  no_time.name = "s";
  no_time.fields.emplace_back("event", vec({1}));
  CHECK_THROWS_WITH(m.update(Tensor<double>(Shape{1}), no_time), Catch::Contains("time"));
  CHECK_THROWS_WITH(metrics::concordance_index(vec({1, 2}), vec({1, -2}), vec({1, 1})),
                    Catch::Contains("time at position 1"));
  CHECK_THROWS_WITH(metrics::concordance_index(vec({1, 2}), vec({1, 2}), vec({1, 3})),
                    Catch::Contains("event at position 1"));
  CHECK_THROWS_WITH(metrics::concordance_index(vec({1, 2}), vec({1, 2, 3}), vec({1, 1})),
                    Catch::Contains("differ in size"));
}

}  // namespace test_clinical_survival_metrics
