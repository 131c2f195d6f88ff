// clinical_mtl: multi-task learning on clinical tables — a shared MLP trunk (hard sharing) with
// one head per task, compared with one single-task network per task, over several seeds.
//
// Modes (any combination; the synthetic cohort runs when no other mode is given):
//   --synthetic            a synthetic cohort (onestone/data/synthetic_cohort.hpp): diagnosis
//                          (2-class cross entropy; AUC), lesion size (MSE; MAE) and survival
//                          (Cox partial likelihood; Harrell's C), all driven by one latent risk;
//                          few training patients (--train), many test patients (--test); Δm.
//   --breast-cancer [PATH] the Wisconsin diagnostic breast cancer table shipped with scikit-learn
//                          (apt-get install python3-sklearn): malignant vs benign from the 20
//                          "mean" and "standard error" features; the 10 "worst" features are
//                          removed from the inputs and become auxiliary regression tasks
//                          (Caruana's "features as extra outputs"); with vs without them.
//   --colon FILE           R survival's colon cancer trial (apt-get install r-cran-survival;
//                          Rscript scripts/export_colon.R FILE): two Cox tasks, recurrence and
//                          death; single vs multi-task C-index and Δm.
//
//   ./clinical_mtl [--synthetic] [--breast-cancer [PATH]] [--colon FILE] [--seeds 10] [--seed 1]
//                  [--epochs 30|10] [--batch 64] [--lr 3e-3|1e-3] [--hidden 64] [--train 300]
//                  [--test 2000]
//                  [--train-fraction 0.5] [--aux-weight 0.1] [--threads N] [--csv OUT]
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <onestone/data/csv.hpp>
#include <onestone/data/synthetic_cohort.hpp>
#include <onestone/losses/cox.hpp>
#include <onestone/metrics/auc.hpp>
#include <onestone/metrics/survival.hpp>
#include <onestone/onestone.hpp>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/fit.hpp"
#include "common/stats.hpp"

using namespace onestone;
using F = float;

namespace {

enum class Kind { Binary, Value, Survival };

struct TaskSpec {
  std::string name;
  Kind kind;
  double weight = 1.0;
};

/// The task options of one spec: a linear head on the trunk's features, its loss and metrics.
model::TaskOptions<F> make_task(const TaskSpec& s, Index width) {
  model::TaskOptions<F> t(s.name);
  const Index out = s.kind == Kind::Binary ? 2 : 1;
  t.head(std::make_shared<nn::MLP<F>>(nn::MLPOptions({width, out}).activate_last(false)))
      .weight(s.weight);
  switch (s.kind) {
    case Kind::Binary:
      t.loss(LossKind::CrossEntropy)
          .metric(std::make_shared<metrics::BinaryAUC<F>>())
          .metric(std::make_shared<metrics::ClassificationMetrics<F>>())
          .primary_metric("auc");
      break;
    case Kind::Value:
      t.loss(LossKind::MSE)
          .metric(std::make_shared<metrics::RegressionMetrics<F>>())
          .primary_metric("mae");
      break;
    case Kind::Survival:
      t.loss([](const Var<F>& p, const data::Target<F>& tg) { return losses::cox_loss(p, tg); })
          .metric(std::make_shared<metrics::ConcordanceIndex<F>>())
          .primary_metric("c_index");
      break;
  }
  return t;
}

struct Config {
  examples::FitOptions fit;
  Index hidden = 64;
};

/// Trains one hard-sharing model on `tasks` and evaluates it on `test`.
model::EvalReport run(const Config& c, const data::Dataset<F>& train, const data::Dataset<F>& test,
                      const std::vector<TaskSpec>& tasks, std::uint64_t seed) {
  manual_seed(seed);
  const Index in = train.sample_numel();
  auto trunk = std::make_shared<nn::MLP<F>>(nn::MLPOptions({in, c.hidden, c.hidden}).seed(seed));
  MultiTaskModel<F> model(std::make_shared<sharing::HardSharing<F>>(trunk, c.hidden));
  for (const auto& t : tasks) model.add_task(make_task(t, c.hidden));
  examples::FitOptions fit = c.fit;
  fit.seed = seed;
  double seconds = 0;
  return examples::fit_and_evaluate(model, train, test, fit, seconds);
}

/// Mean and sample standard deviation.
struct Stat {
  std::vector<double> v;
  double mean() const { return examples::mean_of(v); }
  double sd() const { return examples::sd_of(v); }
  std::string str(int digits = 4) const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f ± %.*f", digits, mean(), digits, sd());
    return buf;
  }
};

/// Result rows: (mode, model) → metric column → values over seeds.
struct Results {
  struct Row {
    std::string mode, model;
    std::vector<std::pair<std::string, Stat>> cols;
    Stat& col(const std::string& name) {
      for (auto& c : cols)
        if (c.first == name) return c.second;
      cols.push_back({name, Stat{}});
      return cols.back().second;
    }
  };
  std::vector<Row> rows;
  Row& row(const std::string& mode, const std::string& model) {
    for (auto& r : rows)
      if (r.mode == mode && r.model == model) return r;
    rows.push_back({mode, model, {}});
    return rows.back();
  }
  void print(const std::string& mode) const {
    bool header = false;
    for (const auto& r : rows) {
      if (r.mode != mode) continue;
      if (!header) {
        std::printf("\n%-22s", "model");
        for (const auto& c : r.cols) std::printf(" %20s", c.first.c_str());
        std::printf("\n");
        header = true;
      }
      std::printf("%-22s", r.model.c_str());
      for (const auto& c : r.cols)
        std::printf(" %20s", c.second.str(c.first == "dm (%)" ? 2 : 4).c_str());
      std::printf("\n");
    }
  }
  bool write(const std::string& path) const {
    std::ofstream f(path);
    f << "mode,model,metric,mean,sd,seeds\n";
    for (const auto& r : rows)
      for (const auto& c : r.cols)
        f << r.mode << "," << r.model << "," << c.first << "," << c.second.mean() << ","
          << c.second.sd() << "," << c.second.v.size() << "\n";
    return static_cast<bool>(f);
  }
};

void run_synthetic(const Config& c, long seeds, std::uint64_t seed0, long n_train, long n_test,
                   Results& res) {
  std::printf(
      "\n== synthetic cohort: %ld train / %ld test patients, 12 covariates, 30%% censoring, "
      "%ld seed(s), %ld epochs, lr %g ==\n",
      n_train, n_test, seeds, c.fit.epochs, c.fit.lr);
  const std::vector<TaskSpec> tasks = {
      {"diagnosis", Kind::Binary}, {"lesion_size", Kind::Value}, {"survival", Kind::Survival}};
  for (long s = 0; s < seeds; ++s) {
    const std::uint64_t seed = seed0 + static_cast<std::uint64_t>(s);
    const auto all =
        data::make_synthetic_cohort<F>(data::CohortOptions().samples(n_train + n_test).seed(seed));
    const auto train = all.subset(0, n_train), test = all.subset(n_train, n_train + n_test);
    std::vector<model::EvalReport> singles;
    for (const auto& t : tasks) singles.push_back(run(c, train, test, {t}, seed));
    const auto single = model::merge_reports(singles);
    const auto multi = run(c, train, test, tasks, seed);
    for (int k = 0; k < 2; ++k) {
      const auto& rep = k == 0 ? single : multi;
      auto& row = res.row("synthetic", k == 0 ? "single-task" : "multi-task");
      row.col("diagnosis AUC").v.push_back(rep.get("diagnosis", "auc"));
      row.col("diagnosis acc").v.push_back(rep.get("diagnosis", "accuracy"));
      row.col("lesion size MAE").v.push_back(rep.get("lesion_size", "mae"));
      row.col("survival C-index").v.push_back(rep.get("survival", "c_index"));
      row.col("dm (%)").v.push_back(k == 0 ? 0.0 : model::delta_m(multi, single));
    }
    std::printf("seed %llu done\n", static_cast<unsigned long long>(seed));
  }
  res.print("synthetic");
}

int run_breast_cancer(const Config& c, const std::string& path, long seeds, std::uint64_t seed0,
                      double fraction, double aux_weight, Results& res) {
  if (!std::ifstream(path)) {
    std::cerr << "clinical_mtl: " << path
              << " not found. It ships with scikit-learn: apt-get install python3-sklearn "
                 "(or pass its location: --breast-cancer PATH)\n";
    return 2;
  }
  // First line: "569,30,malignant,benign" (counts and class names), then 30 features + target
  // (0 = malignant, 1 = benign). Columns 20..29 are the "worst" features.
  const auto table = data::read_csv(path, data::CsvOptions().header(false).skip_lines(1));
  if (table.num_columns() != 31) {
    std::cerr << "clinical_mtl: " << path << ": expected 31 columns, got " << table.num_columns()
              << "\n";
    return 2;
  }
  data::TabularOptions opt;
  opt.classification("diagnosis", "c30", {"1", "0"});  // class 1 = malignant
  std::vector<std::string> inputs, aux;
  for (int k = 0; k < 30; ++k) (k < 20 ? inputs : aux).push_back("c" + std::to_string(k));
  opt.features(inputs);
  for (const auto& a : aux) opt.regression("aux_" + a, a);
  const auto tab = data::make_tabular<F>(table, opt);
  std::printf(
      "\n== breast cancer (%s): %ld patients, 20 input features, 10 auxiliary targets, "
      "%.0f%% train, %ld seed(s), %ld epochs, lr %g ==\n",
      path.c_str(), static_cast<long>(tab.dataset.size()), 100 * fraction, seeds, c.fit.epochs,
      c.fit.lr);
  std::vector<TaskSpec> main_only = {{"diagnosis", Kind::Binary}}, with_aux = main_only;
  for (const auto& a : aux) with_aux.push_back({"aux_" + a, Kind::Value, aux_weight});
  for (long s = 0; s < seeds; ++s) {
    const std::uint64_t seed = seed0 + static_cast<std::uint64_t>(s);
    auto split = tab.dataset.split(fraction, seed);
    // Standardise the inputs and the auxiliary targets on the training split.
    data::Standardizer<F> sx;
    sx.standardize_values(true).fit(split.first);
    const auto train = sx.apply(split.first), test = sx.apply(split.second);
    for (int k = 0; k < 2; ++k) {
      const auto rep = run(c, train, test, k == 0 ? main_only : with_aux, seed);
      auto& row = res.row("breast_cancer", k == 0 ? "diagnosis only" : "+ 10 auxiliary tasks");
      row.col("accuracy").v.push_back(rep.get("diagnosis", "accuracy"));
      row.col("AUC").v.push_back(rep.get("diagnosis", "auc"));
    }
    std::printf("seed %llu done\n", static_cast<unsigned long long>(seed));
  }
  res.print("breast_cancer");
  return 0;
}

int run_colon(const Config& c, const std::string& path, long seeds, std::uint64_t seed0,
              double fraction, Results& res) {
  if (!std::ifstream(path)) {
    std::cerr << "clinical_mtl: " << path
              << " not found. Export it from R: apt-get install r-cran-survival; "
                 "Rscript scripts/export_colon.R "
              << path << "\n";
    return 2;
  }
  const auto table = data::read_csv(path);
  const auto tab =
      data::make_tabular<F>(table, data::TabularOptions()
                                       .survival("recurrence", "time_rec", "status_rec")
                                       .survival("death", "time_death", "status_death")
                                       .drop({"id"})
                                       .categorical({"rx", "differ", "extent"})
                                       .missing_indicators(true));
  std::printf(
      "\n== colon (%s): %ld patients, %ld input columns, two Cox tasks, %.0f%% train, %ld "
      "seed(s), %ld epochs, lr %g ==\n",
      path.c_str(), static_cast<long>(tab.dataset.size()),
      static_cast<long>(tab.feature_names.size()), 100 * fraction, seeds, c.fit.epochs, c.fit.lr);
  const std::vector<TaskSpec> tasks = {{"recurrence", Kind::Survival}, {"death", Kind::Survival}};
  for (long s = 0; s < seeds; ++s) {
    const std::uint64_t seed = seed0 + static_cast<std::uint64_t>(s);
    auto split = tab.dataset.split(fraction, seed);
    data::Standardizer<F> sx;
    sx.fit(split.first);
    const auto train = sx.apply(split.first), test = sx.apply(split.second);
    const auto single = model::merge_reports(
        {run(c, train, test, {tasks[0]}, seed), run(c, train, test, {tasks[1]}, seed)});
    const auto multi = run(c, train, test, tasks, seed);
    for (int k = 0; k < 2; ++k) {
      const auto& rep = k == 0 ? single : multi;
      auto& row = res.row("colon", k == 0 ? "single-task" : "multi-task");
      row.col("recurrence C-index").v.push_back(rep.get("recurrence", "c_index"));
      row.col("death C-index").v.push_back(rep.get("death", "c_index"));
      row.col("dm (%)").v.push_back(k == 0 ? 0.0 : model::delta_m(multi, single));
    }
    std::printf("seed %llu done\n", static_cast<unsigned long long>(seed));
  }
  res.print("colon");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "Multi-task models on clinical tables against single-task networks: a "
                      "synthetic cohort\n(diagnosis, lesion size, survival), the Wisconsin "
                      "breast-cancer table, R's colon (two survival endpoints).");
  const bool synthetic = args.flag(
      "--synthetic", "run the synthetic cohort (the default without --breast-cancer / --colon)");
  std::string breast =
      args.get("--breast-cancer [PATH]",
               "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv",
               "run the Wisconsin breast-cancer table (scikit-learn's CSV)");
  if (breast.empty())
    breast = "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv";
  const std::string colon = args.get(
      "--colon FILE", "", "run R's colon table (Rscript scripts/export_colon.R colon.csv)");
  // Defaults per mode (measured in docs/clinical.md: longer training overfits these small
  // sets): 30 epochs at lr 3e-3 for the synthetic cohort and breast cancer, 10 at 1e-3 for colon.
  Config c;
  c.fit.epochs = args.get_int("--epochs", 30, "training epochs (default: 30; 10 with --colon)");
  c.fit.batch = args.get_int("--batch", 64, "training batch size");
  c.fit.lr =
      args.get_double("--lr", 3e-3, "Adam learning rate (default: 0.003; 0.001 with --colon)");
  c.hidden = args.get_int("--hidden", 64, "width of the MLP trunk");
  Config colon_c = c;
  colon_c.fit.epochs = args.get_int("--epochs", 10);
  colon_c.fit.lr = args.get_double("--lr", 1e-3);
  const long seeds = args.get_int("--seeds", 10, "seeds (splits and initialisations) per model");
  const auto seed0 = static_cast<std::uint64_t>(args.get_int("--seed S", 1, "first seed"));
  const long threads = args.get_int("--threads", 0, "worker threads, 0 for the library's default");
  const double fraction =
      args.get_double("--train-fraction F", 0.5, "share of a real table used for training");
  const long n_train = args.get_int("--train", 300, "synthetic cohort: training patients");
  const long n_test = args.get_int("--test", 2000, "synthetic cohort: test patients");
  const double aux_weight =
      args.get_double("--aux-weight W", 0.1, "breast cancer: weight of the auxiliary tasks");
  const std::string csv = args.get("--csv FILE", "", "also write the results as CSV");
  args.finish();
  if (threads > 0) set_num_threads(static_cast<int>(threads));
  const bool do_breast = args.has("--breast-cancer");
  if (args.has("--colon") && colon.empty()) {
    std::cerr << "clinical_mtl: --colon needs a file: Rscript scripts/export_colon.R colon.csv\n";
    return 2;
  }
  const bool do_synth = synthetic || (!do_breast && colon.empty());
  if (seeds < 1 || c.fit.epochs < 1 || c.fit.batch < 1 || !(fraction > 0 && fraction < 1)) {
    std::cerr << "clinical_mtl: --seeds, --epochs and --batch must be >= 1 and "
                 "--train-fraction in (0, 1)\n";
    return 2;
  }
  std::printf(
      "clinical_mtl: hard sharing, MLP trunk %ld-%ld, linear heads, Adam, batch %ld, "
      "%d thread(s)\n",
      static_cast<long>(c.hidden), static_cast<long>(c.hidden), c.fit.batch, get_num_threads());
  Results res;
  try {
    if (do_synth) run_synthetic(c, seeds, seed0, n_train, n_test, res);
    if (do_breast) {
      const int rc = run_breast_cancer(c, breast, seeds, seed0, fraction, aux_weight, res);
      if (rc) return rc;
    }
    if (!colon.empty()) {
      const int rc = run_colon(colon_c, colon, seeds, seed0, fraction, res);
      if (rc) return rc;
    }
  } catch (const std::exception& e) {
    std::cerr << "clinical_mtl: " << e.what() << "\n";
    return 1;
  }
  std::printf(
      "(mean ± sd over seeds; dm: mean relative change of the primary metrics — AUC, "
      "MAE, C-index — against the single-task networks, in %%)\n");
  if (!csv.empty()) {
    if (!res.write(csv)) {
      std::cerr << "clinical_mtl: cannot write " << csv << "\n";
      return 1;
    }
    std::printf("wrote %s\n", csv.c_str());
  }
  return 0;
}
