// task_affinity: which tasks should be trained together? Measures inter-task affinity during
// ordinary training, proposes groupings, then trains the groupings to check the proposal.
//
// Data: F families of regression tasks from the MMoE synthetic generator (Ma et al. 2018). Each
// family has its own block of input features and its own generator draw: tasks within a family
// have correlation P (the generator's control), tasks of different families are unrelated.
//
//  1. trains one hard-sharing model on all tasks with the Trainer and a TaskAffinity probe every
//     N steps (and once more without the probe, to time its overhead and check that training
//     is unchanged bit for bit); prints the cosine, lookahead (TAG) and linearised matrices;
//  2. proposes groupings for k = 1..3 groups from the lookahead matrix;
//  3. trains every subset of the tasks over several seeds and reports per-task test MSE for
//     "each alone", "all together" and the recommended grouping, and how well each affinity
//     predicts the measured gains (Spearman's rank correlation): pairwise, and over all
//     groupings into at most two groups.
//
//   ./task_affinity [--families 3] [--per-family 2] [--epochs 30] [--seeds 10] [--out DIR]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <onestone/onestone.hpp>
#include <onestone/train/task_affinity.hpp>
#include <onestone/train/task_grouping.hpp>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/stats.hpp"

using namespace onestone;

namespace {

// A task of the example: its name, loss and number of outputs.
struct Spec {
  std::string name;
  LossKind loss = LossKind::MSE;
  long outputs = 1;
};

struct Setup {
  long in_dim = 36;
  std::vector<Spec> specs;
  long families = 3, per_family = 2, dim = 12, train_n = 400, test_n = 2000;
  long hidden = 32, rep = 8, epochs = 30, batch = 32, every = 5;
  double lr = 3e-3, corr = 0.99, noise = 0.1, lookahead_lr = 0.0;
  std::uint64_t data_seed = 1;
};

// Train and test sets: family f's inputs are columns [f·dim, (f+1)·dim).
std::pair<data::Dataset<float>, data::Dataset<float>> make_data(Setup& s,
                                                                std::vector<std::string>& names) {
  s.in_dim = s.families * s.dim;
  s.specs.clear();
  const Index n = s.train_n + s.test_n, d = s.dim;
  Tensor<float> x(Shape{n, s.families * d});
  std::vector<Tensor<float>> ys;
  names.clear();
  for (long f = 0; f < s.families; ++f) {
    auto ds = data::make_mmoe_synthetic<float>(
        data::SyntheticOptions()
            .samples(n)
            .dim(d)
            .num_tasks(s.per_family)
            .correlation(s.corr)
            .noise_std(s.noise)
            .seed(s.data_seed * 1000 + static_cast<std::uint64_t>(f)));
    const Tensor<float>& xf = ds.inputs();
    for (Index i = 0; i < n; ++i)
      for (Index j = 0; j < d; ++j) x.data()[i * s.families * d + f * d + j] = xf.data()[i * d + j];
    for (long k = 0; k < s.per_family; ++k) {
      ys.push_back(ds.target(static_cast<Index>(k)).values);
      names.push_back(std::string(1, static_cast<char>('A' + f)) + std::to_string(k + 1));
      s.specs.push_back({names.back(), LossKind::MSE, 1});
    }
  }
  data::Dataset<float> all(std::move(x));
  for (std::size_t t = 0; t < ys.size(); ++t) all.add_regression(names[t], ys[t]);
  return {all.subset(0, s.train_n), all.subset(s.train_n, n)};
}

// Fashion-MNIST with five tasks: the item (10 classes), its coarse group (4 classes) and three
// binary attributes: footwear (group 2), outerwear (pullover or coat) and bright (mean pixel
// intensity above the training median, a property of the image rather than of the class).
std::pair<data::Dataset<float>, data::Dataset<float>> make_fashion(
    Setup& s, const std::string& dir, std::vector<std::string>& names) {
  auto tr = data::load_fashion_mnist<float>(dir, true, s.train_n);
  auto te = data::load_fashion_mnist<float>(dir, false, s.test_n);
  const Index px = tr.inputs().size(1);
  auto brightness = [&](const data::Dataset<float>& d, Index i) {
    double m = 0;
    for (Index j = 0; j < px; ++j) m += d.inputs().data()[i * px + j];
    return m / static_cast<double>(px);
  };
  std::vector<double> b;
  for (Index i = 0; i < tr.size(); ++i) b.push_back(brightness(tr, i));
  std::vector<double> sorted = b;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2),
                   sorted.end());
  const double median = sorted[sorted.size() / 2];
  auto add_binary = [&](data::Dataset<float>& d) {
    const Index n = d.size();
    Tensor<float> foot(Shape{n, 1}), outer(Shape{n, 1}), bright(Shape{n, 1});
    const auto& items = d.target("item").labels;
    for (Index i = 0; i < n; ++i) {
      const int item = static_cast<int>(items.data()[i]);
      foot.data()[i] = data::fashion_mnist_group_of(item) == 2 ? 1.f : 0.f;
      outer.data()[i] = (item == 2 || item == 4) ? 1.f : 0.f;
      bright.data()[i] = brightness(d, i) > median ? 1.f : 0.f;
    }
    d.add_regression("footwear", foot);
    d.add_regression("outerwear", outer);
    d.add_regression("bright", bright);
  };
  add_binary(tr);
  add_binary(te);
  s.in_dim = px;
  s.specs = {{"item", LossKind::CrossEntropy, 10},
             {"group", LossKind::CrossEntropy, 4},
             {"footwear", LossKind::BinaryCrossEntropy, 1},
             {"outerwear", LossKind::BinaryCrossEntropy, 1},
             {"bright", LossKind::BinaryCrossEntropy, 1}};
  names.clear();
  for (const auto& sp : s.specs) names.push_back(sp.name);
  return {std::move(tr), std::move(te)};
}

std::unique_ptr<MultiTaskModel<float>> build(const Setup& s, const std::vector<int>& tasks,
                                             const std::vector<std::string>& names,
                                             std::uint64_t init_seed) {
  manual_seed(init_seed);
  auto trunk = std::make_shared<nn::MLP<float>>(nn::MLPOptions({s.in_dim, s.hidden, s.rep}));
  auto m = std::make_unique<MultiTaskModel<float>>(
      std::make_shared<sharing::HardSharing<float>>(trunk, s.rep));
  for (int t : tasks) {
    const Spec& sp = s.specs[static_cast<std::size_t>(t)];
    m->add_task(TaskOptions<float>(names[static_cast<std::size_t>(t)])
                    .head(std::make_shared<nn::Linear<float>>(nn::LinearOptions(s.rep, sp.outputs)))
                    .loss(sp.loss));
  }
  return m;
}

// Trains a model on `tasks` (custom loop); returns each task's test MSE (model order).
std::vector<double> train_group(const Setup& s, const std::vector<int>& tasks,
                                const std::vector<std::string>& names,
                                const data::Dataset<float>& train, const data::Dataset<float>& test,
                                std::uint64_t seed) {
  auto model = build(s, tasks, names, 100 + seed);
  optim::Adam<float> opt(model->parameters(), optim::AdamOptions(s.lr));
  data::DataLoader<float> loader(train, data::LoaderOptions().batch_size(s.batch).seed(seed));
  data::DataLoader<float> test_loader(test, data::LoaderOptions().batch_size(500).shuffle(false));
  train::TrainStep<float> step(*model, opt);
  data::Batch<float> batch;
  for (long e = 0; e < s.epochs; ++e) {
    loader.start_epoch();
    while (loader.next(batch)) step(batch);
  }
  const model::EvalReport rep = model->evaluate(test_loader);
  std::vector<double> out;
  for (const auto& t : rep.tasks) out.push_back(t.loss);
  return out;
}

void print_matrix(const char* title, const Eigen::MatrixXd& m,
                  const std::vector<std::string>& names) {
  std::printf("\n%s (row: source task i, column: target task j)\n          ", title);
  for (const auto& n : names) std::printf(" %9s", n.c_str());
  std::printf("\n");
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    std::printf("%10s", names[static_cast<std::size_t>(i)].c_str());
    for (Eigen::Index j = 0; j < m.cols(); ++j) std::printf(" %9.4f", m(i, j));
    std::printf("\n");
  }
}

using examples::mean_of;
using examples::sd_of;

// A heat map of `m` as PNG through gnuplot (when installed): writes <base>.dat and <base>.gp.
bool heatmap(const std::string& base, const char* title, const Eigen::MatrixXd& m,
             const std::vector<std::string>& names) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) return false;
  {
    std::ofstream dat(base + ".dat");
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      for (Eigen::Index j = 0; j < m.cols(); ++j) dat << (j ? " " : "") << m(i, j);
      dat << "\n";
    }
  }
  std::ofstream gp(base + ".gp");
  gp << "set terminal pngcairo size 640,560\nset output '" << base << ".png'\n"
     << "set title '" << title << " (row: source, column: target)'\n"
     << "set palette defined (-1 'blue', 0 'white', 1 'red')\nset yrange [] reverse\n"
     << "set cbrange [" << -m.cwiseAbs().maxCoeff() << ":" << m.cwiseAbs().maxCoeff() << "]\n";
  gp << "set xtics (";
  for (std::size_t t = 0; t < names.size(); ++t)
    gp << (t ? ", " : "") << "'" << names[t] << "' " << t;
  gp << ")\nset ytics (";
  for (std::size_t t = 0; t < names.size(); ++t)
    gp << (t ? ", " : "") << "'" << names[t] << "' " << t;
  gp << ")\nplot '" << base << ".dat' matrix with image notitle\n";
  gp.close();
  return std::system(("gnuplot '" + base + ".gp' 2>/dev/null").c_str()) == 0;
}

std::vector<int> members(unsigned mask, int n) {
  std::vector<int> out;
  for (int t = 0; t < n; ++t)
    if ((mask >> t) & 1U) out.push_back(t);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "Measures inter-task affinity (gradient cosine, TAG lookahead and its "
                      "linearisation) during training\non families of related synthetic "
                      "regression tasks, proposes task groupings, and trains them to check.");
  Setup s;
  s.families = args.get_int("--families F", 3, "task families (unrelated to each other)");
  s.per_family = args.get_int("--per-family N", 2, "tasks per family");
  s.corr = args.get_double("--correlation P", 0.99, "task correlation within a family");
  s.dim = args.get_int("--dim D", 12, "input features per family");
  s.train_n = args.get_int("--samples N", 400, "training samples");
  s.test_n = args.get_int("--test N", 2000, "test samples");
  s.epochs = args.get_int("--epochs N", 30, "training epochs of every model");
  s.hidden = args.get_int("--hidden N", 32, "width of the trunk's hidden layer");
  s.rep = args.get_int("--rep N", 8, "width of the shared representation");
  s.noise = args.get_double("--noise X", 0.1, "label noise (standard deviation)");
  s.lr = args.get_double("--lr X", 3e-3, "Adam learning rate");
  s.every = args.get_int("--every N", 5, "probe every N optimizer steps");
  s.lookahead_lr = args.get_double("--lookahead-lr X", 0.0,
                                   "lookahead step size (default: 0 = the Adam learning rate)");
  const long seeds = args.get_int("--seeds N", 10, "training seeds of the grouping check");
  const std::string out = args.get("--out DIR", "",
                                   "write the matrices as CSV files into DIR (and heat maps as "
                                   "PNG when gnuplot is installed)");
  const bool skip_check = args.flag("--no-check", "only measure and propose groupings");
  const bool fashion = args.has("--fashion");
  const std::string fashion_dir = args.get(
      "--fashion [DIR]", data::default_fashion_mnist_dir(),
      "instead of the synthetic families: Fashion-MNIST (item, group, footwear, outerwear, "
      "bright); --samples / --test then count images (default folder: "
      "$ONESTONE_FASHION_MNIST or /usr/share/datasets/fashion-mnist)");
  const long k_rec = args.get_int("--k N", 0,
                                  "groups of the recommended grouping (default: "
                                  "the number of families; 2 with --fashion)");
  args.finish();
  if (s.families < 1 || s.per_family < 1 || s.dim < 1 || s.train_n < s.batch || s.test_n < 1 ||
      s.epochs < 1 || s.every < 1 || seeds < 1 || s.families * s.per_family > 12 ||
      s.per_family > s.dim) {
    std::cerr << "error: invalid sizes (at most 12 tasks, per-family <= dim, samples >= 32)\n";
    return 2;
  }

  std::vector<std::string> names;
  auto data = fashion ? make_fashion(s, fashion_dir, names) : make_data(s, names);
  const int T = static_cast<int>(names.size());
  std::vector<int> all_tasks;
  for (int t = 0; t < T; ++t) all_tasks.push_back(t);
  if (fashion)
    std::printf(
        "task_affinity: %d Fashion-MNIST tasks (item, group, footwear, outerwear, bright), "
        "%ld train / %ld test images\n",
        T, s.train_n, s.test_n);
  else
    std::printf(
        "task_affinity: %d tasks in %ld families (correlation %.2f within, 0 across), "
        "%ld train / %ld test samples\n",
        T, s.families, s.corr, s.train_n, s.test_n);
  const char* err_name = fashion ? "test loss (cross entropy)" : "test MSE";

  // 1. Affinity during ordinary training (Trainer + probe), and the same run without the probe.
  auto run = [&](bool probe_on, std::vector<float>* params, double* seconds,
                 std::unique_ptr<train::TaskAffinity<float>>* probe_out) {
    auto model = build(s, all_tasks, names, 100);
    optim::Adam<float> opt(model->parameters(), optim::AdamOptions(s.lr));
    data::DataLoader<float> loader(data.first, data::LoaderOptions().batch_size(s.batch).seed(0));
    data::DataLoader<float> probe_loader(data.first,
                                         data::LoaderOptions().batch_size(s.batch).seed(99));
    train::Trainer<float> trainer(
        *model, opt, loader,
        train::TrainerOptions().epochs(static_cast<int>(s.epochs)).progress(false));
    train::TaskAffinityOptions po = train::TaskAffinityOptions().every(s.every);
    if (s.lookahead_lr > 0) po.lookahead_lr(s.lookahead_lr);
    auto probe = std::make_unique<train::TaskAffinity<float>>(*model, po);
    if (probe_on) probe->attach(trainer, probe_loader);
    const auto t0 = std::chrono::steady_clock::now();
    trainer.fit();
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (auto* p : model->parameters())
      params->insert(params->end(), p->value().begin(), p->value().end());
    if (probe_out) *probe_out = std::move(probe);
  };
  std::vector<float> p_without, p_with;
  double t_without = 0, t_with = 0;
  std::unique_ptr<train::TaskAffinity<float>> probe;
  run(false, &p_without, &t_without, nullptr);
  run(true, &p_with, &t_with, &probe);
  const bool identical =
      p_without.size() == p_with.size() &&
      std::memcmp(p_without.data(), p_with.data(), sizeof(float) * p_with.size()) == 0;
  const std::int64_t steps = s.epochs * ((s.train_n + s.batch - 1) / s.batch);
  std::printf(
      "\nmeasured over %lld probes (every %ld of %lld steps); training %.3f s without the "
      "probe, %.3f s with it (+%.0f%%; %.2f ms per probe); final parameters %s\n",
      static_cast<long long>(probe->probes()), s.every, static_cast<long long>(steps), t_without,
      t_with, 100.0 * (t_with - t_without) / t_without,
      1e3 * probe->seconds() / static_cast<double>(std::max<std::int64_t>(1, probe->probes())),
      identical ? "bit-identical with and without the probe" : "DIFFER (bug)");

  const Eigen::MatrixXd C = probe->cosine(), R = probe->representation_cosine(),
                        Z = probe->lookahead(), L = probe->linearized();
  print_matrix("cosine of shared-parameter gradients", C, names);
  print_matrix("cosine of shared-representation gradients", R, names);
  print_matrix("lookahead affinity Z (TAG), x100", 100.0 * Z, names);
  print_matrix("linearised estimate of Z, x100", 100.0 * L, names);
  const auto agree = probe->agreement();
  std::printf(
      "\nexact vs linearised lookahead, off-diagonal: Pearson %.3f, Spearman %.3f (%zu pairs)\n",
      agree.pearson, agree.spearman, agree.pairs);
  if (!out.empty()) {
    train::write_affinity_csv(out + "/cosine.csv", names, C);
    train::write_affinity_csv(out + "/representation_cosine.csv", names, R);
    train::write_affinity_csv(out + "/lookahead.csv", names, Z);
    train::write_affinity_csv(out + "/linearized.csv", names, L);
    std::printf("matrices written to %s/{cosine,representation_cosine,lookahead,linearized}.csv\n",
                out.c_str());
    Eigen::MatrixXd Zoff = Z, Coff = C;
    Zoff.diagonal().setZero();  // the diagonal (self-affinity) would swamp the colour scale
    Coff.diagonal().setZero();
    if (heatmap(out + "/lookahead", "lookahead affinity Z, diagonal omitted", Zoff, names) &&
        heatmap(out + "/cosine", "gradient cosine, diagonal omitted", Coff, names))
      std::printf("heat maps written to %s/{lookahead,cosine}.png\n", out.c_str());
  }

  // 2. Groupings.
  std::printf(
      "\nproposed groupings (lookahead affinity; score = sum over tasks of the mean "
      "affinity onto the task in its serving group)\n");
  std::vector<train::Grouping> proposals;
  for (int k = 1; k <= std::min(3, T); ++k) {
    const auto g = train::group_tasks(Z, train::GroupingOptions().max_groups(k));
    const auto gc = train::group_tasks(C, train::GroupingOptions().max_groups(k));
    std::printf("  k=%d: %-36s score %8.5f   (by gradient cosine: %s)\n", k, g.str(names).c_str(),
                g.score, gc.str(names).c_str());
    proposals.push_back(g);
  }
  if (skip_check || T > 10) return 0;

  // 3. Train every subset of tasks, per seed: test MSE of each member.
  const unsigned full = (1U << T) - 1;
  std::printf("\ntraining all %u subsets of the tasks x %ld seeds ...\n", full, seeds);
  const auto t0 = std::chrono::steady_clock::now();
  // mse[mask][seed][t]
  std::vector<std::vector<std::vector<double>>> mse(full + 1);
  for (unsigned m = 1; m <= full; ++m) {
    const auto tasks = members(m, T);
    mse[m].assign(static_cast<std::size_t>(seeds),
                  std::vector<double>(static_cast<std::size_t>(T), std::nan("")));
    for (long sd = 0; sd < seeds; ++sd) {
      const auto r =
          train_group(s, tasks, names, data.first, data.second, static_cast<std::uint64_t>(sd));
      for (std::size_t k = 0; k < tasks.size(); ++k)
        mse[m][static_cast<std::size_t>(sd)][static_cast<std::size_t>(tasks[k])] = r[k];
    }
  }
  std::printf("done in %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  // Test MSE of task t served by group mask m, per seed.
  auto per_seed = [&](unsigned m, int t) {
    std::vector<double> v;
    for (long sd = 0; sd < seeds; ++sd)
      v.push_back(mse[m][static_cast<std::size_t>(sd)][static_cast<std::size_t>(t)]);
    return v;
  };
  auto mask_of = [](const std::vector<int>& g) {
    unsigned m = 0;
    for (int t : g) m |= 1U << t;
    return m;
  };
  const long k_use = k_rec > 0 ? k_rec : (fashion ? 2 : s.families);
  const train::Grouping rec =
      train::group_tasks(Z, train::GroupingOptions().max_groups(static_cast<int>(k_use)));
  std::printf("\nper-task %s, mean ± sd over %ld seeds (recommended: k=%ld, %s)\n", err_name, seeds,
              k_use, rec.str(names).c_str());
  std::printf("| task | alone | all together | recommended |\n|---|---|---|---|\n");
  std::vector<double> m_alone, m_all, m_rec;
  for (int t = 0; t < T; ++t) {
    const auto a = per_seed(1U << t, t), b = per_seed(full, t),
               c = per_seed(mask_of(rec.groups[static_cast<std::size_t>(
                                rec.served_by[static_cast<std::size_t>(t)])]),
                            t);
    std::printf("| %s | %.4f ± %.4f | %.4f ± %.4f | %.4f ± %.4f |\n",
                names[static_cast<std::size_t>(t)].c_str(), mean_of(a), sd_of(a), mean_of(b),
                sd_of(b), mean_of(c), sd_of(c));
    m_alone.push_back(mean_of(a));
    m_all.push_back(mean_of(b));
    m_rec.push_back(mean_of(c));
  }
  std::printf("| mean | %.4f | %.4f | %.4f |\n", mean_of(m_alone), mean_of(m_all), mean_of(m_rec));

  // Pairwise: measured gain of j from i = relative MSE reduction of j trained with i vs alone.
  std::vector<double> gain, zc, zr, zl, zz;
  for (int i = 0; i < T; ++i)
    for (int j = 0; j < T; ++j) {
      if (i == j) continue;
      const double alone = mean_of(per_seed(1U << j, j));
      const double pair = mean_of(per_seed((1U << i) | (1U << j), j));
      gain.push_back((alone - pair) / alone);
      zc.push_back(C(i, j));
      zr.push_back(R(i, j));
      zz.push_back(Z(i, j));
      zl.push_back(L(i, j));
    }
  std::printf(
      "\nhow well each affinity predicts the measured gain (Spearman rank correlation; "
      "gain = relative reduction of the %s against training alone)\n",
      err_name);
  std::printf(
      "| affinity | pairs: gain of j when trained with i (%zu ordered pairs) | groupings into <= 2 "
      "groups |\n|---|---|---|\n",
      gain.size());
  // Groupings into at most two groups (all partitions): predicted score vs measured mean
  // relative improvement over training alone.
  std::vector<double> measured;
  std::vector<std::vector<std::vector<int>>> partitions;
  for (unsigned m = 1; m <= full; ++m) {
    if (!(m & 1U)) continue;  // the block holding task 0
    const unsigned rest = full ^ m;
    std::vector<std::vector<int>> groups{members(m, T)};
    if (rest) groups.push_back(members(rest, T));
    double imp = 0;
    for (int t = 0; t < T; ++t) {
      const unsigned g = ((m >> t) & 1U) ? m : rest;
      const double alone = mean_of(per_seed(1U << t, t));
      imp += (alone - mean_of(per_seed(g, t))) / alone / T;
    }
    measured.push_back(imp);
    partitions.push_back(groups);
  }
  const char* labels[] = {"gradient cosine (shared parameters)", "gradient cosine (representation)",
                          "lookahead Z (TAG)", "linearised Z"};
  const Eigen::MatrixXd* mats[] = {&C, &R, &Z, &L};
  const std::vector<double>* pairs[] = {&zc, &zr, &zz, &zl};
  for (int a = 0; a < 4; ++a) {
    std::vector<double> predicted;
    for (const auto& g : partitions) predicted.push_back(train::grouping_score(*mats[a], g));
    std::printf("| %s | %.3f | %.3f |\n", labels[a], metrics::spearman(*pairs[a], gain),
                metrics::spearman(predicted, measured));
  }
  std::size_t best = 0;
  for (std::size_t p = 0; p < measured.size(); ++p)
    if (measured[p] > measured[best]) best = p;
  std::string best_str;
  for (std::size_t g = 0; g < partitions[best].size(); ++g) {
    best_str += g ? " {" : "{";
    for (std::size_t k = 0; k < partitions[best][g].size(); ++k)
      best_str += (k ? ", " : "") + names[static_cast<std::size_t>(partitions[best][g][k])];
    best_str += "}";
  }
  std::printf(
      "\nbest measured grouping into <= 2 groups: %s (mean improvement over alone %.1f%%); "
      "the k=2 proposal %s\n",
      best_str.c_str(), 100 * measured[best],
      proposals.size() > 1 ? proposals[1].str(names).c_str() : "-");
  return 0;
}
