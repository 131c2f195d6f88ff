// cox_loss: values against R's survival::coxph (Breslow and Efron, ties, censoring, weights),
// gradients by finite differences in double, float vs double, bad input, and a tiny model
// trained with it.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "onestone/data/synthetic_cohort.hpp"
#include "onestone/losses/cox.hpp"
#include "onestone/metrics/survival.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_clinical_cox {

using namespace onestone;
using losses::CoxOptions;
using losses::CoxTies;

namespace {

// Twelve samples with tied times (2 ×3, 4 ×2, 6 ×2), censoring inside the tie groups.
const std::vector<double> kTime = {1, 2, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8};
const std::vector<double> kEvent = {1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1};
const std::vector<double> kX = {0.5, -1.2, 0.3, 0.8, -0.4, 1.1, 0.0, -0.7, 0.9, 0.2, -0.3, 0.6};
const std::vector<double> kW = {1, 2, 0.5, 1, 1.5, 1, 1, 2, 1, 0.5, 1, 1};

template <typename T>
Tensor<T> vec(const std::vector<double>& v) {
  Tensor<T> t(Shape{static_cast<Index>(v.size())});
  for (std::size_t i = 0; i < v.size(); ++i) t[static_cast<Index>(i)] = static_cast<T>(v[i]);
  return t;
}

template <typename T>
double loss_at(double beta, CoxTies ties, bool weighted, losses::Reduction red) {
  auto& tape = autograd::Tape<T>::current();
  tape.reset();
  Tensor<T> risk = vec<T>(kX);
  for (Index i = 0; i < risk.numel(); ++i)
    risk[i] = static_cast<T>(beta * kX[static_cast<std::size_t>(i)]);
  const Tensor<T> time = vec<T>(kTime), event = vec<T>(kEvent), w = vec<T>(kW);
  CoxOptions<T> o;
  o.ties(ties).reduction(red);
  if (weighted) o.sample_weight(w);
  return static_cast<double>(losses::cox_loss(Var<T>::from(risk), time, event, o).item());
}

}  // namespace

TEST_CASE("cox_loss matches R's coxph log partial likelihood", "[clinical][cox]") {
  // R 4.2, survival 3.5:
  //   time <- c(1,2,2,2,3,4,4,5,6,6,7,8); event <- c(1,1,1,0,1,0,1,1,1,1,0,1)
  //   x <- c(0.5,-1.2,0.3,0.8,-0.4,1.1,0.0,-0.7,0.9,0.2,-0.3,0.6)
  //   w <- c(1,2,0.5,1,1.5,1,1,2,1,0.5,1,1)
  //   coxph(Surv(time, event) ~ x, ties = "breslow" | "efron", [weights = w], init = 0.7,
  //         control = coxph.control(iter.max = 0))$loglik[1]
  const auto Sum = losses::Reduction::Sum;
  CHECK(loss_at<double>(0.7, CoxTies::Breslow, false, Sum) ==
        Approx(17.794295996239949).epsilon(1e-12));
  CHECK(loss_at<double>(0.7, CoxTies::Efron, false, Sum) ==
        Approx(17.397781359591310).epsilon(1e-12));
  CHECK(loss_at<double>(0.7, CoxTies::Breslow, true, Sum) ==
        Approx(22.793280673052724).epsilon(1e-12));
  CHECK(loss_at<double>(0.7, CoxTies::Efron, true, Sum) ==
        Approx(22.500919240824636).epsilon(1e-12));
  // The mean divides by the (weighted) number of events: 9, and 10.5 with the weights.
  const auto Mean = losses::Reduction::Mean;
  CHECK(loss_at<double>(0.7, CoxTies::Breslow, false, Mean) == Approx(17.794295996239949 / 9));
  CHECK(loss_at<double>(0.7, CoxTies::Efron, true, Mean) == Approx(22.500919240824636 / 10.5));
  // A shift of every score changes nothing (stability: the maximum is subtracted).
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  Tensor<double> big = vec<double>(kX);
  for (Index i = 0; i < big.numel(); ++i) big[i] = 0.7 * big[i] + 800.0;
  CHECK(losses::cox_loss(Var<double>::from(big), vec<double>(kTime), vec<double>(kEvent),
                         CoxOptions<double>().reduction(Sum))
            .item() == Approx(17.794295996239949).epsilon(1e-10));
}

TEST_CASE("cox_loss: no tie, Breslow = Efron; no event gives 0; weight 0 removes a sample",
          "[clinical][cox]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  const auto r = Tensor<double>::from({0.3, -0.2, 1.0, 0.1}, {4, 1});
  const auto t = Tensor<double>::from({1, 2, 3, 4}, {4});
  const auto e = Tensor<double>::from({1, 0, 1, 1}, {4});
  const Var<double> rv = Var<double>::from(r);
  // By hand: events at 1 (risk set all), 3 ({2, 3}), 4 ({3}).
  const double s1 = std::exp(0.3) + std::exp(-0.2) + std::exp(1.0) + std::exp(0.1);
  const double s3 = std::exp(1.0) + std::exp(0.1);
  const double hand = -((0.3 - std::log(s1)) + (1.0 - std::log(s3)) + 0.0) / 3;
  CHECK(losses::cox_loss(rv, t, e).item() == Approx(hand));
  CHECK(losses::cox_loss(rv, t, e, CoxOptions<double>().ties(CoxTies::Efron)).item() ==
        Approx(hand));
  const auto none = Tensor<double>::zeros(Shape{4});
  CHECK(losses::cox_loss(rv, t, none).item() == 0.0);
  // Weight 0 on sample 1 (censored) = dropping it; on sample 0 it may even hold a bad label.
  const auto w = Tensor<double>::from({1, 0, 1, 1}, {4});
  const double s1b = s1 - std::exp(-0.2);
  CHECK(losses::cox_loss(rv, t, e, CoxOptions<double>().sample_weight(w)).item() ==
        Approx(-((0.3 - std::log(s1b)) + (1.0 - std::log(s3))) / 3));
  const auto w0 = Tensor<double>::from({0, 1, 1, 1}, {4});
  const auto t_bad = Tensor<double>::from({-5, 2, 3, 4}, {4});
  CHECK_NOTHROW(losses::cox_loss(rv, t_bad, e, CoxOptions<double>().sample_weight(w0)));
}

TEST_CASE("cox_loss: gradients by finite differences (ties, censoring, weights)",
          "[clinical][cox][gradcheck]") {
  const Tensor<double> time = vec<double>(kTime), event = vec<double>(kEvent), w = vec<double>(kW);
  Tensor<double> risk = vec<double>(kX);
  for (Index i = 0; i < risk.numel(); ++i) risk[i] = 0.9 * risk[i] + 0.05 * static_cast<double>(i);
  for (CoxTies ties : {CoxTies::Breslow, CoxTies::Efron})
    for (bool weighted : {false, true}) {
      auto r = gradcheck<double>(
          [&](const std::vector<Var<double>>& v) {
            CoxOptions<double> o;
            o.ties(ties);
            if (weighted) o.sample_weight(w);
            // Times a non-trivial upstream gradient: the loss feeds a product.
            return losses::cox_loss(v[0], time, event, o) * 1.7;
          },
          {risk});
      INFO(r.message() << " ties " << (ties == CoxTies::Efron ? "efron" : "breslow") << " weighted "
                       << weighted);
      CHECK(r.ok);
    }
  // [N, 1] scores, all events tied at one time (Efron's risk set shrinks to the last event).
  const auto r2 = Tensor<double>::from({0.2, -0.5, 0.7, 0.1}, {4, 1});
  const auto t2 = Tensor<double>::from({3, 3, 3, 3}, {4});
  const auto e2 = Tensor<double>::from({1, 1, 1, 0}, {4});
  auto res = gradcheck<double>(
      [&](const std::vector<Var<double>>& v) {
        return losses::cox_loss(v[0], t2, e2, CoxOptions<double>().ties(CoxTies::Efron));
      },
      {r2});
  INFO(res.message());
  CHECK(res.ok);
}

TEST_CASE("cox_loss: float agrees with double", "[clinical][cox]") {
  for (CoxTies ties : {CoxTies::Breslow, CoxTies::Efron}) {
    const double d = loss_at<double>(1.3, ties, true, losses::Reduction::Mean);
    const double f = loss_at<float>(1.3, ties, true, losses::Reduction::Mean);
    CHECK(f == Approx(d).epsilon(1e-5));
  }
  // Gradients too.
  auto grad = [](auto tag) {
    using T = decltype(tag);
    auto& tape = autograd::Tape<T>::current();
    tape.reset();
    Var<T> r = Var<T>::variable(vec<T>(kX));
    losses::cox_loss(r, vec<T>(kTime), vec<T>(kEvent), CoxOptions<T>().ties(CoxTies::Efron))
        .backward();
    std::vector<double> g;
    for (Index i = 0; i < r.numel(); ++i) g.push_back(static_cast<double>(r.grad()[i]));
    return g;
  };
  const auto gd = grad(0.0), gf = grad(0.0f);
  for (std::size_t i = 0; i < gd.size(); ++i) CHECK(gf[i] == Approx(gd[i]).margin(1e-6));
}

TEST_CASE("cox_loss rejects bad input", "[clinical][cox][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  const Var<float> r = Var<float>::from(Tensor<float>(Shape{3}));
  const auto t = Tensor<float>::from({1, 2, 3}, {3});
  const auto e = Tensor<float>::from({1, 0, 1}, {3});
  CHECK_THROWS_WITH(losses::cox_loss(r, Tensor<float>(Shape{4}), e), Catch::Contains("cox_loss") &&
                                                                         Catch::Contains("[3]") &&
                                                                         Catch::Contains("[4]"));
  CHECK_THROWS_WITH(losses::cox_loss(r, t, Tensor<float>(Shape{3, 2})),
                    Catch::Contains("cox_loss") && Catch::Contains("[3, 2]"));
  CHECK_THROWS_WITH(losses::cox_loss(Var<float>::from(Tensor<float>(Shape{3, 2})), t, e),
                    Catch::Contains("[N] or [N, 1]"));
  CHECK_THROWS_WITH(losses::cox_loss(r, Tensor<float>::from({1, -2, 3}, {3}), e),
                    Catch::Contains("time at position 1") && Catch::Contains(">= 0"));
  CHECK_THROWS_WITH(losses::cox_loss(r, t, Tensor<float>::from({1, 2, 0}, {3})),
                    Catch::Contains("event at position 1"));
  CHECK_THROWS_WITH(losses::cox_loss(r, t, Tensor<float>::from({1, 0.5f, 0}, {3})),
                    Catch::Contains("event at position 1"));
  const Tensor<float> w(Shape{2});
  CHECK_THROWS_WITH(losses::cox_loss(r, t, e, CoxOptions<float>().sample_weight(w)),
                    Catch::Contains("cox_loss") && Catch::Contains("2 sample weights"));
}

TEST_CASE("cox_loss trains a tiny model (loss decreases, C-index rises)",
          "[clinical][cox][train]") {
  manual_seed(3);
  const auto cohort =
      data::make_synthetic_cohort<float>(data::CohortOptions().samples(400).seed(5));
  const auto& x = cohort.inputs();
  const auto& s = cohort.target("survival");
  nn::Linear<float> lin(nn::LinearOptions(x.size(1), 1));
  optim::Adam<float> opt(lin.parameters(), optim::AdamOptions(0.05));
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    auto& tape = autograd::Tape<float>::current();
    tape.reset();
    Var<float> risk = lin.forward(Var<float>::from(x));
    Var<float> loss = losses::cox_loss(risk, s);
    if (step == 0) first = loss.item();
    last = loss.item();
    loss.backward();
    opt.step();
  }
  CHECK(last < first - 0.05);
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  const Tensor<float> pred = lin.forward(Var<float>::from(x)).to_tensor();
  CHECK(metrics::concordance_index(pred, s.field("time"), s.field("event")) > 0.65);
}

}  // namespace test_clinical_cox
