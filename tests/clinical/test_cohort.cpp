// make_synthetic_cohort: shapes, determinism, censoring rate, the tasks share the latent risk.
#include <catch2/catch.hpp>
#include <cmath>

#include "onestone/data/synthetic_cohort.hpp"
#include "onestone/metrics/auc.hpp"
#include "onestone/metrics/survival.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_clinical_cohort {

using namespace onestone;

TEST_CASE("make_synthetic_cohort: shapes, determinism, censoring", "[clinical][cohort]") {
  const auto a = data::make_synthetic_cohort<float>(data::CohortOptions().samples(3000).seed(4));
  const auto b = data::make_synthetic_cohort<float>(data::CohortOptions().samples(3000).seed(4));
  const auto c = data::make_synthetic_cohort<float>(data::CohortOptions().samples(3000).seed(5));
  REQUIRE(a.inputs().shape() == Shape{3000, 12});
  REQUIRE(a.num_tasks() == 3);
  CHECK(a.target("diagnosis").num_classes == 2);
  CHECK(a.target("lesion_size").values.shape() == Shape{3000, 1});
  const auto& s = a.target("survival");
  CHECK(s.kind == data::TargetKind::Composite);
  bool same = true, differ = false;
  for (Index i = 0; i < a.inputs().numel(); ++i) {
    same = same && a.inputs()[i] == b.inputs()[i];
    differ = differ || a.inputs()[i] != c.inputs()[i];
  }
  CHECK(same);
  CHECK(differ);
  double censored = 0, binary = 0;
  for (Index i = 0; i < 3000; ++i) {
    censored += s.field("event")[i] == 0.0f ? 1 : 0;
    CHECK(s.field("time")[i] >= 0.0f);
    binary += (a.inputs()[i * 12] == 0.0f || a.inputs()[i * 12] == 1.0f) ? 1 : 0;
  }
  CHECK(censored / 3000 == Approx(0.3).margin(0.04));
  CHECK(binary == 3000);  // the first third of the covariates are binary
  const auto none =
      data::make_synthetic_cohort<float>(data::CohortOptions().samples(200).censoring(0));
  for (Index i = 0; i < 200; ++i) CHECK(none.target("survival").field("event")[i] == 1.0f);
  CHECK_THROWS_WITH(data::make_synthetic_cohort<float>(data::CohortOptions().features(2)),
                    Catch::Contains("features >= 4"));
  CHECK_THROWS_WITH(data::make_synthetic_cohort<float>(data::CohortOptions().censoring(1.0)),
                    Catch::Contains("censoring"));
}

TEST_CASE("make_synthetic_cohort: the three tasks share one risk", "[clinical][cohort]") {
  const auto d = data::make_synthetic_cohort<double>(data::CohortOptions().samples(3000).seed(1));
  // log lesion size carries r (0.5 r + noise): it ranks the diagnosis and the survival well.
  Tensor<double> logsize(Shape{3000});
  for (Index i = 0; i < 3000; ++i) logsize[i] = std::log(d.target("lesion_size").values[i]);
  CHECK(metrics::binary_auc(logsize, d.target("diagnosis").labels) > 0.75);
  const auto& s = d.target("survival");
  CHECK(metrics::concordance_index(logsize, s.field("time"), s.field("event")) > 0.65);
}

}  // namespace test_clinical_cohort
