// box_iou_loss: values by hand, gradients by finite differences in double, sample weights and
// bad input.
#include <catch2/catch.hpp>
#include <cmath>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_box_loss {

using namespace onestone;

TEST_CASE("box_iou_loss: values by hand, weights, reductions", "[losses][box]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  // IoU 1/7 (overlap 1 of union 7), 1/2 (half of the target), 1 (equal boxes); the union is
  // offset by eps = 1e-7, hence the relative tolerance 1e-6.
  const auto p = Tensor<double>::from({1, 1, 3, 3, 0, 0, 2, 1, 0, 0, 2, 2}, {3, 4});
  const auto t = Tensor<double>::from({0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 2, 2}, {3, 4});
  const Var<double> pv = Var<double>::from(p);
  CHECK(losses::box_iou_loss(pv, t).item() == Approx((6.0 / 7 + 0.5 + 0.0) / 3).epsilon(1e-6));
  CHECK(losses::box_iou_loss(pv, t, losses::LossOptions<double>().reduction(losses::Reduction::Sum))
            .item() == Approx(6.0 / 7 + 0.5).epsilon(1e-6));
  // Sample weights: sample 1 unlabelled, sample 0 counts twice.
  const auto w = Tensor<double>::from({2, 0, 1}, {3});
  CHECK(losses::box_iou_loss(pv, t, losses::LossOptions<double>().sample_weight(w)).item() ==
        Approx((2 * 6.0 / 7 + 0.0) / 3).epsilon(1e-6));
  // Disjoint boxes: loss 1.
  const auto far = Tensor<double>::from({5, 5, 6, 6}, {1, 4});
  const auto one = Tensor<double>::from({0, 0, 1, 1}, {1, 4});
  CHECK(losses::box_iou_loss(Var<double>::from(far), one).item() == Approx(1.0));
}

TEST_CASE("box_iou_loss: gradients by finite differences", "[losses][box][gradcheck]") {
  // Overlapping boxes in every arrangement (no coordinate ties, where the IoU has a kink).
  const auto p = Tensor<double>::from({0.1, 0.2, 0.9, 0.7,     //
                                       0.3, 0.1, 0.6, 0.95,    //
                                       0.05, 0.4, 0.5, 0.8,    //
                                       0.2, 0.25, 0.45, 0.5},  // inside the target
                                      {4, 4});
  const auto t = Tensor<double>::from({0.2, 0.1, 0.8, 0.6,  //
                                       0.1, 0.3, 0.7, 0.9,  //
                                       0.3, 0.2, 0.9, 0.7,  //
                                       0.1, 0.15, 0.6, 0.65},
                                      {4, 4});
  const auto w = Tensor<double>::from({1.0, 0.5, 2.0, 1.5}, {4});
  auto r = gradcheck<double>(
      [&](const std::vector<Var<double>>& v) {
        return losses::box_iou_loss(v[0], t, losses::LossOptions<double>().sample_weight(w));
      },
      {p});
  INFO(r.message());
  CHECK(r.ok);
  // A box that does not overlap its target gets no IoU gradient.
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  const Var<double> far = Var<double>::variable(Tensor<double>::from({5, 5, 6, 6}, {1, 4}));
  losses::box_iou_loss(far, Tensor<double>::from({0, 0, 1, 1}, {1, 4})).backward();
  for (Index k = 0; k < 4; ++k) CHECK(far.grad()[k] == 0.0);
}

TEST_CASE("box_iou_loss rejects bad shapes and weights", "[losses][box][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  const Var<float> p = Var<float>::from(Tensor<float>(Shape{3, 4}));
  CHECK_THROWS_WITH(losses::box_iou_loss(p, Tensor<float>(Shape{3, 5})),
                    Catch::Contains("box_iou_loss") && Catch::Contains("[3, 5]"));
  CHECK_THROWS_WITH(losses::box_iou_loss(Var<float>::from(Tensor<float>(Shape{3, 2})),
                                         Tensor<float>(Shape{3, 2})),
                    Catch::Contains("[N, 4]"));
  const Tensor<float> w(Shape{2});
  CHECK_THROWS_WITH(losses::box_iou_loss(p, Tensor<float>(Shape{3, 4}),
                                         losses::LossOptions<float>().sample_weight(w)),
                    Catch::Contains("box_iou_loss") && Catch::Contains("2 sample weights"));
}

}  // namespace test_autograd_box_loss
