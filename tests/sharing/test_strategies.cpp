#include <catch2/catch.hpp>

#include "../common/module_gradcheck.hpp"
#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_sharing_strategies {

using namespace onestone;
using sharing::SharingStrategy;

namespace {
// Σₜ Σ cₜ ⊙ repₜ (+ regularizer): a scalar that depends on every representation.
Var<double> probe(SharingStrategy<double>& s, const Tensor<double>& x, int tasks) {
  std::vector<Var<double>> reps(static_cast<std::size_t>(tasks));
  s.forward_tasks(Var<double>::from(x), reps.data());
  Var<double> total;
  for (int t = 0; t < tasks; ++t) {
    Tensor<double> c(reps[static_cast<std::size_t>(t)].shape());
    for (Index i = 0; i < c.numel(); ++i) c[i] = std::cos(0.37 * i + t);
    Var<double> term = sum(reps[static_cast<std::size_t>(t)] * Var<double>::from(std::move(c)));
    total = total.defined() ? total + term : term;
  }
  Var<double> r = s.regularizer();
  return r.defined() ? total + r : total;
}

Tensor<double> input(Index n, Index d) {
  Tensor<double> x({n, d});
  for (Index i = 0; i < x.numel(); ++i) x[i] = std::sin(0.7 * i + 0.3);
  return x;
}

void gradcheck_strategy(SharingStrategy<double>& s, int tasks, Index in) {
  s.set_num_tasks(tasks);
  s.train();
  Tensor<double> x = input(3, in);
  // Perturb parameters away from symmetric initial values (e.g. identical soft towers).
  Generator g(17);
  for (auto* p : s.parameters())
    for (Index k = 0; k < p->numel(); ++k) p->value()[k] += 0.1 * g.normal();
  testing::check_parameter_gradients(s.named_parameters(), [&] { return probe(s, x, tasks); });
}
}  // namespace

TEST_CASE("every strategy's gradients match finite differences", "[sharing][gradcheck]") {
  manual_seed(5);
  SECTION("hard") {
    sharing::HardSharing<double> s(std::make_shared<nn::MLP<double>>(nn::MLPOptions({4, 5, 3})), 3);
    gradcheck_strategy(s, 2, 4);
  }
  SECTION("soft, squared L2") {
    sharing::SoftSharing<double> s(
        [] {
          return std::make_shared<nn::MLP<double>>(nn::MLPOptions({4, 5, 3}));
        },
        3, 0.05);
    gradcheck_strategy(s, 3, 4);
  }
  SECTION("soft, L1") {
    sharing::SoftSharing<double> s(
        [] {
          return std::make_shared<nn::MLP<double>>(nn::MLPOptions({4, 3}));
        },
        3, 0.05, sharing::SoftDistance::L1);
    gradcheck_strategy(s, 2, 4);
  }
  SECTION("cross-stitch") {
    sharing::CrossStitch<double> s(sharing::CrossStitchOptions(3, {4, 5, 3}));
    gradcheck_strategy(s, 3, 4);
  }
  SECTION("MTAN") {
    sharing::MTAN<double> s(sharing::MTANOptions(2, {4, 5, 3}));
    gradcheck_strategy(s, 2, 4);
  }
  SECTION("DSelect-k, per-example gates, 4 experts, k = 2") {
    sharing::DSelectK<double> s(sharing::DSelectKOptions(2, 4, {3}, 4, 2).entropy_reg(0.1));
    gradcheck_strategy(s, 2, 4);
  }
  SECTION("DSelect-k, static gates, 3 experts (reachability term), k = 2") {
    sharing::DSelectK<double> s(
        sharing::DSelectKOptions(2, 4, {3}, 3, 2).per_example(false).entropy_reg(0.05));
    gradcheck_strategy(s, 2, 4);
  }
  SECTION("DSelect-k, per-example gates, 5 experts, 3 tasks") {
    sharing::DSelectK<double> s(sharing::DSelectKOptions(3, 4, {3}, 5, 3));
    gradcheck_strategy(s, 3, 4);
  }
  SECTION("MMoE") {
    sharing::MMoE<double> s(sharing::MMoEOptions(2, 4, {5, 3}, 3));
    gradcheck_strategy(s, 2, 4);
  }
  SECTION("PLE, two levels") {
    sharing::PLE<double> s(
        sharing::PLEOptions(2, 4, {3}).shared_experts(2).task_experts(1).levels(2));
    gradcheck_strategy(s, 2, 4);
  }
  SECTION("CGC") {
    sharing::CGC<double> s(sharing::PLEOptions(3, 4, {3}).shared_experts(1).task_experts(2));
    gradcheck_strategy(s, 3, 4);
  }
}

TEST_CASE("parameter counts", "[sharing]") {
  const Index lin = 10 * 8 + 8;  // Linear(10, 8)
  sharing::HardSharing<float> hard(std::make_shared<nn::MLP<float>>(nn::MLPOptions({10, 8})), 8);
  CHECK(hard.num_parameters() == lin);
  sharing::SoftSharing<float> soft(
      [] {
        return std::make_shared<nn::MLP<float>>(nn::MLPOptions({10, 8}));
      },
      8);
  soft.set_num_tasks(3);
  CHECK(soft.num_parameters() == 3 * lin);
  sharing::CrossStitch<float> cs(sharing::CrossStitchOptions(3, {10, 8, 8}));
  CHECK(cs.num_parameters() == 3 * (lin + 8 * 8 + 8) + 2 * 9);
  sharing::MMoE<float> mmoe(sharing::MMoEOptions(2, 10, {8}, 4));
  CHECK(mmoe.num_parameters() == 4 * lin + 2 * (10 * 4 + 4));
  sharing::MMoE<float> omoe(sharing::MMoEOptions(2, 10, {8}, 4).shared_gate(true));
  CHECK(omoe.num_parameters() == 4 * lin + (10 * 4 + 4));
  sharing::MTAN<float> mtan(sharing::MTANOptions(2, {10, 8, 8}));
  const Index trunk = lin + 8 * 8 + 8;
  const Index att_per_task =
      (8 * 8 + 8) * 2 /*stage 0*/ + (8 * 8 + 8) /*carry*/ + (16 * 8 + 8) + (8 * 8 + 8);
  CHECK(mtan.num_parameters() == trunk + 2 * att_per_task);
  sharing::CGC<float> cgc(sharing::PLEOptions(2, 10, {8}).shared_experts(2).task_experts(1));
  CHECK(cgc.num_parameters() == (2 + 2) * lin + 2 * (10 * 3 + 3));
  sharing::PLE<float> ple(
      sharing::PLEOptions(2, 10, {8}).shared_experts(1).task_experts(1).levels(2));
  const Index l0 = 3 * lin + 2 * (10 * 2 + 2) + (10 * 3 + 3);
  const Index l1 = 3 * (8 * 8 + 8) + 2 * (8 * 2 + 2);
  CHECK(ple.num_parameters() == l0 + l1);
}

TEST_CASE("known values: cross-stitch init, soft-sharing penalty, gates sum to one", "[sharing]") {
  sharing::CrossStitch<double> cs(sharing::CrossStitchOptions(3, {2, 2}));
  const Tensor<double>& a = cs.stitch(0);
  CHECK(a.at(0, 0) == 0.9);
  CHECK(a.at(1, 1) == 0.9);
  CHECK(a.at(0, 1) == Approx(0.05));
  CHECK(a.at(2, 0) == Approx(0.05));
  // Soft sharing, 2 towers of one Linear(1, 1) without bias: R = λ Σᵢ Σⱼ (wᵢ − wⱼ)² = 2λ(w₀ − w₁)².
  sharing::SoftSharing<double> soft(
      [] { return std::make_shared<nn::Linear<double>>(nn::LinearOptions(1, 1).bias(false)); }, 1,
      0.5);
  soft.set_num_tasks(2);
  soft.tower(0).parameters()[0]->value()[0] = 1.0;
  soft.tower(1).parameters()[0]->value()[0] = -2.0;
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  CHECK(soft.regularizer().item() == Approx(2 * 0.5 * 9.0));
  sharing::SoftSharing<double> soft_l1(
      [] { return std::make_shared<nn::Linear<double>>(nn::LinearOptions(1, 1).bias(false)); }, 1,
      0.5, sharing::SoftDistance::L1);
  soft_l1.set_num_tasks(2);
  soft_l1.tower(0).parameters()[0]->value()[0] = 1.0;
  soft_l1.tower(1).parameters()[0]->value()[0] = -2.0;
  CHECK(soft_l1.regularizer().item() == Approx(2 * 0.5 * 3.0));
  // A mixture with constant gates 1/E of identical experts returns that expert.
  Tensor<double> e = Tensor<double>::from({1, 2, 3, 4}, {2, 2});
  Tensor<double> gates = Tensor<double>::full(Shape{2, 3}, 1.0 / 3);
  auto m = mixture<double>({Var<double>::from(e), Var<double>::from(e), Var<double>::from(e)},
                           Var<double>::from(gates));
  CHECK(m.to_tensor().vector().isApprox(e.vector()));
}

TEST_CASE("strategies reject mismatched task counts", "[sharing][errors]") {
  sharing::MMoE<float> mmoe(sharing::MMoEOptions(2, 4, {3}, 2));
  mmoe.set_num_tasks(1);
  Tensor<float> x({1, 4});
  std::vector<Var<float>> reps(2);
  CHECK_THROWS_WITH(mmoe.forward_tasks(Var<float>::from(x), reps.data()),
                    Catch::Contains("built for 2 tasks"));
  CHECK_THROWS_WITH(mmoe.set_num_tasks(3), Catch::Contains("cannot serve 3"));
  CHECK_THROWS_AS(sharing::CrossStitch<float>(sharing::CrossStitchOptions(2, {4})),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      sharing::PLE<float>(sharing::PLEOptions(2, 4, {3}).shared_experts(0).task_experts(0)),
      std::invalid_argument);
}

TEST_CASE("DSelect-k: smooth step, binary selectors and the gate's known values", "[sharing]") {
  // Static gate, one selector over 4 experts: z = (+1, −1) saturates the smooth step (γ = 1) to
  // S = (1, 0), which selects the expert with code 10, expert 2.
  sharing::DSelectK<double> g(sharing::DSelectKOptions(1, 3, {2}, 4, 1).per_example(false));
  g.set_num_tasks(1);
  auto& z = g.parameter("gates.0.z");
  z.value()[0] = 1.0;
  z.value()[1] = -1.0;
  Tensor<double> x({2, 3});
  Tensor<double> q = g.gate_weights(0, x);
  REQUIRE(q.shape() == Shape({2, 4}));
  for (Index j = 0; j < 4; ++j) CHECK(q.at(1, j) == (j == 2 ? 1.0 : 0.0));
  // z = (0, γ/4): S = (1/2, 27/32): r = ((1−½)(1−27/32), (½)(27/32)... by code 00, 01, 10, 11.
  z.value()[0] = 0.0;
  z.value()[1] = 0.25;
  q = g.gate_weights(0, x);
  const double s1 = 0.5, s2 = -2.0 * 0.25 * 0.25 * 0.25 + 1.5 * 0.25 + 0.5;  // 0.84375
  CHECK(s2 == 0.84375);
  CHECK(q.at(0, 0) == Approx((1 - s1) * (1 - s2)).epsilon(1e-15));
  CHECK(q.at(0, 1) == Approx((1 - s1) * s2).epsilon(1e-15));
  CHECK(q.at(0, 2) == Approx(s1 * (1 - s2)).epsilon(1e-15));
  CHECK(q.at(0, 3) == Approx(s1 * s2).epsilon(1e-15));
  // Two selectors on experts 1 and 3 with weights softmax(w): q = (0, a, 0, 1 − a).
  sharing::DSelectK<double> g2(sharing::DSelectKOptions(1, 3, {2}, 4, 2).per_example(false));
  g2.set_num_tasks(1);
  auto& z2 = g2.parameter("gates.0.z");
  const double zz[4] = {-1, 1, 1, 1};  // selector 0 → code 01, selector 1 → code 11
  for (int k = 0; k < 4; ++k) z2.value()[k] = zz[k];
  auto& w2 = g2.parameter("gates.0.w");
  w2.value()[0] = 0.3;
  w2.value()[1] = -0.2;
  q = g2.gate_weights(0, x);
  const double a = std::exp(0.3) / (std::exp(0.3) + std::exp(-0.2));
  CHECK(q.at(0, 0) == 0.0);
  CHECK(q.at(0, 1) == Approx(a).epsilon(1e-15));
  CHECK(q.at(0, 2) == 0.0);
  CHECK(q.at(0, 3) == Approx(1 - a).epsilon(1e-15));
  // Per-example gates: every row of q sums to one, with 5 experts (3 bits, 3 unused codes).
  sharing::DSelectK<double> g3(sharing::DSelectKOptions(2, 3, {2}, 5, 2).seed(4));
  g3.set_num_tasks(2);
  Tensor<double> x3({6, 3});
  for (Index i = 0; i < x3.numel(); ++i) x3[i] = std::sin(1.3 * i);
  const Tensor<double> q3 = g3.gate_weights(1, x3);
  for (Index r = 0; r < 6; ++r) {
    double s = 0;
    for (Index j = 0; j < 5; ++j) s += q3.at(r, j);
    CHECK(s <= 1.0 + 1e-12);  // codes without an expert may hold weight early in training
    CHECK(s > 0.5);
  }
  CHECK_THROWS_WITH(sharing::DSelectK<float>(sharing::DSelectKOptions(2, 3, {2}, 4, 5)),
                    Catch::Contains("k = 5"));
}

namespace {
// A conv stage for ConvMTAN's tests: conv 3x3 (padding 1, optional stride) → ReLU.
std::shared_ptr<nn::Module<double>> conv_stage(Index in, Index out, Index stride) {
  return std::make_shared<nn::Sequential<double>>(
      std::initializer_list<std::shared_ptr<nn::Module<double>>>{
          std::make_shared<nn::Conv2d<double>>(
              nn::Conv2dOptions(in, out, 3).stride(stride).padding(1)),
          std::make_shared<nn::ReLU<double>>()});
}
}  // namespace

TEST_CASE("ConvMTAN: per-task attention on a conv encoder, gradients and shapes",
          "[sharing][gradcheck][mtan]") {
  manual_seed(9);
  sharing::ConvMTAN<double> s(sharing::ConvMTANOptions<double>(2, 2)
                                  .stage(conv_stage(2, 3, 1), 3)
                                  .stage(conv_stage(3, 4, 2), 4, 2));
  s.set_num_tasks(2);
  s.train();
  Tensor<double> x({3, 2, 4, 4});
  for (Index i = 0; i < x.numel(); ++i) x[i] = std::sin(0.7 * i + 0.3);
  {
    std::vector<Var<double>> reps(2);
    s.forward_tasks(Var<double>::from(x), reps.data());
    CHECK(reps[0].shape() == (Shape{3, 4, 2, 2}));
    CHECK(reps[1].shape() == (Shape{3, 4, 2, 2}));
    autograd::Tape<double>::current().reset();
  }
  CHECK(s.output_features() == 4);
  // Shared with the balancers: the trunk only (the extractor fₗ, keyed by the stage it feeds, is
  // shared by the tasks but belongs to the attention path).
  Index shared = 0;
  for (auto* p : s.shared_parameters()) shared += p->numel();
  CHECK(shared == (3 * 2 * 9 + 3) + (4 * 3 * 9 + 4));
  bool has_attention = false, has_extractor = false;
  for (auto& np : s.named_parameters()) {
    has_attention = has_attention || np.first.rfind("attention.1.1.", 0) == 0;
    has_extractor = has_extractor || np.first.rfind("extractor.1.", 0) == 0;
  }
  CHECK(has_attention);
  CHECK(has_extractor);
  Generator g(17);
  for (auto* p : s.parameters())
    for (Index k = 0; k < p->numel(); ++k) p->value()[k] += 0.1 * g.normal();
  testing::check_parameter_gradients(s.named_parameters(), [&] { return probe(s, x, 2); });
  // A stage whose resolution the extractor cannot reach is named.
  sharing::ConvMTAN<double> bad(sharing::ConvMTANOptions<double>(1, 2)
                                    .stage(conv_stage(2, 3, 1), 3)
                                    .stage(conv_stage(3, 4, 2), 4, 1));
  bad.set_num_tasks(1);
  std::vector<Var<double>> reps(1);
  CHECK_THROWS_WITH(bad.forward_tasks(Var<double>::from(x), reps.data()),
                    Catch::Contains("ConvMTAN") && Catch::Contains("stage 1"));
}

TEST_CASE("ConvCrossStitch: towers mixed after every stage, by task pair or per channel",
          "[sharing][gradcheck][cross_stitch]") {
  manual_seed(21);
  Tensor<double> x({2, 2, 4, 4});
  for (Index i = 0; i < x.numel(); ++i) x[i] = std::sin(0.7 * i + 0.3);
  for (bool per_channel : {false, true}) {
    INFO("per_channel " << per_channel);
    std::vector<std::shared_ptr<nn::Module<double>>> made;  // stage modules in creation order
    auto stage = [&made](Index in, Index out, Index stride) {
      return [&made, in, out, stride] {
        made.push_back(conv_stage(in, out, stride));
        return made.back();
      };
    };
    sharing::ConvCrossStitch<double> s(sharing::ConvCrossStitchOptions<double>(2)
                                           .stage(stage(2, 3, 1), 3)
                                           .stage(stage(3, 4, 2), 4)
                                           .per_channel(per_channel));
    s.set_num_tasks(2);
    REQUIRE(made.size() == 4);  // task 0: stages 0, 1; task 1: stages 0, 1
    CHECK(s.output_features() == 4);
    CHECK(s.stitch(0).shape() == (per_channel ? Shape{4, 3} : Shape{2, 2}));
    CHECK(s.stitch(1).shape() == (per_channel ? Shape{4, 4} : Shape{2, 2}));
    CHECK(s.stitch(0)[0] == Approx(0.9));
    bool has_tower = false;
    for (auto& np : s.named_parameters())
      has_tower = has_tower || np.first.rfind("towers.1.1.", 0) == 0;
    CHECK(has_tower);

    // The mixture by hand: x̃ₜ = Σₛ αₜₛ xₛ after each stage, from the towers' own modules.
    Generator g(5);
    for (auto* p : s.parameters())
      for (Index k = 0; k < p->numel(); ++k) p->value()[k] += 0.1 * g.normal();
    auto& tape = autograd::Tape<double>::current();
    std::vector<Var<double>> reps(2);
    s.forward_tasks(Var<double>::from(x), reps.data());
    CHECK(reps[0].shape() == (Shape{2, 4, 2, 2}));
    std::vector<Tensor<double>> h = {x, x};
    for (std::size_t l = 0; l < 2; ++l) {
      std::vector<Tensor<double>> out(2);
      for (int t = 0; t < 2; ++t)
        out[static_cast<std::size_t>(t)] =
            made[static_cast<std::size_t>(2 * t) + l]
                ->forward(Var<double>::from(h[static_cast<std::size_t>(t)]))
                .to_tensor();
      const Tensor<double>& a = s.stitch(l);
      const Index C = out[0].shape()[1], HW = out[0].shape()[2] * out[0].shape()[3];
      for (int t = 0; t < 2; ++t) {
        Tensor<double> m(out[0].shape());
        for (Index i = 0; i < m.numel(); ++i) {
          const Index c = (i / HW) % C;
          double v = 0;
          for (int u = 0; u < 2; ++u)
            v += (per_channel ? a.at(2 * t + u, c) : a.at(t, u)) *
                 out[static_cast<std::size_t>(u)][i];
          m[i] = v;
        }
        h[static_cast<std::size_t>(t)] = m;
      }
    }
    for (int t = 0; t < 2; ++t)
      for (Index i = 0; i < h[0].numel(); ++i)
        CHECK(reps[static_cast<std::size_t>(t)].data()[i] ==
              Approx(h[static_cast<std::size_t>(t)][i]).margin(1e-12));
    tape.reset();
    testing::check_parameter_gradients(s.named_parameters(), [&] { return probe(s, x, 2); });
  }
  // A factory that hands out one module twice would share parameters between towers.
  auto one = conv_stage(2, 3, 1);
  CHECK_THROWS_WITH(sharing::ConvCrossStitch<double>(
                        sharing::ConvCrossStitchOptions<double>(2).stage([one] { return one; }, 3)),
                    Catch::Contains("same module"));
  // A stage whose channels differ from the declared ones is named.
  sharing::ConvCrossStitch<double> bad(
      sharing::ConvCrossStitchOptions<double>(2).stage([] { return conv_stage(2, 3, 1); }, 5));
  bad.set_num_tasks(2);
  std::vector<Var<double>> reps(2);
  CHECK_THROWS_WITH(bad.forward_tasks(Var<double>::from(x), reps.data()),
                    Catch::Contains("ConvCrossStitch") && Catch::Contains("stage 0"));
  autograd::Tape<double>::current().reset();
}

}  // namespace test_sharing_strategies
