#include <catch2/catch.hpp>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_nn_modules {

using namespace onestone;

TEST_CASE("Generator is portable: pinned values for seed 42", "[nn][init]") {
  Generator g(42);
  CHECK(g.next_u64() == 1546998764402558742ULL);
  CHECK(g.next_u64() == 6990951692964543102ULL);
  CHECK(g.next_u64() == 12544586762248559009ULL);
  CHECK(g.uniform() == 0.92469294532538759);
  CHECK(g.normal() == 0.46417731016247366);
}

TEST_CASE("initializers: seeded, bounded, right spread", "[nn][init]") {
  Tensor<double> a({300, 200}), b({300, 200});
  Generator g1(7), g2(7);
  nn::init::xavier_uniform_(a, g1);
  nn::init::xavier_uniform_(b, g2);
  CHECK(a.vector() == b.vector());
  const double bound = std::sqrt(6.0 / 500.0);
  CHECK(a.vector().maxCoeff() <= bound);
  CHECK(a.vector().minCoeff() >= -bound);
  auto var = [](const Tensor<double>& t) {
    const double m = t.vector().mean();
    return (t.vector().array() - m).square().mean();
  };
  CHECK(var(a) == Approx(bound * bound / 3).epsilon(0.03));
  nn::init::xavier_normal_(a, g1);
  CHECK(var(a) == Approx(2.0 / 500.0).epsilon(0.03));
  nn::init::kaiming_uniform_(a, g1);
  CHECK(var(a) == Approx(2.0 / 200.0).epsilon(0.03));
  nn::init::kaiming_normal_(a, g1);
  CHECK(var(a) == Approx(2.0 / 200.0).epsilon(0.03));
  // Same seed, same layer on any machine.
  nn::Linear<float> l1(nn::LinearOptions(5, 3).seed(9)), l2(nn::LinearOptions(5, 3).seed(9));
  CHECK(l1.weight().value().vector() == l2.weight().value().vector());
  manual_seed(3);
  nn::Linear<float> l3(nn::LinearOptions(5, 3));
  manual_seed(3);
  nn::Linear<float> l4(nn::LinearOptions(5, 3));
  CHECK(l3.weight().value().vector() == l4.weight().value().vector());
}

TEST_CASE("Module registry: dotted names, train/eval, zero_grad", "[nn]") {
  auto mlp = std::make_shared<nn::MLP<double>>(
      nn::MLPOptions({4, 8, 3}).layer_norm(true).dropout(0.5).activate_last(false).seed(1));
  auto named = mlp->named_parameters();
  REQUIRE(named.size() == 6);
  CHECK(named[0].first == "fc0.weight");
  CHECK(named[1].first == "fc0.bias");
  CHECK(named[2].first == "ln0.weight");
  CHECK(named[4].first == "fc1.weight");
  CHECK(mlp->num_parameters() == 4 * 8 + 8 + 8 + 8 + 8 * 3 + 3);
  nn::Sequential<double> seq{mlp, std::make_shared<nn::Tanh<double>>()};
  CHECK(seq.named_parameters()[0].first == "0.fc0.weight");
  CHECK(seq.is_training());
  seq.eval();
  CHECK_FALSE(mlp->is_training());
  // Eval mode: dropout is the identity, so two forwards agree.
  Tensor<double> x = Tensor<double>::full(Shape{2, 4}, 0.3);
  Tensor<double> y1 = seq.forward(Var<double>::from(x)).to_tensor();
  Tensor<double> y2 = seq.forward(Var<double>::from(x)).to_tensor();
  CHECK(y1.vector() == y2.vector());
  seq.train();
  auto loss = sum(seq.forward(Var<double>::variable(x)));
  loss.backward();
  CHECK(mlp->parameters()[0]->grad().vector().norm() > 0);
  seq.zero_grad();
  CHECK(mlp->parameters()[0]->grad().vector().norm() == 0);
  CHECK_THROWS_WITH(mlp->register_parameter("fc0", Tensor<double>({1})),
                    Catch::Contains("duplicate"));
  CHECK_THROWS_WITH(mlp->register_parameter("a.b", Tensor<double>({1})),
                    Catch::Contains("invalid name"));
  CHECK_THROWS_AS(mlp->parameter("nope"), std::invalid_argument);
}

TEST_CASE("layer gradients: Linear, MLP with LayerNorm, LayerNorm module", "[nn][gradcheck]") {
  auto check_module_params = [](nn::Module<double>& m, const Tensor<double>& x) {
    // Gradient with respect to every parameter by finite differences.
    m.zero_grad();
    {
      GraphScope<double> scope;
      auto y = m.forward(Var<double>::from(x));
      Tensor<double> wy(y.shape());
      for (Index i = 0; i < wy.numel(); ++i) wy[i] = std::cos(0.7 * i);
      sum(y * Var<double>::from(wy)).backward();
    }
    for (auto& np : m.named_parameters()) {
      Tensor<double>& v = np.second->value();
      for (Index k = 0; k < v.numel(); ++k) {
        const double orig = v[k], eps = 1e-6;
        auto eval = [&] {
          GraphScope<double> scope;
          NoGradGuard ng;
          auto y = m.forward(Var<double>::from(x));
          Tensor<double> wy(y.shape());
          for (Index i = 0; i < wy.numel(); ++i) wy[i] = std::cos(0.7 * i);
          return sum(y * Var<double>::from(wy)).item();
        };
        v[k] = orig + eps;
        const double fp = eval();
        v[k] = orig - eps;
        const double fm = eval();
        v[k] = orig;
        INFO(np.first << "[" << k << "]");
        CHECK(np.second->grad()[k] == Approx((fp - fm) / (2 * eps)).margin(1e-6).epsilon(1e-5));
      }
    }
  };
  Tensor<double> x({3, 4});
  for (Index i = 0; i < x.numel(); ++i) x[i] = std::sin(0.3 * i);
  nn::Linear<double> lin(nn::LinearOptions(4, 5).seed(2));
  check_module_params(lin, x);
  nn::MLP<double> mlp(
      nn::MLPOptions({4, 6, 2}).layer_norm(true).activation(nn::Activation::GELU).seed(3));
  check_module_params(mlp, x);
  nn::LayerNorm<double> ln(4);
  ln.parameter("weight").value().vector().setLinSpaced(0.5, 1.5);
  check_module_params(ln, x);
}

TEST_CASE("module input errors", "[nn][errors]") {
  nn::Linear<float> fc(nn::LinearOptions(4, 2));
  Tensor<float> x({3, 5});
  CHECK_THROWS_WITH(fc.forward(Var<float>::from(x)),
                    Catch::Contains("linear") && Catch::Contains("[3, 5]"));
  CHECK_THROWS_AS(nn::Linear<float>(nn::LinearOptions(0, 2)), std::invalid_argument);
  CHECK_THROWS_AS(nn::Dropout<float>(1.5), std::invalid_argument);
  CHECK_THROWS_AS(nn::MLP<float>(nn::MLPOptions({4})), std::invalid_argument);
  nn::LayerNorm<float> ln(3);
  CHECK_THROWS_WITH(ln.forward(Var<float>::from(x)), Catch::Contains("LayerNorm"));
}

}  // namespace test_nn_modules
