// Serving: predict() from several threads at once on one model gives the single-thread result
// bit for bit (also run under ThreadSanitizer by .ci/run); the heads' batch-1 path (a
// transposed copy of the weight, LinearOptions::inference_cache) follows weight changes.
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "onestone/onestone.hpp"

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
