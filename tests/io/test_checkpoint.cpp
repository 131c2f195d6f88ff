// Tests for training checkpoints: bitwise-identical resume (model, Adam state, scheduler,
// data loader, generators), metadata round trip, and all-or-nothing loading.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "io_test_util.hpp"
#include "onestone/autograd/ops/unary.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/loader.hpp"
#include "onestone/io/checkpoint.hpp"
#include "onestone/losses/regression.hpp"
#include "onestone/nn/dropout.hpp"
#include "onestone/nn/linear.hpp"
#include "onestone/optim/adam.hpp"
#include "onestone/optim/scheduler.hpp"
#include "onestone/optim/sgd.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_io_checkpoint {

using namespace onestone;
using Catch::Matchers::Contains;

namespace {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Fixed regression data: x [8, 3], y [8, 2].
Tensor<double> fixed_x() {
  Tensor<double> x({8, 3});
  for (Index i = 0; i < x.numel(); ++i) x[i] = std::sin(0.7 * static_cast<double>(i)) + 0.1;
  return x;
}
Tensor<double> fixed_y() {
  Tensor<double> y({8, 2});
  for (Index i = 0; i < y.numel(); ++i) y[i] = std::cos(0.3 * static_cast<double>(i));
  return y;
}

std::vector<double> params_of(const nn::Module<double>& m) {
  std::vector<double> out;
  for (auto* p : m.parameters()) out.insert(out.end(), p->value().begin(), p->value().end());
  return out;
}

// The libtorch-style loop on fixed data; returns the losses.
std::vector<double> train_steps(nn::Linear<double>& fc, optim::Optimizer<double>& opt, int steps,
                                const Tensor<double>& x, const Tensor<double>& y) {
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    auto loss = losses::mse_loss(fc.forward(Var<double>::from(x)), y);
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  return losses;
}

}  // namespace

TEST_CASE("checkpoint: resuming Linear + Adam is bitwise identical", "[io][checkpoint]") {
  io_test::TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  const Tensor<double> x = fixed_x(), y = fixed_y();

  nn::Linear<double> fc(nn::LinearOptions(3, 2).seed(11));
  optim::Adam<double> opt(fc.parameters(), optim::AdamOptions(0.05));
  train_steps(fc, opt, 10, x, y);
  io::CheckpointState<double> ckpt(fc, opt);
  ckpt.step = 10;
  io::save_checkpoint(path, ckpt);
  const std::vector<double> losses_a = train_steps(fc, opt, 10, x, y);
  const std::vector<double> params_a = params_of(fc);

  nn::Linear<double> fc2(nn::LinearOptions(3, 2).seed(999));
  optim::Adam<double> opt2(fc2.parameters(), optim::AdamOptions(0.05));
  REQUIRE(params_of(fc2) != params_of(fc));
  io::CheckpointState<double> ckpt2(fc2, opt2);
  io::load_checkpoint(path, ckpt2);
  CHECK(ckpt2.step == 10);
  CHECK(opt2.step_count() == 10);
  const std::vector<double> losses_b = train_steps(fc2, opt2, 10, x, y);
  const std::vector<double> params_b = params_of(fc2);

  REQUIRE(losses_a == losses_b);
  REQUIRE(params_a == params_b);
  REQUIRE(losses_b.back() < losses_b.front());

  // The file is plain safetensors with the documented names.
  std::map<std::string, std::string> meta;
  const auto t = io::read_safetensors(path, &meta);
  CHECK(t.count("model.weight") == 1);
  CHECK(t.count("model.bias") == 1);
  CHECK(t.count("optim.exp_avg.0") == 1);
  CHECK(t.count("optim.exp_avg_sq.1") == 1);
  CHECK(t.at("model.weight").dtype == "F64");
  CHECK(meta.at("format") == "onestone.checkpoint");
  CHECK(meta.at("optimizer") == "Adam");
  CHECK(meta.at("optimizer.step_count") == "10");
  CHECK(meta.at("optimizer.lr") == "0.05");
  CHECK(meta.at("step") == "10");
}

namespace {

// Linear -> ReLU -> Dropout -> Linear, trained from a shuffling DataLoader with a StepLR
// schedule and input noise from a Generator: resuming must restore all of them.
struct Net : nn::Module<double> {
  std::shared_ptr<nn::Linear<double>> fc1, fc2;
  std::shared_ptr<nn::Dropout<double>> drop;
  explicit Net(std::uint64_t seed) {
    fc1 = register_module("fc1",
                          std::make_shared<nn::Linear<double>>(nn::LinearOptions(3, 5).seed(seed)));
    drop = register_module("drop", std::make_shared<nn::Dropout<double>>(0.2, seed + 1));
    fc2 = register_module(
        "fc2", std::make_shared<nn::Linear<double>>(nn::LinearOptions(5, 2).seed(seed + 2)));
  }
  Var<double> forward(const Var<double>& x) override {
    return fc2->forward(drop->forward(relu(fc1->forward(x))));
  }
};

struct Run {
  Net net;
  optim::Adam<double> opt;
  optim::StepLR<double> sched;
  data::DataLoader<double> loader;
  Generator noise;
  data::Batch<double> batch;
  Run(std::uint64_t seed, const data::Dataset<double>& ds)
      : net(seed),
        opt(net.parameters(), optim::AdamOptions(0.02)),
        sched(opt, 3, 0.5),
        loader(ds, data::LoaderOptions().batch_size(3).shuffle(true).seed(seed + 5)),
        noise(seed + 7) {}
  io::CheckpointState<double> state() {
    io::CheckpointState<double> s(net, opt);
    s.scheduler = &sched;
    s.loader = &loader;
    s.generators = {&net.drop->generator(), &noise};
    return s;
  }
  std::vector<double> steps(int n) {
    std::vector<double> out;
    for (int s = 0; s < n; ++s) {
      if (!loader.next(batch)) {
        loader.start_epoch();
        REQUIRE(loader.next(batch));
      }
      Tensor<double> x = batch.x;
      for (Index i = 0; i < x.numel(); ++i) x[i] += 0.01 * noise.normal();
      opt.zero_grad();
      auto loss = losses::mse_loss(net.forward(Var<double>::from(x)), batch.targets[0].values);
      loss.backward();
      opt.step();
      sched.step();
      out.push_back(loss.item());
    }
    return out;
  }
};

}  // namespace

TEST_CASE("checkpoint: resuming restores scheduler, loader and generators exactly",
          "[io][checkpoint]") {
  io_test::TempDir dir;
  const std::string path = dir.file("full.safetensors");
  Tensor<double> xs({10, 3}), ys({10, 2});
  for (Index i = 0; i < xs.numel(); ++i) xs[i] = std::sin(1.3 * static_cast<double>(i));
  for (Index i = 0; i < ys.numel(); ++i) ys[i] = std::cos(0.4 * static_cast<double>(i));
  data::Dataset<double> ds(xs);
  ds.add_regression("y", ys);

  Run a(1, ds);
  a.steps(7);  // mid-epoch (10 samples, batches of 3), odd number of normal draws
  const auto state_a = a.state();
  io::CheckpointState<double> sa = state_a;
  sa.step = 7;
  sa.metadata = {{"note", "mid-epoch"}, {"lr_hex", "0x1.999999999999ap-4"}};
  io::save_checkpoint(path, sa);
  const std::vector<double> losses_a = a.steps(12);

  Run b(50, ds);
  b.steps(2);  // a different position, to be overwritten
  io::CheckpointState<double> sb = b.state();
  io::load_checkpoint(path, sb);
  CHECK(sb.step == 7);
  CHECK(sb.metadata == std::map<std::string, std::string>{{"note", "mid-epoch"},
                                                          {"lr_hex", "0x1.999999999999ap-4"}});
  CHECK(b.sched.count() == 7);
  CHECK(b.loader.epoch() == 2);
  CHECK(b.loader.cursor() == 9);
  const std::vector<double> losses_b = b.steps(12);
  REQUIRE(losses_a == losses_b);
  REQUIRE(params_of(a.net) == params_of(b.net));
  REQUIRE(a.opt.lr() == b.opt.lr());
  REQUIRE(a.noise.next_u64() == b.noise.next_u64());
}

TEST_CASE("checkpoint: learning rate and generator spares round trip exactly", "[io][checkpoint]") {
  io_test::TempDir dir;
  const std::string path = dir.file("lr.safetensors");
  nn::Linear<double> fc(nn::LinearOptions(2, 2).seed(1));
  optim::SGD<double> opt(fc.parameters(), optim::SGDOptions(0.1).momentum(0.9));
  const double lrs[] = {0.1 + 0.2, 1e-300, 5e-324, 0.0, 1.0 / 3.0, 123456789.123456789};
  Generator g(3);
  g.normal();  // leaves a spare
  REQUIRE(g.state().has_spare);
  for (double lr : lrs) {
    opt.set_lr(lr);
    io::save_checkpoint(path, fc, opt, nullptr, nullptr, {&g}, {{"k", "v"}}, 42);
    optim::SGD<double> opt2(fc.parameters(), optim::SGDOptions(0.5).momentum(0.9));
    Generator g2(0);
    const auto info = io::load_checkpoint(path, fc, opt2, nullptr, nullptr, {&g2});
    CHECK(info.step == 42);
    CHECK(info.metadata.at("k") == "v");
    std::uint64_t a, b;
    const double got = opt2.lr();
    std::memcpy(&a, &lr, 8);
    std::memcpy(&b, &got, 8);
    CHECK(a == b);
    const auto sa = g.state(), sb = g2.state();
    CHECK(std::memcmp(sa.s, sb.s, sizeof sa.s) == 0);
    CHECK(sa.has_spare == sb.has_spare);
    CHECK(sa.spare == sb.spare);
  }
}

TEST_CASE("checkpoint: loading is all-or-nothing", "[io][checkpoint]") {
  io_test::TempDir dir;
  const std::string path = dir.file("c.safetensors");
  const Tensor<double> x = fixed_x(), y = fixed_y();
  nn::Linear<double> fc(nn::LinearOptions(3, 2).seed(1));
  optim::Adam<double> opt(fc.parameters(), optim::AdamOptions(0.05));
  optim::StepLR<double> sched(opt, 5);
  Generator g(1);
  train_steps(fc, opt, 3, x, y);
  {
    io::CheckpointState<double> s(fc, opt);
    s.scheduler = &sched;
    s.generators = {&g};
    io::save_checkpoint(path, s);
  }

  // A fresh run whose state must survive every failed load untouched.
  nn::Linear<double> fc2(nn::LinearOptions(3, 2).seed(2));
  optim::Adam<double> opt2(fc2.parameters(), optim::AdamOptions(0.01));
  optim::StepLR<double> sched2(opt2, 5);
  Generator g2(2);
  train_steps(fc2, opt2, 1, x, y);
  sched2.step();
  const auto before_params = params_of(fc2);
  const auto before_m = opt2.state_tensors()[0].second->vector().eval();
  const auto check_unchanged = [&] {
    CHECK(params_of(fc2) == before_params);
    CHECK(opt2.state_tensors()[0].second->vector() == before_m);
    CHECK(opt2.step_count() == 1);
    CHECK(opt2.lr() == sched2.lr_at(1));
    CHECK(sched2.count() == 1);
    CHECK(g2.state().s[0] == Generator(2).state().s[0]);
  };

  SECTION("wrong model shape") {
    nn::Linear<double> wide(nn::LinearOptions(3, 4).seed(2));
    optim::Adam<double> wopt(wide.parameters());
    io::CheckpointState<double> s(wide, wopt);
    const std::string e = error_of([&] { io::load_checkpoint(path, s); });
    CHECK_THAT(e, Contains("nothing was changed"));
    CHECK_THAT(e, Contains("tensor 'model.weight' (data at byte offset"));
    CHECK_THAT(e, Contains("has shape [2, 3] but parameter 'weight' has shape [4, 3]"));
    CHECK_THAT(e, Contains("has shape [2, 3] but optimizer state 'exp_avg.0' has shape [4, 3]"));
  }
  SECTION("wrong optimizer, generator count, missing scheduler state") {
    {
      io::CheckpointState<double> s(fc, opt);  // no scheduler, no generators saved
      io::save_checkpoint(dir.file("plain.safetensors"), s);
    }
    optim::SGD<double> sgd(fc2.parameters(), optim::SGDOptions(0.1).momentum(0.9));
    io::CheckpointState<double> s(fc2, sgd);
    const std::string e = error_of([&] { io::load_checkpoint(path, s); });
    CHECK_THAT(e, Contains("the checkpoint's optimizer is Adam, this one is SGD"));
    CHECK_THAT(e, Contains("has no tensor 'optim.momentum_buffer.0'"));
    CHECK_THAT(e, Contains("tensor 'optim.exp_avg.0' (data at byte offset"));

    io::CheckpointState<double> s2(fc2, opt2);
    s2.scheduler = &sched2;
    s2.generators = {&g2, &g2};
    const std::string e2 =
        error_of([&] { io::load_checkpoint(dir.file("plain.safetensors"), s2); });
    CHECK_THAT(e2, Contains("metadata \"scheduler.count\" is missing"));
    CHECK_THAT(e2, Contains("the checkpoint holds 0 generator states, 2 generators were given"));
  }
  SECTION("not a checkpoint, or corrupt") {
    io::save_parameters(fc, dir.file("params.safetensors"));
    io::CheckpointState<double> s(fc2, opt2);
    CHECK_THROWS_WITH(io::load_checkpoint(dir.file("params.safetensors"), s),
                      Contains("is a safetensors file but not an onestone checkpoint"));
    io_test::Bytes blob = io_test::read_bytes(path);
    blob.resize(blob.size() - 8);
    io_test::write_bytes(dir.file("cut.safetensors"), blob);
    CHECK_THROWS_WITH(io::load_checkpoint(dir.file("cut.safetensors"), s),
                      Contains("exceed the data section"));
  }
  SECTION("bad scalars") {
    std::map<std::string, std::string> meta;
    auto tensors = io::read_safetensors(path, &meta);
    meta["optimizer.lr"] = "fast";
    meta["generator.0.state"] = "1 2 3";
    meta["step"] = "12x";
    io::write_safetensors(dir.file("bad.safetensors"), tensors, meta);
    io::CheckpointState<double> s(fc2, opt2);
    s.generators = {&g2};
    const std::string e = error_of([&] { io::load_checkpoint(dir.file("bad.safetensors"), s); });
    CHECK_THAT(e, Contains("3 problems"));
    CHECK_THAT(e, Contains("metadata \"optimizer.lr\" = \"fast\" is not a valid number"));
    CHECK_THAT(e, Contains("\"generator.0.state\" = \"1 2 3\" is not four unsigned 64-bit words"));
    CHECK_THAT(e, Contains("metadata \"step\" = \"12x\" is not a valid integer"));
  }
  SECTION("a loader position that does not fit the dataset") {
    Tensor<double> big({10, 3});
    data::Dataset<double> ds10(big);
    data::DataLoader<double> loader(ds10, data::LoaderOptions().batch_size(4));
    data::Batch<double> batch;
    loader.next(batch);
    loader.next(batch);
    loader.next(batch);  // cursor 10
    io::CheckpointState<double> s(fc, opt);
    s.loader = &loader;
    io::save_checkpoint(dir.file("loader.safetensors"), s);
    Tensor<double> small({5, 3});
    data::Dataset<double> ds5(small);
    data::DataLoader<double> loader5(ds5);
    io::CheckpointState<double> s2(fc2, opt2);
    s2.loader = &loader5;
    CHECK_THROWS_WITH(
        io::load_checkpoint(dir.file("loader.safetensors"), s2),
        Contains("data loader cursor 10 of epoch 1 does not fit a dataset of 5 samples"));
    CHECK(loader5.epoch() == 0);
  }
  check_unchanged();
  // And the original file still loads.
  io::CheckpointState<double> ok(fc2, opt2);
  ok.scheduler = &sched2;
  ok.generators = {&g2};
  io::load_checkpoint(path, ok);
  CHECK(params_of(fc2) == params_of(fc));
  CHECK(opt2.step_count() == 3);
  CHECK(sched2.count() == 0);
  CHECK(g2.state().s[0] == g.state().s[0]);
}

TEST_CASE("checkpoint: null model or generator is refused", "[io][checkpoint]") {
  io::CheckpointState<double> s;
  CHECK_THROWS_AS(io::save_checkpoint("/tmp/never.safetensors", s), std::invalid_argument);
  CHECK_THROWS_AS(io::load_checkpoint("/tmp/never.safetensors", s), std::invalid_argument);
  nn::Linear<double> fc(nn::LinearOptions(1, 1));
  optim::SGD<double> opt(fc.parameters(), optim::SGDOptions(0.1));
  io::CheckpointState<double> s2(fc, opt);
  s2.generators = {nullptr};
  CHECK_THROWS_WITH(io::save_checkpoint("/tmp/never.safetensors", s2),
                    Contains("generator 0 is null"));
}

}  // namespace test_io_checkpoint
