// Serving: predict() from several threads at once on one model gives the single-thread result
// bit for bit (also run under ThreadSanitizer by .ci/run); the batch-1 path (a packed copy of
// each weight, LinearOptions::inference_cache, split across persistent workers) follows weight
// changes and gives the same bits as the ordinary product on any number of threads.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_model_predict_threads {

using namespace onestone;

namespace {
template <typename T>
std::unique_ptr<MultiTaskModel<T>> serving_model() {
  auto trunk = std::make_shared<nn::MLP<T>>(nn::MLPOptions({20, 32, 16}).seed(1));
  auto m =
      std::make_unique<MultiTaskModel<T>>(std::make_shared<sharing::HardSharing<T>>(trunk, 16));
  m->add_task(TaskOptions<T>("a")
                  .head(std::make_shared<nn::Linear<T>>(
                      nn::LinearOptions(16, 3).seed(2).inference_cache(true)))
                  .loss(LossKind::CrossEntropy));
  m->add_task(TaskOptions<T>("b")
                  .head(std::make_shared<nn::Linear<T>>(
                      nn::LinearOptions(16, 1).seed(3).inference_cache(true)))
                  .loss(LossKind::MSE));
  return m;
}
template <typename T>
Tensor<T> inputs(Index rows, std::uint64_t seed) {
  Generator g(seed);
  Tensor<T> x({rows, 20});
  for (Index k = 0; k < x.numel(); ++k) x[k] = static_cast<T>(g.normal());
  return x;
}
}  // namespace

TEST_CASE("predict from four threads at once equals the single-thread result", "[model][serving]") {
  auto model = serving_model<float>();
  std::vector<Tensor<float>> xs;
  for (int i = 0; i < 8; ++i) xs.push_back(inputs<float>(i % 2 ? 1 : 5, 10 + i));  // batch 1 and 5
  std::vector<std::vector<Tensor<float>>> want;
  for (const auto& x : xs) want.push_back(model->predict(x));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th)
    threads.emplace_back([&, th] {
      std::vector<Tensor<float>> out;
      for (int it = 0; it < 50; ++it) {
        const std::size_t k = static_cast<std::size_t>((th + it) % 8);
        model->predict(xs[k], out);
        for (std::size_t t = 0; t < out.size(); ++t)
          for (Index j = 0; j < out[t].numel(); ++j)
            if (out[t][j] != want[k][t][j]) ++mismatches[static_cast<std::size_t>(th)];
      }
    });
  for (auto& t : threads) t.join();
  for (int m : mismatches) CHECK(m == 0);
}

TEST_CASE("batch-1 predictions follow weight changes", "[model][serving]") {
  auto model = serving_model<double>();
  const Tensor<double> x5 = inputs<double>(5, 3);
  Tensor<double> x1({1, 20});
  std::copy(x5.data(), x5.data() + 20, x1.data());
  auto check_row0 = [&] {
    const auto many = model->predict(x5);  // the general product
    const auto one = model->predict(x1);   // the transposed-weight path
    for (std::size_t t = 0; t < 2; ++t)
      for (Index j = 0; j < one[t].numel(); ++j)
        CHECK(one[t][j] == Approx(many[t][j]).epsilon(1e-13));
  };
  check_row0();
  // An optimizer step, set_value, a write through value(): each is seen by the next predict.
  optim::SGD<double> opt(model->parameters(), optim::SGDOptions(0.1));
  data::Dataset<double> ds(inputs<double>(8, 4));
  Tensor<std::int64_t> la({8});
  for (Index i = 0; i < 8; ++i) la[i] = i % 3;
  Tensor<double> yb({8, 1});
  for (Index i = 0; i < 8; ++i) yb[i] = 0.1 * static_cast<double>(i);
  ds.add_classification("a", la, 3).add_regression("b", yb);
  data::DataLoader<double> loader(ds, data::LoaderOptions().batch_size(8));
  train::TrainStep<double> step(*model, opt);
  const auto before = model->predict(x1);
  for (const auto& b : loader) step(b);
  const auto after = model->predict(x1);
  CHECK(after[0][0] != before[0][0]);
  check_row0();
  nn::Parameter<double>* head = model->parameters().back();  // heads.b.bias
  head->value()[0] += 1.0;
  check_row0();
  Tensor<double> w = model->parameters()[0]->value();
  w[0] += 0.5;
  model->parameters()[0]->set_value(w);
  check_row0();
}

namespace {
// Large enough that the trunk's products are split across threads (≥ 2^15 multiply-adds).
template <typename T>
std::unique_ptr<MultiTaskModel<T>> wide_model(bool packed) {
  auto trunk = std::make_shared<nn::MLP<T>>(nn::MLPOptions({300, 128, 64}).seed(5));
  if (!packed)
    for (auto& named : trunk->named_modules())
      if (auto* fc = dynamic_cast<nn::Linear<T>*>(named.second)) fc->set_inference_cache(false);
  auto m =
      std::make_unique<MultiTaskModel<T>>(std::make_shared<sharing::HardSharing<T>>(trunk, 64));
  m->add_task(TaskOptions<T>("a")
                  .head(std::make_shared<nn::Linear<T>>(
                      nn::LinearOptions(64, 10).seed(6).inference_cache(packed)))
                  .loss(LossKind::CrossEntropy));
  m->add_task(TaskOptions<T>("b")
                  .head(std::make_shared<nn::Linear<T>>(
                      nn::LinearOptions(64, 1).seed(7).inference_cache(packed)))
                  .loss(LossKind::MSE));
  return m;
}
template <typename T>
Tensor<T> wide_inputs(Index rows, std::uint64_t seed) {
  Generator g(seed);
  Tensor<T> x({rows, 300});
  for (Index k = 0; k < x.numel(); ++k) x[k] = static_cast<T>(g.normal());
  return x;
}
template <typename T>
int count_diffs(const std::vector<Tensor<T>>& a, const std::vector<Tensor<T>>& b) {
  int d = 0;
  for (std::size_t t = 0; t < a.size(); ++t)
    for (Index j = 0; j < a[t].numel(); ++j) d += a[t][j] != b[t][j];
  return d;
}
}  // namespace

TEMPLATE_TEST_CASE("batch-1 predict gives the same bits on 1 and 2 threads, packed or not",
                   "[model][serving]", float, double) {
  using T = TestType;
  auto packed = wide_model<T>(true);
  auto plain = wide_model<T>(false);
  const Tensor<T> x = wide_inputs<T>(1, 9);
  set_num_threads(1);
  const auto want = plain->predict(x);
  // The training forward at batch 1 (gradients on) takes the ordinary product too.
  std::vector<Tensor<T>> train(2);
  {
    GraphScope<T> scope(autograd::Tape<T>::current());
    const auto& outs = packed->forward_tasks(x);
    for (std::size_t t = 0; t < 2; ++t) {
      train[t].resize(outs[t].shape());
      std::copy(outs[t].data(), outs[t].data() + outs[t].numel(), train[t].data());
    }
  }
  CHECK(count_diffs(want, train) == 0);
  auto fc0 = [](MultiTaskModel<T>& m) -> nn::Linear<T>& {
    auto& trunk = dynamic_cast<sharing::HardSharing<T>&>(m.strategy()).trunk();
    for (auto& named : trunk.named_modules())
      if (auto* fc = dynamic_cast<nn::Linear<T>*>(named.second)) return *fc;
    throw std::logic_error("no Linear in the trunk");
  };
  CHECK_FALSE(fc0(*packed).has_inference_cache());  // the training forward made no copy
  CHECK(count_diffs(want, packed->predict(x)) == 0);
  const bool own_kernels = autograd::detail::gemm_isa_setting() != autograd::detail::GemmIsa::Eigen;
  CHECK(fc0(*packed).has_inference_cache() == own_kernels);
  CHECK_FALSE(fc0(*plain).has_inference_cache());
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    for (int call = 0; call < 3; ++call) {  // calls alternate the walking direction
      INFO("threads=" << threads << " call=" << call);
      CHECK(count_diffs(want, packed->predict(x)) == 0);
      CHECK(count_diffs(want, plain->predict(x)) == 0);
    }
  }
  set_num_threads(1);
}

TEST_CASE("predict on 2 threads from four callers at once equals the single-thread result",
          "[model][serving]") {
  auto model = wide_model<float>(true);
  std::vector<Tensor<float>> xs;
  for (int i = 0; i < 6; ++i) xs.push_back(wide_inputs<float>(i % 3 ? 1 : 4, 20 + i));
  set_num_threads(1);
  std::vector<std::vector<Tensor<float>>> want;
  for (const auto& x : xs) want.push_back(model->predict(x));
  set_num_threads(2);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th)
    threads.emplace_back([&, th] {
      std::vector<Tensor<float>> out;
      for (int it = 0; it < 60; ++it) {
        const std::size_t k = static_cast<std::size_t>((th + it) % 6);
        model->predict(xs[k], out);
        mismatches[static_cast<std::size_t>(th)] += count_diffs(out, want[k]);
      }
    });
  for (auto& t : threads) t.join();
  set_num_threads(1);
  for (int m : mismatches) CHECK(m == 0);
}

// Without OpenMP get_num_threads() is 1 and predict stays on the caller, so the split product
// and its persistent workers are exercised here directly (this file also runs under
// ThreadSanitizer, without OpenMP).
TEST_CASE("the split batch-1 product is race-free under concurrent callers", "[model][serving]") {
  using autograd::detail::GemmIsa;
  using autograd::detail::PackedRows;
  const GemmIsa isa = autograd::detail::best_gemm_isa();
  if (isa == GemmIsa::Eigen) return;
  const Index N = 200, K = 300;
  Generator g(4);
  std::vector<float> w(static_cast<std::size_t>(N * K)), b(static_cast<std::size_t>(N));
  for (auto& e : w) e = static_cast<float>(g.uniform(-1, 1));
  for (auto& e : b) e = static_cast<float>(g.uniform(-1, 1));
  PackedRows<float> p;
  REQUIRE(p.pack(w.data(), N, K, isa));
  std::vector<std::vector<float>> xs(4, std::vector<float>(static_cast<std::size_t>(K)));
  std::vector<std::vector<float>> want(4, std::vector<float>(static_cast<std::size_t>(N)));
  for (std::size_t i = 0; i < 4; ++i) {
    for (auto& e : xs[i]) e = static_cast<float>(g.uniform(-1, 1));
    p.multiply(xs[i].data(), b.data(), want[i].data(), 1);
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th)
    threads.emplace_back([&, th] {
      std::vector<float> y(static_cast<std::size_t>(N));
      for (int it = 0; it < 200; ++it) {
        const std::size_t k = static_cast<std::size_t>((th + it) % 4);
        p.multiply(xs[k].data(), b.data(), y.data(), 1 + (th + it) % 3);
        if (y != want[k]) ++mismatches;
      }
    });
  for (auto& t : threads) t.join();
  CHECK(mismatches.load() == 0);
}

}  // namespace test_model_predict_threads
