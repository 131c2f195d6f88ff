#pragma once
/// @file task_grouping.hpp
/// `group_tasks`: given a T×T inter-task affinity matrix and a budget of k models, the groups
/// of tasks (at most k; a task may belong to several) that maximise the total affinity each
/// task receives from the group serving it, as in TAG (Fifty et al. 2021). Exact by dynamic
/// programming over subsets up to `exact_up_to` tasks (default 12), a stated heuristic beyond
/// (agglomerative merging and one-group starts, steepest-ascent local search with kicks). Pure
/// Eigen. See docs/affinity.md.

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"

namespace onestone {
namespace train {

/// Options of `group_tasks`, set with chained builders (invalid values throw
/// std::invalid_argument at once).
///
/// @code
/// auto opts = onestone::train::GroupingOptions().max_groups(2).single_task_value(0.0);
/// @endcode
struct GroupingOptions {
  /// The budget k: at most this many groups (>= 1). Default 2.
  GroupingOptions& max_groups(int k) {
    if (k < 1)
      throw std::invalid_argument("GroupingOptions::max_groups: the budget k must be >= 1, got " +
                                  std::to_string(k));
    max_groups_ = k;
    return *this;
  }
  /// The score of a task in a group of its own (no other member gives it affinity). Default 0,
  /// as TAG: training alone neither helps nor hurts. Ignored with `diagonal_for_single(true)`.
  GroupingOptions& single_task_value(double v) {
    if (!std::isfinite(v))
      throw std::invalid_argument("GroupingOptions::single_task_value: must be finite");
    single_value_ = v;
    return *this;
  }
  /// Scores a task alone by the matrix's diagonal A(j, j) (its affinity onto itself).
  GroupingOptions& diagonal_for_single(bool on) {
    use_diagonal_ = on;
    return *this;
  }
  /// Exact search for T <= n tasks (1..20; time and memory grow as k·3^T and k·2^T). Default 12.
  GroupingOptions& exact_up_to(int n) {
    if (n < 1 || n > 20)
      throw std::invalid_argument("GroupingOptions::exact_up_to: must be in [1, 20], got " +
                                  std::to_string(n));
    exact_up_to_ = n;
    return *this;
  }

  int max_groups_ = 2;
  double single_value_ = 0.0;
  bool use_diagonal_ = false;
  int exact_up_to_ = 12;
};

/// A grouping: the groups (sorted task indices, sorted groups), the group serving each task
/// (index into `groups`), each task's score and the total, and whether it was found by the
/// exact search.
///
/// @code
/// auto g = onestone::train::group_tasks(Z, onestone::train::GroupingOptions().max_groups(2));
/// std::cout << g.str({"a", "b", "c", "d"}) << "  score " << g.score << "\n";
/// @endcode
struct Grouping {
  std::vector<std::vector<int>> groups;
  std::vector<int> served_by;
  std::vector<double> task_scores;
  double score = 0.0;
  bool exact = false;

  /// "{a, b} {c}" with the given task names (or indices when `names` is empty).
  std::string str(const std::vector<std::string>& names = {}) const {
    std::ostringstream s;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      s << (g ? " {" : "{");
      for (std::size_t k = 0; k < groups[g].size(); ++k) {
        const int t = groups[g][k];
        s << (k ? ", " : "");
        if (static_cast<std::size_t>(t) < names.size())
          s << names[static_cast<std::size_t>(t)];
        else
          s << t;
      }
      s << '}';
    }
    return s.str();
  }
};

namespace detail {

inline void check_affinity(const char* op, const Eigen::MatrixXd& a) {
  if (a.rows() == 0 || a.rows() != a.cols())
    throw std::invalid_argument(std::string(op) +
                                ": expected a non-empty square affinity matrix, got " +
                                std::to_string(a.rows()) + "x" + std::to_string(a.cols()));
  if (a.rows() > 64)
    throw std::invalid_argument(std::string(op) + ": at most 64 tasks, got " +
                                std::to_string(a.rows()));
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j)
      if (!std::isfinite(a(i, j)))
        throw std::invalid_argument(std::string(op) + ": the " + std::to_string(a.rows()) + "x" +
                                    std::to_string(a.cols()) + " affinity matrix has a NaN or " +
                                    "infinite entry at (" + std::to_string(i) + ", " +
                                    std::to_string(j) + ")");
}

using Mask = std::uint64_t;

inline int popcount(Mask m) {
  int c = 0;
  for (; m; m &= m - 1) ++c;
  return c;
}

/// Score of task j in group g (j ∈ g): the mean affinity onto j from the other members.
inline double member_score(const Eigen::MatrixXd& a, Mask g, int j, const GroupingOptions& o) {
  const int size = popcount(g);
  if (size == 1) return o.use_diagonal_ ? a(j, j) : o.single_value_;
  double s = 0;
  for (int i = 0; i < static_cast<int>(a.rows()); ++i)
    if (i != j && ((g >> i) & 1U)) s += a(i, j);
  return s / static_cast<double>(size - 1);
}

/// Total score of a set of groups; −inf when a task is not covered.
inline double masks_score(const Eigen::MatrixXd& a, const std::vector<Mask>& groups,
                          const GroupingOptions& o, std::vector<int>* served = nullptr,
                          std::vector<double>* scores = nullptr) {
  const int n = static_cast<int>(a.rows());
  double total = 0;
  if (served) served->assign(static_cast<std::size_t>(n), -1);
  if (scores) scores->assign(static_cast<std::size_t>(n), 0.0);
  for (int j = 0; j < n; ++j) {
    double best = -std::numeric_limits<double>::infinity();
    int arg = -1;
    for (std::size_t g = 0; g < groups.size(); ++g)
      if ((groups[g] >> j) & 1U) {
        const double s = member_score(a, groups[g], j, o);
        if (s > best) {
          best = s;
          arg = static_cast<int>(g);
        }
      }
    if (arg < 0) return -std::numeric_limits<double>::infinity();
    if (served) (*served)[static_cast<std::size_t>(j)] = arg;
    if (scores) (*scores)[static_cast<std::size_t>(j)] = best;
    total += best;
  }
  return total;
}

ONESTONE_FUNC Grouping make_grouping(const Eigen::MatrixXd& a, std::vector<Mask> masks,
                                     const GroupingOptions& o, bool exact)
#if ONESTONE_DEFINE_FUNCTIONS
{
  std::sort(masks.begin(), masks.end(), [](Mask x, Mask y) {
    // by lowest member, then by the member lists
    for (int b = 0; b < 64; ++b) {
      const bool bx = (x >> b) & 1U, by = (y >> b) & 1U;
      if (bx != by) return bx;
    }
    return false;
  });
  masks.erase(std::unique(masks.begin(), masks.end()), masks.end());
  Grouping g;
  g.exact = exact;
  for (Mask m : masks) {
    std::vector<int> members;
    for (int t = 0; t < static_cast<int>(a.rows()); ++t)
      if ((m >> t) & 1U) members.push_back(t);
    g.groups.push_back(members);
  }
  g.score = masks_score(a, masks, o, &g.served_by, &g.task_scores);
  return g;
}
#else
    ;
#endif

/// Exact: dynamic programming over subsets. Each task is served by one chosen group, so a
/// grouping is a partition of the tasks into ≤ k "served sets" S, each worth
/// v(S) = max over groups G ⊇ S of Σ_{j∈S} s_j(G) (computed over all pairs S ⊆ G: 3^T);
/// the best partition into ≤ k blocks is a DP over subsets (k·3^T).
ONESTONE_FUNC Grouping exact_grouping(const Eigen::MatrixXd& a, const GroupingOptions& o)
#if ONESTONE_DEFINE_FUNCTIONS
{
  const int n = static_cast<int>(a.rows());
  const std::size_t N = std::size_t(1) << n;
  const Mask full = static_cast<Mask>(N - 1);
  const double ninf = -std::numeric_limits<double>::infinity();
  std::vector<double> value(N, ninf);
  std::vector<Mask> best_group(N, 0);
  std::vector<double> s(static_cast<std::size_t>(n));
  for (Mask g = 1; g <= full; ++g) {
    for (int j = 0; j < n; ++j)
      if ((g >> j) & 1U) s[static_cast<std::size_t>(j)] = member_score(a, g, j, o);
    for (Mask sub = g; sub; sub = (sub - 1) & g) {
      double v = 0;
      for (Mask r = sub; r; r &= r - 1) {
        int j = 0;
        while (!((r >> j) & 1U)) ++j;
        v += s[static_cast<std::size_t>(j)];
      }
      if (v > value[sub]) {
        value[sub] = v;
        best_group[sub] = g;
      }
    }
  }
  const int k = std::min(o.max_groups_, n);
  // dp[c][mask]: best total for serving `mask` with at most c blocks; choice[c][mask] the block
  // holding the lowest task of mask.
  std::vector<std::vector<double>> dp(static_cast<std::size_t>(k + 1),
                                      std::vector<double>(N, ninf));
  std::vector<std::vector<Mask>> choice(static_cast<std::size_t>(k + 1), std::vector<Mask>(N, 0));
  for (int c = 0; c <= k; ++c) dp[static_cast<std::size_t>(c)][0] = 0;
  for (int c = 1; c <= k; ++c) {
    auto& cur = dp[static_cast<std::size_t>(c)];
    const auto& prev = dp[static_cast<std::size_t>(c - 1)];
    for (Mask m = 1; m <= full; ++m) {
      const Mask low = m & (~m + 1);
      const Mask rest = m ^ low;
      double best = ninf;
      Mask arg = 0;
      // blocks containing the lowest task: low | (any subset of rest)
      for (Mask sub = rest;; sub = (sub - 1) & rest) {
        const Mask block = sub | low;
        const double v = value[block] + prev[m ^ block];
        if (v > best) {
          best = v;
          arg = block;
        }
        if (sub == 0) break;
      }
      cur[m] = best;
      choice[static_cast<std::size_t>(c)][m] = arg;
    }
  }
  std::vector<Mask> groups;
  Mask m = full;
  for (int c = k; m != 0; --c) {
    const Mask block = choice[static_cast<std::size_t>(c)][m];
    groups.push_back(best_group[block]);
    m ^= block;
  }
  return make_grouping(a, groups, o, true);
}
#else
    ;
#endif

/// Steepest-ascent local search over overlapping groups: toggle one task in one group (no
/// group empties; every task stays covered) or, while fewer than k groups, open a singleton
/// group; stops when no move improves by more than 1e-12. Returns the final score.
ONESTONE_FUNC double local_search(const Eigen::MatrixXd& a, const GroupingOptions& o,
                                  std::vector<Mask>& groups)
#if ONESTONE_DEFINE_FUNCTIONS
{
  const int n = static_cast<int>(a.rows());
  const std::size_t k = static_cast<std::size_t>(o.max_groups_);
  double cur = masks_score(a, groups, o);
  std::vector<Mask> trial, best_groups;
  for (;;) {
    double best = cur;
    best_groups.clear();
    for (std::size_t g = 0; g < groups.size(); ++g)
      for (int t = 0; t < n; ++t) {
        trial = groups;
        trial[g] ^= Mask(1) << t;
        if (trial[g] == 0) continue;
        const double v = masks_score(a, trial, o);
        if (v > best + 1e-12) {
          best = v;
          best_groups = trial;
        }
      }
    if (groups.size() < k)
      for (int t = 0; t < n; ++t) {
        trial = groups;
        trial.push_back(Mask(1) << t);
        const double v = masks_score(a, trial, o);
        if (v > best + 1e-12) {
          best = v;
          best_groups = trial;
        }
      }
    if (best_groups.empty()) return cur;
    groups = best_groups;
    cur = best;
  }
}
#else
    ;
#endif

/// Heuristic: local search (`local_search`) from two starts — (1) agglomerative: from
/// singletons, merge the pair of groups whose union gives the best score until ≤ k groups
/// remain, then keep merging while it strictly improves; (2) all tasks in one group — then,
/// from the better result, "kicks": each single toggle (task t in group g, or a new singleton
/// group) followed by local search, kept when it ends higher, repeated until no kick helps.
ONESTONE_FUNC Grouping heuristic_grouping(const Eigen::MatrixXd& a, const GroupingOptions& o)
#if ONESTONE_DEFINE_FUNCTIONS
{
  const int n = static_cast<int>(a.rows());
  const std::size_t k = static_cast<std::size_t>(o.max_groups_);
  std::vector<Mask> groups;
  for (int t = 0; t < n; ++t) groups.push_back(Mask(1) << t);
  double cur = masks_score(a, groups, o);
  while (groups.size() > 1) {
    double best = -std::numeric_limits<double>::infinity();
    std::size_t bi = 0, bj = 0;
    for (std::size_t i = 0; i < groups.size(); ++i)
      for (std::size_t j = i + 1; j < groups.size(); ++j) {
        std::vector<Mask> trial = groups;
        trial[i] |= trial[j];
        trial.erase(trial.begin() + static_cast<std::ptrdiff_t>(j));
        const double v = masks_score(a, trial, o);
        if (v > best) {
          best = v;
          bi = i;
          bj = j;
        }
      }
    if (groups.size() <= k && !(best > cur + 1e-12)) break;
    groups[bi] |= groups[bj];
    groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(bj));
    cur = best;
  }
  cur = local_search(a, o, groups);
  std::vector<Mask> together{n >= 64 ? ~Mask(0) : (Mask(1) << n) - 1};
  const double v2 = local_search(a, o, together);
  if (v2 > cur + 1e-12) {
    cur = v2;
    groups = together;
  }
  for (bool improved = true; improved;) {
    improved = false;
    const std::vector<Mask> base = groups;
    for (std::size_t g = 0; g <= base.size() && !improved; ++g)
      for (int t = 0; t < n && !improved; ++t) {
        std::vector<Mask> trial = base;
        if (g == base.size()) {
          if (base.size() >= k) break;
          trial.push_back(Mask(1) << t);
        } else {
          trial[g] ^= Mask(1) << t;
          if (trial[g] == 0) continue;
          if (!std::isfinite(masks_score(a, trial, o))) continue;
        }
        const double v = local_search(a, o, trial);
        if (v > cur + 1e-12) {
          cur = v;
          groups = trial;
          improved = true;
        }
      }
  }
  return make_grouping(a, groups, o, false);
}
#else
    ;
#endif

}  // namespace detail

/// The score of a given set of groups on affinity matrix `a` (entry (i, j): affinity of task i
/// onto task j): Σ_j max over the groups G containing j of s_j(G), where s_j(G) is the mean of
/// a(i, j) over the other members i of G, and for a group of one the options' single-task
/// value (or a(j, j)). Throws std::invalid_argument on a bad matrix, an empty group, a task
/// index out of range or a task in no group. Fills `served_by` / `task_scores` when given.
///
/// @code
/// double s = onestone::train::grouping_score(Z, {{0, 1}, {2, 3}});
/// @endcode
ONESTONE_FUNC double grouping_score(const Eigen::MatrixXd& a,
                                    const std::vector<std::vector<int>>& groups,
                                    const GroupingOptions& options = GroupingOptions(),
                                    std::vector<int>* served_by = nullptr,
                                    std::vector<double>* task_scores = nullptr)
#if ONESTONE_DEFINE_FUNCTIONS
{
  detail::check_affinity("grouping_score", a);
  std::vector<detail::Mask> masks;
  for (const auto& g : groups) {
    if (g.empty()) throw std::invalid_argument("grouping_score: an empty group");
    detail::Mask m = 0;
    for (int t : g) {
      if (t < 0 || t >= a.rows())
        throw std::invalid_argument("grouping_score: task " + std::to_string(t) +
                                    " out of range for " + std::to_string(a.rows()) + " tasks");
      m |= detail::Mask(1) << t;
    }
    masks.push_back(m);
  }
  const double s = detail::masks_score(a, masks, options, served_by, task_scores);
  if (!std::isfinite(s))
    throw std::invalid_argument("grouping_score: some task belongs to no group");
  return s;
}
#else
    ;
#endif

/// The best grouping of the tasks of affinity matrix `a` into at most `options.max_groups_`
/// groups (score as `grouping_score`): exact for T <= `exact_up_to` (dynamic programming over
/// subsets, k·3^T), heuristic beyond (`Grouping::exact` says which). Throws
/// std::invalid_argument naming the problem for a non-square, empty, NaN/Inf or > 64-task
/// matrix.
///
/// @code
/// Eigen::MatrixXd Z = probe.lookahead();
/// auto g = onestone::train::group_tasks(Z, onestone::train::GroupingOptions().max_groups(2));
/// for (const auto& group : g.groups) { /* train one model on these tasks */ }
/// @endcode
ONESTONE_FUNC Grouping group_tasks(const Eigen::MatrixXd& a,
                                   const GroupingOptions& options = GroupingOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  detail::check_affinity("group_tasks", a);
  if (a.rows() <= options.exact_up_to_) return detail::exact_grouping(a, options);
  return detail::heuristic_grouping(a, options);
}
#else
    ;
#endif

/// The heuristic alone (also for small T, e.g. to compare it with the exact search).
///
/// @code
/// auto h = onestone::train::group_tasks_heuristic(Z, onestone::train::GroupingOptions());
/// @endcode
ONESTONE_FUNC Grouping group_tasks_heuristic(const Eigen::MatrixXd& a,
                                             const GroupingOptions& options = GroupingOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  detail::check_affinity("group_tasks_heuristic", a);
  return detail::heuristic_grouping(a, options);
}
#else
    ;
#endif

}  // namespace train
}  // namespace onestone
