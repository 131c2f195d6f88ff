// Task grouping: exact search against brute force, known optima on block matrices, the
// heuristic, and input errors.
#include <Eigen/Dense>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "onestone/train/task_grouping.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_affinity_grouping {

using onestone::train::group_tasks;
using onestone::train::group_tasks_heuristic;
using onestone::train::grouping_score;
using onestone::train::GroupingOptions;

namespace {

/// Families of tasks: affinity `in` within a family, `out` across, 1 on the diagonal.
Eigen::MatrixXd block_matrix(const std::vector<int>& family, double in, double out) {
  const int n = static_cast<int>(family.size());
  Eigen::MatrixXd a(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) a(i, j) = i == j ? 1.0 : (family[i] == family[j] ? in : out);
  return a;
}

/// Best score over every collection of at most k distinct non-empty groups covering all tasks.
double brute_force(const Eigen::MatrixXd& a, int k, const GroupingOptions& o) {
  const int n = static_cast<int>(a.rows());
  const int subsets = (1 << n) - 1;
  double best = -std::numeric_limits<double>::infinity();
  std::vector<int> pick;
  std::function<void(int)> rec = [&](int start) {
    if (!pick.empty()) {
      std::vector<std::vector<int>> groups;
      int covered = 0;
      for (int m : pick) {
        std::vector<int> g;
        for (int t = 0; t < n; ++t)
          if ((m >> t) & 1) g.push_back(t);
        covered |= m;
        groups.push_back(g);
      }
      if (covered == subsets) best = std::max(best, grouping_score(a, groups, o));
    }
    if (static_cast<int>(pick.size()) == k) return;
    for (int m = start; m <= subsets; ++m) {
      pick.push_back(m);
      rec(m + 1);
      pick.pop_back();
    }
  };
  rec(1);
  return best;
}

}  // namespace

TEST_CASE("grouping recovers the families of a block matrix", "[grouping]") {
  const Eigen::MatrixXd a = block_matrix({0, 0, 0, 1, 1, 1}, 0.8, -0.3);
  const auto g2 = group_tasks(a, GroupingOptions().max_groups(2));
  REQUIRE(g2.groups.size() == 2);
  CHECK(g2.groups[0] == std::vector<int>{0, 1, 2});
  CHECK(g2.groups[1] == std::vector<int>{3, 4, 5});
  CHECK(g2.score == Approx(6 * 0.8));
  CHECK(g2.exact);
  CHECK(g2.served_by == std::vector<int>{0, 0, 0, 1, 1, 1});
  CHECK(g2.str({"a", "b", "c", "d", "e", "f"}) == "{a, b, c} {d, e, f}");
  // k = 1: everything together
  const auto g1 = group_tasks(a, GroupingOptions().max_groups(1));
  REQUIRE(g1.groups.size() == 1);
  CHECK(g1.groups[0].size() == 6);
  CHECK(g1.score == Approx(6 * (2 * 0.8 - 3 * 0.3) / 5));
  // the heuristic finds it too
  const auto h2 = group_tasks_heuristic(a, GroupingOptions().max_groups(2));
  CHECK(h2.groups == g2.groups);
  CHECK(!h2.exact);
  // a larger budget does not split a family (no gain) and never scores less
  const auto g3 = group_tasks(a, GroupingOptions().max_groups(3));
  CHECK(g3.score >= g2.score - 1e-12);
}

TEST_CASE("grouping of three families, exact and heuristic", "[grouping]") {
  const std::vector<int> fam{0, 1, 2, 0, 1, 2, 0, 1, 2};
  const Eigen::MatrixXd a = block_matrix(fam, 0.5, -0.2);
  for (auto g : {group_tasks(a, GroupingOptions().max_groups(3)),
                 group_tasks_heuristic(a, GroupingOptions().max_groups(3))}) {
    REQUIRE(g.groups.size() == 3);
    CHECK(g.groups[0] == std::vector<int>{0, 3, 6});
    CHECK(g.groups[1] == std::vector<int>{1, 4, 7});
    CHECK(g.groups[2] == std::vector<int>{2, 5, 8});
    CHECK(g.score == Approx(9 * 0.5));
  }
  // 16 tasks in 4 families: beyond the exact limit, the heuristic still finds the families
  std::vector<int> f16;
  for (int t = 0; t < 16; ++t) f16.push_back(t % 4);
  const auto h = group_tasks(block_matrix(f16, 0.6, -0.1), GroupingOptions().max_groups(4));
  CHECK(!h.exact);
  REQUIRE(h.groups.size() == 4);
  CHECK(h.score == Approx(16 * 0.6));
  CHECK(h.groups[0] == std::vector<int>{0, 4, 8, 12});
}

TEST_CASE("single-task groups score the chosen value or the diagonal", "[grouping]") {
  // every pair hurts: alone is best when alone scores 0
  Eigen::MatrixXd a = Eigen::MatrixXd::Constant(3, 3, -0.5);
  a.diagonal() << 0.1, 0.2, 0.3;
  const auto g = group_tasks(a, GroupingOptions().max_groups(3));
  CHECK(g.groups.size() == 3);
  CHECK(g.score == Approx(0.0));
  const auto gd = group_tasks(a, GroupingOptions().max_groups(3).diagonal_for_single(true));
  CHECK(gd.score == Approx(0.6));
  const auto gv = group_tasks(a, GroupingOptions().max_groups(3).single_task_value(-1.0));
  CHECK(gv.groups.size() == 1);  // together (-0.5 each) beats alone (-1)
  CHECK(gv.score == Approx(-1.5));
  // with a budget of 2, one pair must share (or a task joins two groups)
  const auto g2 = group_tasks(a, GroupingOptions().max_groups(2));
  CHECK(g2.score == Approx(brute_force(a, 2, GroupingOptions())));
}

TEST_CASE("a task may be served by one of several groups containing it", "[grouping]") {
  // Task 0 helps 1 and 2, but 1 and 2 hurt each other: {0,1} and {0,2} beats any partition.
  Eigen::MatrixXd a(3, 3);
  a << 1.0, 0.9, 0.9, 0.1, 1.0, -1.0, 0.1, -1.0, 1.0;
  const auto g = group_tasks(a, GroupingOptions().max_groups(2));
  REQUIRE(g.groups.size() == 2);
  CHECK(g.groups[0] == std::vector<int>{0, 1});
  CHECK(g.groups[1] == std::vector<int>{0, 2});
  CHECK(g.score == Approx(0.1 + 0.9 + 0.9));
}

TEST_CASE("exact search equals brute force on random matrices, T <= 6", "[grouping]") {
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  double worst_ratio = 1.0;
  for (int n = 1; n <= 6; ++n)
    for (int rep = 0; rep < (n <= 4 ? 6 : 2); ++rep) {
      Eigen::MatrixXd a(n, n);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) a(i, j) = u(rng);
      for (int k = 1; k <= std::min(3, n); ++k) {
        const GroupingOptions o = GroupingOptions().max_groups(k);
        const auto g = group_tasks(a, o);
        REQUIRE(g.exact);
        CHECK(static_cast<int>(g.groups.size()) <= k);
        CHECK(g.score == Approx(grouping_score(a, g.groups, o)).margin(1e-12));
        const double bf = brute_force(a, k, o);
        INFO("n " << n << " k " << k);
        CHECK(g.score == Approx(bf).margin(1e-12));
        // heuristic: never above the optimum, and close to it on positive matrices
        const Eigen::MatrixXd pos = (a.array() + 1.0) / 2.0;
        const double ex = group_tasks(pos, o).score;
        const double he = group_tasks_heuristic(pos, o).score;
        CHECK(he <= ex + 1e-12);
        if (ex > 0) worst_ratio = std::min(worst_ratio, he / ex);
      }
    }
  INFO("worst heuristic / exact ratio " << worst_ratio);
  CHECK(worst_ratio >= 0.9);
}

TEST_CASE("heuristic versus exact search on random 10-task matrices", "[grouping]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double worst = 1.0;
  for (int rep = 0; rep < 5; ++rep) {
    Eigen::MatrixXd a(10, 10);
    for (int i = 0; i < 10; ++i)
      for (int j = 0; j < 10; ++j) a(i, j) = u(rng);
    for (int k : {2, 3, 4}) {
      const GroupingOptions o = GroupingOptions().max_groups(k);
      const double ex = group_tasks(a, o).score;
      const double he = group_tasks_heuristic(a, o).score;
      CHECK(he <= ex + 1e-12);
      worst = std::min(worst, he / ex);
    }
  }
  INFO("worst heuristic / exact ratio " << worst);
  CHECK(worst >= 0.9);
  WARN("heuristic / exact on random 10-task matrices: worst ratio " << worst);
}

TEST_CASE("grouping reports bad input clearly", "[grouping]") {
  CHECK_THROWS_WITH(group_tasks(Eigen::MatrixXd(2, 3)), Catch::Contains("2x3"));
  CHECK_THROWS_WITH(group_tasks(Eigen::MatrixXd(0, 0)), Catch::Contains("non-empty square"));
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(3, 3);
  a(1, 2) = std::nan("");
  CHECK_THROWS_WITH(group_tasks(a), Catch::Contains("NaN") && Catch::Contains("(1, 2)"));
  CHECK_THROWS_WITH(GroupingOptions().max_groups(0), Catch::Contains("k must be >= 1"));
  CHECK_THROWS_AS(GroupingOptions().exact_up_to(30), std::invalid_argument);
  CHECK_THROWS_AS(GroupingOptions().single_task_value(INFINITY), std::invalid_argument);
  const Eigen::MatrixXd z = Eigen::MatrixXd::Zero(3, 3);
  CHECK_THROWS_WITH(grouping_score(z, {{0, 1}}), Catch::Contains("no group"));
  CHECK_THROWS_WITH(grouping_score(z, {{0, 1, 5}, {2}}), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(grouping_score(z, {{}, {0, 1, 2}}), Catch::Contains("empty group"));
  CHECK_THROWS_AS(group_tasks(Eigen::MatrixXd::Zero(65, 65)), std::invalid_argument);
}

}  // namespace test_affinity_grouping
