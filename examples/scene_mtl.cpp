// scene_mtl: one convolutional backbone that classifies, detects and segments at once, on
// synthetic scenes generated in-process (no download): a few squares, discs and triangles on
// noisy, textured backgrounds.
//
// Tasks: "scene" — the kind of the largest shape (accuracy); "box" — its bounding box
// (L1 + IoU loss; box IoU and MAE); "mask" — a label per pixel, background or shape kind
// (per-pixel cross entropy; mIoU and pixel accuracy). The example trains one single-task
// network per task and one multi-task network per balancing method (hard sharing of the
// backbone), then prints — and with --csv FILE writes — the metrics, Δm and wall time.
//
//   ./scene_mtl [--samples 4000] [--epochs 8] [--batch 64] [--lr 0.001]
//               [--methods equal,uncertainty,pcgrad] [--threads N] [--seed 1] [--csv FILE]
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <memory>
#include <onestone/onestone.hpp>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/fit.hpp"
#include "common/scene_model.hpp"

using namespace onestone;
using F = float;

namespace {

struct Setup {
  const data::Dataset<F>* train;
  const data::Dataset<F>* test;
  examples::FitOptions fit;
};

model::EvalReport train_model(const Setup& s, const std::vector<std::string>& tasks,
                              const std::string& method, double& seconds) {
  manual_seed(s.fit.seed);
  MultiTaskModel<F> model(
      std::make_shared<sharing::HardSharing<F>>(examples::make_scene_backbone<F>(), 32));
  for (const auto& t : tasks) model.add_task(examples::scene_task<F>(t));
  if (!method.empty() && method != "equal") model.set_balancer(weighting::make_balancer<F>(method));
  return examples::fit_and_evaluate(model, *s.train, *s.test, s.fit, seconds);
}

}  // namespace

int main(int argc, char** argv) {
  examples::Args args(argc, argv,
                      "One convolutional backbone that classifies, detects and segments synthetic "
                      "scenes: single-task\nnetworks against one multi-task network per balancing "
                      "method (metrics, dm, time).");
  Setup s;
  const long samples = args.get_int("--samples", 4000, "scenes generated (train and test)");
  s.fit.epochs = args.get_int("--epochs", 8, "training epochs");
  s.fit.batch = args.get_int("--batch", 64, "training batch size");
  s.fit.lr = args.get_double("--lr", 1e-3, "Adam learning rate");
  s.fit.seed = static_cast<std::uint64_t>(args.get_int("--seed S", 1, "random seed"));
  const long threads = args.get_int("--threads", 0, "worker threads, 0 for the library's default");
  const std::string csv = args.get("--csv FILE", "", "also write the results table as CSV");
  const auto methods =
      examples::split_list(args.get("--methods LIST", "equal,uncertainty,pcgrad",
                                    "comma-separated balancing methods (any registered name)"));
  args.finish();
  if (threads > 0) set_num_threads(static_cast<int>(threads));
  for (const auto& m : methods) {
    try {
      if (m != "equal") weighting::make_balancer<F>(m);
    } catch (const std::exception& e) {
      std::cerr << "scene_mtl: " << e.what() << "\n";
      return 2;
    }
  }
  const auto train_set =
      data::make_synthetic_scenes<F>(data::SceneOptions().samples(samples).seed(s.fit.seed));
  const auto test_set = data::make_synthetic_scenes<F>(
      data::SceneOptions().samples(std::max<long>(200, samples / 4)).seed(s.fit.seed + 1000));
  s.train = &train_set;
  s.test = &test_set;
  std::printf(
      "synthetic scenes: %ld train / %ld test images (3x32x32), %ld epochs, batch %ld, "
      "%d thread(s)\n",
      static_cast<long>(train_set.size()), static_cast<long>(test_set.size()), s.fit.epochs,
      s.fit.batch, get_num_threads());

  const std::vector<std::string> tasks = {"scene", "box", "mask"};
  struct Row {
    std::string model;
    model::EvalReport report;
    double dm, seconds;
  };
  std::vector<Row> rows;
  std::vector<model::EvalReport> singles;
  double single_seconds = 0;
  for (const auto& t : tasks) {
    double sec = 0;
    singles.push_back(train_model(s, {t}, "", sec));
    single_seconds += sec;
  }
  const model::EvalReport baseline = model::merge_reports(singles);
  rows.push_back({"single-task", baseline, 0.0, single_seconds});
  for (const auto& m : methods) {
    double sec = 0;
    const model::EvalReport rep = train_model(s, tasks, m, sec);
    rows.push_back({m, rep, model::delta_m(rep, baseline), sec});
  }

  std::printf("\n%-13s %9s %8s %8s %8s %9s %8s %9s\n", "model", "scene acc", "box IoU", "box MAE",
              "mask mIoU", "pixel acc", "dm (%)", "time (s)");
  for (const auto& r : rows)
    std::printf("%-13s %9.4f %8.4f %8.4f %9.4f %9.4f %+8.2f %9.1f\n", r.model.c_str(),
                r.report.get("scene", "accuracy"), r.report.get("box", "box_iou"),
                r.report.get("box", "mae"), r.report.get("mask", "miou"),
                r.report.get("mask", "pixel_accuracy"), r.dm, r.seconds);
  std::printf(
      "(single-task: three networks, time is their sum; dm over scene accuracy, box IoU "
      "and mask mIoU, in %%)\n");
  if (!csv.empty()) {
    std::ofstream f(csv);
    f << "model,scene_accuracy,box_iou,box_mae,mask_miou,pixel_accuracy,delta_m_percent,seconds\n";
    for (const auto& r : rows)
      f << r.model << "," << r.report.get("scene", "accuracy") << ","
        << r.report.get("box", "box_iou") << "," << r.report.get("box", "mae") << ","
        << r.report.get("mask", "miou") << "," << r.report.get("mask", "pixel_accuracy") << ","
        << r.dm << "," << r.seconds << "\n";
    if (!f) {
      std::cerr << "scene_mtl: cannot write " << csv << "\n";
      return 1;
    }
    std::printf("wrote %s\n", csv.c_str());
  }
  return 0;
}
