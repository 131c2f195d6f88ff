// sharing_compare: every sharing strategy on the MMoE synthetic data (Ma et al. 2018) at several
// task correlations, same data, budget and seeds; prints a table of test MSE and writes a CSV.
//
//   ./sharing_compare [--epochs 20] [--seeds 3] [--samples 12000] [--hidden 16]
//                     [--correlations 0.5,0.9,1.0] [--strategies hard,mmoe,...] [--csv FILE]
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <onestone/onestone.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/strategies.hpp"

using namespace onestone;

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "Every sharing strategy on the MMoE synthetic data at several task "
                      "correlations (same data,\nbudget and seeds): a table of test MSE.");
  const long epochs = args.get_int("--epochs", 20, "training epochs");
  const long seeds = args.get_int("--seeds", 3, "seeds per strategy and correlation");
  const long samples = args.get_int("--samples", 12000, "samples generated");
  const long hidden = args.get_int("--hidden", 16, "width of the experts / towers");
  const std::string csv_path = args.get("--csv FILE", "", "also write the results as CSV");
  const std::string corr_list =
      args.get("--correlations LIST", "0.5,0.9,1.0", "comma-separated task correlations");
  std::string all_strategies;
  for (const auto& st : examples::strategy_names())
    all_strategies += (all_strategies.empty() ? "" : ",") + st;
  const std::vector<std::string> strategies = examples::split_list(
      args.get("--strategies LIST", all_strategies, "comma-separated sharing strategies"));
  args.finish();
  std::vector<double> correlations;
  for (const auto& c : examples::split_list(corr_list)) {
    char* end = nullptr;
    correlations.push_back(std::strtod(c.c_str(), &end));
    if (*end) {
      std::cerr << "sharing_compare: --correlations expects numbers, got '" << c << "'\n";
      return 2;
    }
  }

  std::ofstream csv;
  if (!csv_path.empty()) {
    csv.open(csv_path);
    if (!csv) {
      std::cerr << "sharing_compare: cannot write " << csv_path << "\n";
      return 2;
    }
    csv << "strategy,p,seed,task,metric,value\n";
  }
  const Index dim = 100;
  // mean test MSE (over tasks and seeds) per strategy and correlation
  std::map<std::string, std::map<double, double>> table;
  std::map<std::string, Index> params;
  for (double p : correlations) {
    for (long seed = 1; seed <= seeds; ++seed) {
      auto all = data::make_mmoe_synthetic<float>(
          data::SyntheticOptions().samples(samples).dim(dim).num_tasks(2).correlation(p).seed(
              static_cast<std::uint64_t>(seed)));
      auto split = all.split(5.0 / 6.0, static_cast<std::uint64_t>(seed));
      for (const auto& name : strategies) {
        manual_seed(static_cast<std::uint64_t>(seed) * 7919);
        MultiTaskModel<float> model(examples::make_strategy<float>(name, 2, dim, hidden));
        for (int t = 0; t < 2; ++t)
          model.add_task(TaskOptions<float>("task" + std::to_string(t))
                             .head(std::make_shared<nn::MLP<float>>(
                                 nn::MLPOptions({hidden, 8, 1}).activate_last(false)))
                             .loss(LossKind::MSE));
        params[name] = model.num_parameters();
        optim::Adam<float> opt(model.parameters(), optim::AdamOptions(1e-3));
        train::TrainStep<float> step(model, opt);
        data::DataLoader<float> loader(split.first, data::LoaderOptions().batch_size(128).seed(
                                                        static_cast<std::uint64_t>(seed)));
        data::DataLoader<float> test(split.second,
                                     data::LoaderOptions().batch_size(1000).shuffle(false));
        for (long e = 0; e < epochs; ++e)
          for (const auto& b : loader) step(b);
        auto rep = model.evaluate(test);
        double mean = 0;
        for (int t = 0; t < 2; ++t) {
          const std::string task = "task" + std::to_string(t);
          const double mse = rep.get(task, "mse");
          mean += mse / 2;
          if (csv) {
            csv << name << ',' << p << ',' << seed << ',' << task << ",mse," << mse << '\n';
            csv << name << ',' << p << ',' << seed << ',' << task << ",mae," << rep.get(task, "mae")
                << '\n';
          }
        }
        table[name][p] += mean / static_cast<double>(seeds);
        std::fprintf(stderr, "  %-13s p=%.2f seed %ld: test MSE %.4f\n", name.c_str(), p, seed,
                     mean);
      }
    }
  }
  std::printf(
      "\nMean test MSE over 2 tasks and %ld seeds (%ld epochs, hidden %ld); lower is better\n",
      seeds, epochs, hidden);
  std::printf("%-14s %8s", "strategy", "params");
  for (double p : correlations) std::printf("   p=%.2f", p);
  std::printf("\n");
  for (const auto& name : strategies) {
    std::printf("%-14s %8ld", name.c_str(), static_cast<long>(params[name]));
    for (double p : correlations) std::printf("  %7.4f", table[name][p]);
    std::printf("\n");
  }
  if (csv) std::printf("wrote %s\n", csv_path.c_str());
  return 0;
}
