// A float model trained for 50 Adam steps tracks the same model in double as closely as
// PyTorch's float32 tracks float64 (within 2e-5 relative): hyper-parameters such as 1 − β are
// formed in double and rounded once, and log-softmax keeps small losses' digits.
#include <catch2/catch.hpp>
#include <cmath>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_optim_float_numerics {

using namespace onestone;

namespace {
template <typename T>
struct Net {
  nn::MLP<T> trunk{nn::MLPOptions({16, 32, 32}).seed(11)};
  nn::Linear<T> cls{nn::LinearOptions(32, 5).seed(12)};
  nn::Linear<T> reg{nn::LinearOptions(32, 2).seed(13)};
  std::vector<nn::Parameter<T>*> parameters() {
    auto p = trunk.parameters();
    for (auto* q : cls.parameters()) p.push_back(q);
    for (auto* q : reg.parameters()) p.push_back(q);
    return p;
  }
};

template <typename T>
std::vector<double> run(int steps, optim::Optimizer<T>& opt, Net<T>& net, const Tensor<T>& x,
                        const Tensor<Index>& y, const Tensor<T>& v) {
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    Var<T> h = net.trunk.forward(Var<T>::from(x));
    Var<T> loss =
        losses::cross_entropy(net.cls.forward(h), y) + losses::mse_loss(net.reg.forward(h), v);
    losses.push_back(static_cast<double>(loss.item()));
    loss.backward();
    opt.step();
  }
  return losses;
}
}  // namespace

TEST_CASE("float training tracks double within 2e-5 over 50 Adam steps", "[optim][numerics]") {
  Generator g(5);
  const Index n = 256;
  Tensor<double> xd({n, 16}), vd({n, 2});
  Tensor<Index> y({n});
  for (Index k = 0; k < xd.numel(); ++k) xd[k] = g.normal();
  for (Index k = 0; k < vd.numel(); ++k) vd[k] = g.normal();
  for (Index k = 0; k < n; ++k) y[k] = static_cast<Index>(g.below(5));
  Net<double> nd;
  Net<float> nf;
  // Same starting point: the float model gets the double model's weights, rounded once.
  auto pd = nd.parameters();
  auto pf = nf.parameters();
  REQUIRE(pd.size() == pf.size());
  for (std::size_t i = 0; i < pd.size(); ++i) {
    for (Index k = 0; k < pd[i]->numel(); ++k)
      pd[i]->value()[k] = static_cast<double>(static_cast<float>(pd[i]->value()[k]));
    pf[i]->set_value(pd[i]->value().cast<float>());
  }
  for (bool adamw : {false, true}) {
    INFO((adamw ? "AdamW" : "Adam"));
    Net<double> a;
    Net<float> b;
    auto qa = a.parameters();
    auto qb = b.parameters();
    for (std::size_t i = 0; i < qa.size(); ++i) {
      qa[i]->set_value(pd[i]->value());
      qb[i]->set_value(pf[i]->value());
    }
    std::unique_ptr<optim::Optimizer<double>> oa;
    std::unique_ptr<optim::Optimizer<float>> ob;
    if (adamw) {
      oa = std::make_unique<optim::AdamW<double>>(qa, optim::AdamOptions(1e-2).weight_decay(0.01));
      ob = std::make_unique<optim::AdamW<float>>(qb, optim::AdamOptions(1e-2).weight_decay(0.01));
    } else {
      oa = std::make_unique<optim::Adam<double>>(qa, optim::AdamOptions(1e-2));
      ob = std::make_unique<optim::Adam<float>>(qb, optim::AdamOptions(1e-2));
    }
    const auto ld = run<double>(50, *oa, a, xd, y, vd);
    const auto lf = run<float>(50, *ob, b, xd.cast<float>(), y, vd.cast<float>());
    double worst = 0;
    for (std::size_t s = 0; s < ld.size(); ++s) {
      worst = std::max(worst, std::abs(lf[s] - ld[s]) / std::abs(ld[s]));
    }
    INFO("worst relative drift " << worst << ", final losses " << lf.back() << " / " << ld.back());
    CHECK(worst < 2e-5);
    CHECK(ld.back() < 0.5 * ld.front());  // it trained
  }
}

}  // namespace test_optim_float_numerics
