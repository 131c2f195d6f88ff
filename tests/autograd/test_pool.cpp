// max_pool2d and avg_pool2d: hand-computed values, finite-difference gradients in double,
// NaN propagation, bad geometry rejected naming the operation and the input's shape.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "onestone/onestone.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_pool {

using namespace onestone;

namespace {
Tensor<double> ramp() {  // 1..16 as [1, 1, 4, 4]
  Tensor<double> x({1, 1, 4, 4});
  for (Index k = 0; k < 16; ++k) x[k] = static_cast<double>(k + 1);
  return x;
}
void check_values(const Var<double>& y, std::initializer_list<double> want) {
  REQUIRE(y.numel() == static_cast<Index>(want.size()));
  Index k = 0;
  for (double w : want) CHECK(y.data()[k++] == Approx(w).epsilon(1e-15));
}
}  // namespace

TEST_CASE("pooling: hand-computed values", "[autograd][pool]") {
  auto& tape = autograd::Tape<double>::current();
  tape.reset();
  const Var<double> x = Var<double>::from(ramp());
  check_values(max_pool2d(x, Pool2dGeometry(2)), {6, 8, 14, 16});
  check_values(avg_pool2d(x, Pool2dGeometry(2)), {3.5, 5.5, 11.5, 13.5});
  check_values(max_pool2d(x, Pool2dGeometry(3).stride(2).padding(1)), {6, 8, 14, 16});
  // 3x3, stride 1, padding 1: the corner window holds 1, 2, 5, 6.
  const Var<double> a = avg_pool2d(x, Pool2dGeometry(3).stride(1).padding(1));
  CHECK(a.shape() == Shape({1, 1, 4, 4}));
  CHECK(a.data()[0] == Approx(14.0 / 9));
  CHECK(a.data()[5] == Approx((1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11) / 9.0));
  const Var<double> e =
      avg_pool2d(x, Pool2dGeometry(3).stride(1).padding(1).count_include_pad(false));
  CHECK(e.data()[0] == Approx(14.0 / 4));
  CHECK(e.data()[1] == Approx((1 + 2 + 3 + 5 + 6 + 7) / 6.0));
  // Rectangular window and stride.
  check_values(max_pool2d(x, Pool2dGeometry(1, 2).stride(2, 2)), {2, 4, 10, 12});
  // A NaN is the maximum of its window.
  Tensor<double> xn = ramp();
  xn[0] = std::numeric_limits<double>::quiet_NaN();
  const Var<double> m = max_pool2d(Var<double>::from(xn), Pool2dGeometry(2));
  CHECK(std::isnan(m.data()[0]));
  CHECK(m.data()[1] == 8);
}

TEST_CASE("pooling: gradients by finite differences", "[autograd][pool][gradcheck]") {
  Tensor<double> x({2, 3, 6, 5});
  for (Index k = 0; k < x.numel(); ++k) x[k] = std::sin(1.7 * static_cast<double>(k) + 0.3);
  const Pool2dGeometry geoms[] = {Pool2dGeometry(2), Pool2dGeometry(3).stride(2).padding(1),
                                  Pool2dGeometry(3).stride(1).padding(1),
                                  Pool2dGeometry(2, 3).stride(1, 2),
                                  Pool2dGeometry(3).stride(1).padding(1).count_include_pad(false),
                                  // Windows tiling the input (max-pool's one-pass backward),
                                  // with rows and columns no window covers.
                                  Pool2dGeometry(3), Pool2dGeometry(2, 3)};
  for (const auto& g : geoms) {
    INFO("kernel " << g.kh_ << "x" << g.kw_ << " stride " << g.sh_ << "x" << g.sw_ << " padding "
                   << g.ph_ << " include_pad " << g.count_include_pad_);
    // kind 2: max pooling of an input that also feeds another operation (its gradient is
    // then accumulated into rather than written fresh, whichever backward runs first).
    for (int kind = 0; kind < 3; ++kind) {
      auto r = gradcheck<double>(
          [&](const std::vector<Var<double>>& v) {
            const Var<double> y = kind == 1 ? avg_pool2d(v[0], g) : max_pool2d(v[0], g);
            Tensor<double> c(y.shape());
            for (Index k = 0; k < c.numel(); ++k) c[k] = std::cos(0.61 * static_cast<double>(k));
            const Var<double> l = sum(y * Var<double>::from(std::move(c)));
            return kind == 2 ? l + sum(v[0] * v[0]) + sum(max_pool2d(v[0] * 0.5, g)) : l;
          },
          {x});
      INFO((kind == 1 ? "avg" : "max") << " (kind " << kind << "): " << r.message());
      CHECK(r.ok);
    }
  }
}

TEST_CASE("pooling rejects bad input", "[autograd][pool][errors]") {
  auto& tape = autograd::Tape<float>::current();
  tape.reset();
  const Var<float> x = Var<float>::from(Tensor<float>({1, 2, 4, 4}));
  using Catch::Contains;
  CHECK_THROWS_WITH(max_pool2d(Var<float>::from(Tensor<float>({2, 4, 4})), Pool2dGeometry(2)),
                    Contains("max_pool2d") && Contains("[2, 4, 4]"));
  CHECK_THROWS_WITH(avg_pool2d(x, Pool2dGeometry(5)),
                    Contains("avg_pool2d") && Contains("larger than the padded input"));
  CHECK_THROWS_WITH(max_pool2d(x, Pool2dGeometry(2).padding(2)),
                    Contains("padding at most half the kernel"));
  CHECK_THROWS_WITH(avg_pool2d(x, Pool2dGeometry(2).stride(0)), Contains("stride"));
  nn::MaxPool2d<float> pool(Pool2dGeometry(2));
  CHECK(pool.forward(x).shape() == Shape({1, 2, 2, 2}));
  CHECK(pool.parameters().empty());
}

namespace {
// The 2x2 / 2 fast path (AVX-512 kernel or scalar loop) against the window rule written out:
// candidates in row-major order, a later one wins when larger or when it is NaN and the maximum
// is not; the gradient goes to that element.
template <typename T>
void check_fast_maxpool(const Shape& shape, bool with_nan) {
  auto& tape = autograd::Tape<T>::current();
  tape.reset();
  const Index P = shape[0] * shape[1], H = shape[2], W = shape[3], HO = H / 2, WO = W / 2;
  Tensor<T> x(shape);
  Generator g(11);
  for (Index k = 0; k < x.numel(); ++k) x[k] = static_cast<T>(std::floor(g.uniform(0, 6)));
  if (with_nan)
    for (Index k = 5; k < x.numel(); k += 37) x[k] = std::numeric_limits<T>::quiet_NaN();
  const Var<T> xv = Var<T>::variable(x);
  const Var<T> y = max_pool2d(xv, Pool2dGeometry(2));
  REQUIRE(y.shape() == (Shape{shape[0], shape[1], HO, WO}));
  Tensor<T> seed(y.shape());
  for (Index k = 0; k < seed.numel(); ++k) seed[k] = static_cast<T>(k + 1);
  Tensor<T> dx(x.shape());
  for (Index p = 0; p < P; ++p)
    for (Index oy = 0; oy < HO; ++oy)
      for (Index ox = 0; ox < WO; ++ox) {
        Index arg = (p * H + 2 * oy) * W + 2 * ox;
        for (Index i = 0; i < 2; ++i)
          for (Index j = 0; j < 2; ++j) {
            const Index at = (p * H + 2 * oy + i) * W + 2 * ox + j;
            if (x[at] > x[arg] || (std::isnan(x[at]) && !std::isnan(x[arg]))) arg = at;
          }
        const Index o = (p * HO + oy) * WO + ox;
        if (std::isnan(x[arg]))
          CHECK(std::isnan(y.data()[o]));
        else
          CHECK(y.data()[o] == x[arg]);
        dx[arg] += seed[o];
      }
  y.backward(seed);
  const Tensor<T> got = xv.grad();
  for (Index k = 0; k < x.numel(); ++k) CHECK(got[k] == dx[k]);
}
}  // namespace

TEST_CASE("max_pool2d 2x2 stride 2 (fast path) equals the window rule, every kernel set",
          "[autograd][pool]") {
  // Odd sizes (rows and columns no window covers), rows of more than one vector of outputs
  // (16 floats, 8 doubles) with a partial last one, ties and NaNs.
  const autograd::detail::GemmIsa before = autograd::detail::gemm_isa_setting();
  struct Restore {
    autograd::detail::GemmIsa isa;
    ~Restore() { autograd::detail::gemm_isa_setting() = isa; }
  } restore{before};
  const Shape shapes[] = {{2, 3, 7, 9}, {1, 2, 5, 71}, {3, 1, 4, 32}, {1, 1, 2, 2}};
  for (const autograd::detail::GemmIsa isa :
       {autograd::detail::GemmIsa::Avx512, autograd::detail::GemmIsa::Eigen}) {
    autograd::detail::set_gemm_isa(isa);
    for (const Shape& s : shapes)
      for (bool nan : {false, true}) {
        INFO("isa " << static_cast<int>(autograd::detail::gemm_isa_setting()) << ", shape "
                    << s.str() << ", NaN " << nan);
        check_fast_maxpool<double>(s, nan);
        check_fast_maxpool<float>(s, nan);
      }
  }
}

}  // namespace test_autograd_pool
