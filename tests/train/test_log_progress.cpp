// Tests of the Trainer's outputs: CSV and JSON-lines logs (parsed back and compared with the
// history), appending on resume, and the progress display (one plain line per epoch when the
// stream is not a terminal, a redrawn bar when it is, nothing when silenced).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "onestone/io/json.hpp"
#include "onestone/onestone.hpp"
#include "onestone/train/trainer.hpp"
#include "trainer_test_util.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_train_log_progress {

using namespace onestone;
using trainer_test::quiet;
using trainer_test::read_lines;
using trainer_test::Rig;
using trainer_test::TempDir;

namespace {

// Column name -> cell of one CSV row.
std::map<std::string, std::string> row_of(const std::vector<std::string>& header,
                                          const std::string& line) {
  const auto cells = train::detail::split_csv(line);
  REQUIRE(cells.size() == header.size());
  std::map<std::string, std::string> m;
  for (std::size_t i = 0; i < header.size(); ++i) m[header[i]] = cells[i];
  return m;
}

double num(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

}  // namespace

TEST_CASE("trainer log: CSV and JSON lines hold the epoch records", "[train][log]") {
  TempDir dir;
  const std::string csv = dir.file("log.csv"), jsonl = dir.file("log.jsonl");
  Rig<double> r(2, 16, true, "", false, 160, {1.0, 0.5});
  optim::StepLR<double> sched(*r.opt, 1, 0.5);
  train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                           quiet().epochs(3).log_csv(csv).log_jsonl(jsonl));
  t.set_validation(*r.val_loader).set_scheduler(sched);
  const auto s = t.fit();
  REQUIRE(s.history.size() == 3);

  const auto lines = read_lines(csv);
  REQUIRE(lines.size() == 4);  // header once + one line per epoch
  const auto header = train::detail::split_csv(lines[0]);
  const std::vector<std::string> want = {"kind",
                                         "epoch",
                                         "step",
                                         "elapsed_s",
                                         "lr",
                                         "train_loss",
                                         "train_loss/task0",
                                         "train_loss/task1",
                                         "weight/task0",
                                         "weight/task1",
                                         "val/task0/loss",
                                         "val/task0/mse"};
  for (const auto& c : want) CHECK(std::find(header.begin(), header.end(), c) != header.end());
  for (int e = 0; e < 3; ++e) {
    const auto row = row_of(header, lines[static_cast<std::size_t>(e) + 1]);
    const auto& h = s.history[static_cast<std::size_t>(e)];
    CHECK(row.at("kind") == "epoch");
    CHECK(row.at("epoch") == std::to_string(e + 1));
    CHECK(row.at("step") == std::to_string(8 * (e + 1)));
    // shortest round-trip numbers: read back exactly
    CHECK(num(row.at("train_loss/task0")) == h.train_losses[0]);
    CHECK(num(row.at("train_loss/task1")) == h.train_losses[1]);
    CHECK(num(row.at("train_loss")) == h.train_total);
    CHECK(num(row.at("weight/task0")) == 1.0);
    CHECK(num(row.at("weight/task1")) == 0.5);
    CHECK(num(row.at("lr")) == 0.01 / (1 << e));
    CHECK(num(row.at("val/task1/mse")) == h.validation.get("task1", "mse"));
    CHECK(num(row.at("elapsed_s")) >= 0.0);
  }

  const auto jl = read_lines(jsonl);
  REQUIRE(jl.size() == 3);
  for (int e = 0; e < 3; ++e) {
    const auto v = io::parse_json(jl[static_cast<std::size_t>(e)]);
    const auto& h = s.history[static_cast<std::size_t>(e)];
    CHECK(v.find("kind")->as_string() == "epoch");
    CHECK(v.find("epoch")->as_int() == e + 1);
    CHECK(v.find("step")->as_int() == 8 * (e + 1));
    CHECK(v.find("train_losses")->find("task0")->as_number() == h.train_losses[0]);
    CHECK(v.find("weights")->find("task1")->as_number() == 0.5);
    CHECK(v.find("val")->find("task0")->find("mse")->as_number() ==
          h.validation.get("task0", "mse"));
    CHECK(v.find("val")->find("task0")->find("loss")->as_number() ==
          h.validation.task("task0").loss);
    CHECK(v.find("lr")->as_number() == h.lr);
    CHECK(v.find("monitor")->as_number() == h.monitor);
  }
}

TEST_CASE("trainer log: step records, header waits for validation", "[train][log]") {
  TempDir dir;
  const std::string csv = dir.file("log.csv"), jsonl = dir.file("log.jsonl");
  Rig<double> r(2);
  train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                           quiet().epochs(2).log_every_steps(3).log_csv(csv).log_jsonl(jsonl));
  t.set_validation(*r.val_loader);
  t.fit();
  const auto lines = read_lines(csv);
  // steps 3, 6 (epoch 1), epoch 1, steps 9, 12, 15 (epoch 2), epoch 2
  REQUIRE(lines.size() == 1 + 7);
  const auto header = train::detail::split_csv(lines[0]);
  CHECK(std::find(header.begin(), header.end(), "val/task0/mse") != header.end());
  const auto first = row_of(header, lines[1]);
  CHECK(first.at("kind") == "step");
  CHECK(first.at("step") == "3");
  CHECK(first.at("val/task0/mse").empty());  // no evaluation yet
  CHECK(row_of(header, lines[3]).at("kind") == "epoch");
  CHECK_FALSE(row_of(header, lines[4]).at("val/task0/mse").empty());  // latest evaluation
  CHECK(read_lines(jsonl).size() == 7);
}

TEST_CASE("trainer log: a resumed run appends under the same header", "[train][log]") {
  TempDir dir;
  const std::string csv = dir.file("log.csv"), last = dir.file("last.safetensors");
  {
    Rig<double> r(2);
    train::Trainer<double> t(*r.model, *r.opt, *r.train_loader,
                             quiet().epochs(1).log_csv(csv).checkpoint_last(last));
    t.set_validation(*r.val_loader);
    t.fit();
  }
  Rig<double> r(2);
  train::Trainer<double> t(*r.model, *r.opt, *r.train_loader, quiet().epochs(3).log_csv(csv));
  t.set_validation(*r.val_loader);
  t.resume(last);
  t.fit();
  const auto lines = read_lines(csv);
  REQUIRE(lines.size() == 4);
  const auto header = train::detail::split_csv(lines[0]);
  for (int e = 1; e <= 3; ++e)
    CHECK(row_of(header, lines[static_cast<std::size_t>(e)]).at("epoch") == std::to_string(e));
}

TEST_CASE("trainer log: CSV cells with commas and quotes round-trip", "[train][log]") {
  CHECK(train::detail::csv_cell("a,b") == "\"a,b\"");
  CHECK(train::detail::csv_cell("say \"hi\"") == "\"say \"\"hi\"\"\"");
  const auto cells = train::detail::split_csv("x,\"a,b\",\"say \"\"hi\"\"\",");
  REQUIRE(cells.size() == 4);
  CHECK(cells[1] == "a,b");
  CHECK(cells[2] == "say \"hi\"");
  CHECK(cells[3].empty());
  CHECK(train::detail::json_string("a\"b\n") == "\"a\\\"b\\n\"");
  CHECK(train::detail::json_number(std::nan("")) == "null");
}

TEST_CASE("trainer progress: not a terminal -> one plain line per epoch", "[train][progress]") {
  std::ostringstream out;
  Rig<double> r(2);
  train::Trainer<double> t(
      *r.model, *r.opt, *r.train_loader,
      train::TrainerOptions().epochs(3).progress_stream(out).progress_terminal(false));
  t.set_validation(*r.val_loader);
  t.fit();
  const std::string text = out.str();
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find('\033') == std::string::npos);
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == 3);
  for (int e = 0; e < 3; ++e) {
    INFO(lines[static_cast<std::size_t>(e)]);
    CHECK(lines[static_cast<std::size_t>(e)].rfind("epoch " + std::to_string(e + 1) + "/3", 0) ==
          0);
    CHECK(lines[static_cast<std::size_t>(e)].find("task0") != std::string::npos);
    CHECK(lines[static_cast<std::size_t>(e)].find("val mean_primary") != std::string::npos);
  }
}

TEST_CASE("trainer progress: a terminal gets a redrawn bar and silence prints nothing",
          "[train][progress]") {
  {
    std::ostringstream out;
    Rig<double> r(2);
    train::Trainer<double> t(
        *r.model, *r.opt, *r.train_loader,
        train::TrainerOptions().epochs(1).progress_stream(out).progress_terminal(true));
    t.fit();
    const std::string text = out.str();
    CHECK(text.find('\r') != std::string::npos);
    CHECK(text.find("it/s") != std::string::npos);
    CHECK(text.find("eta") != std::string::npos);
    CHECK(text.find("task1") != std::string::npos);
    CHECK(text.back() == '\n');
  }
  {
    std::ostringstream out;
    Rig<double> r(2);
    train::Trainer<double> t(
        *r.model, *r.opt, *r.train_loader,
        train::TrainerOptions().epochs(2).progress_stream(out).progress(false));
    t.fit();
    CHECK(out.str().empty());
  }
  {
    std::ostringstream out;
    train::TrainingProgress p(out, false);
    p.set_tasks({"a"});
    p.start_epoch(1, 1, 10);
    for (int i = 1; i <= 10; ++i) p.update(i, {0.5});
    CHECK(out.str().empty());  // no bar redraws off a terminal
  }
}

}  // namespace test_train_log_progress
