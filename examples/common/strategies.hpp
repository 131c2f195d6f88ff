#pragma once
// Builds each sharing strategy with a comparable budget for a given input width, hidden width and
// number of tasks; shared by the sharing_compare example, the tests and the benchmarks.
#include <memory>
#include <onestone/onestone.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace examples {

inline const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {
      "hard", "soft", "cross_stitch", "mtan", "omoe", "mmoe", "dselect_k", "cgc", "ple"};
  return names;
}

template <typename T>
std::shared_ptr<onestone::sharing::SharingStrategy<T>> make_strategy(const std::string& name,
                                                                     int tasks, onestone::Index in,
                                                                     onestone::Index hidden) {
  using namespace onestone;
  using namespace onestone::sharing;
  if (name == "hard")
    return std::make_shared<HardSharing<T>>(
        std::make_shared<nn::MLP<T>>(nn::MLPOptions({in, hidden, hidden})), hidden);
  if (name == "soft")
    return std::make_shared<SoftSharing<T>>(
        [=] {
          return std::make_shared<nn::MLP<T>>(nn::MLPOptions({in, hidden, hidden}));
        },
        hidden, 1e-3);
  if (name == "cross_stitch")
    return std::make_shared<CrossStitch<T>>(CrossStitchOptions(tasks, {in, hidden, hidden}));
  if (name == "mtan") return std::make_shared<MTAN<T>>(MTANOptions(tasks, {in, hidden, hidden}));
  if (name == "omoe")
    return std::make_shared<MMoE<T>>(MMoEOptions(tasks, in, {hidden}, 8).shared_gate(true));
  if (name == "mmoe") return std::make_shared<MMoE<T>>(MMoEOptions(tasks, in, {hidden}, 8));
  if (name == "dselect_k")
    return std::make_shared<DSelectK<T>>(DSelectKOptions(tasks, in, {hidden}, 8, /*k=*/2));
  if (name == "cgc")
    return std::make_shared<CGC<T>>(
        PLEOptions(tasks, in, {hidden}).shared_experts(4).task_experts(2));
  if (name == "ple")
    return std::make_shared<PLE<T>>(
        PLEOptions(tasks, in, {hidden}).shared_experts(2).task_experts(1).levels(2));
  throw std::invalid_argument("unknown strategy '" + name + "'");
}

}  // namespace examples
