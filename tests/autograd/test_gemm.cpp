#include <catch2/catch.hpp>

#include "onestone/autograd/detail/gemm.hpp"
#include "onestone/tensor/generator.hpp"

// This file's helpers and test cases live in a namespace of their own: an area's test files
// are compiled together in unity builds (tests/CMakeLists.txt, ONESTONE_TEST_UNITY_BATCH).
namespace test_autograd_gemm {

using namespace onestone;

namespace {
template <typename T>
RowMatrix<T> random(Index r, Index c, std::uint64_t seed) {
  Generator g(seed);
  RowMatrix<T> m(r, c);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(g.uniform(-1, 1));
  return m;
}
}  // namespace

// Every kernel the processor supports (Eigen's, and onestone's AVX2 and AVX-512 ones), over
// shapes that exercise each edge: tails of the 6-row tile (and the 4-row tiles that finish M =
// 20 as 6, 6, 4, 4) and of the vector, several depth panels (K > 256), several column panels
// (N > 384 floats), every transpose, 1 and 2 threads.
TEMPLATE_TEST_CASE("gemm matches Eigen for every kernel, transpose, size and thread count",
                   "[autograd][gemm]", float, double) {
  using T = TestType;
  using autograd::detail::GemmIsa;
  const Index sizes[][3] = {{1, 1, 1},     {3, 5, 7},       {32, 10, 256}, {256, 256, 784},
                            {17, 300, 33}, {300, 17, 64},   {1, 257, 130}, {1, 10, 784},
                            {1, 300, 784}, {300, 521, 101}, {7, 1000, 3},  {13, 64, 600},
                            {6, 64, 257},  {2, 800, 515},   {65, 33, 16},  {40, 3, 300},
                            {9, 1, 64},    {20, 64, 250},   {8, 130, 40}};
  for (GemmIsa isa : {GemmIsa::Eigen, GemmIsa::Avx2, GemmIsa::Avx512}) {
    if (isa > autograd::detail::best_gemm_isa()) continue;
    autograd::detail::set_gemm_isa(isa);
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      for (auto& s : sizes) {
        const Index M = s[0], N = s[1], K = s[2];
        for (int ta = 0; ta < 2; ++ta)
          for (int tb = 0; tb < 2; ++tb) {
            RowMatrix<T> A = ta ? random<T>(K, M, 1) : random<T>(M, K, 1);
            RowMatrix<T> B = tb ? random<T>(N, K, 2) : random<T>(K, N, 2);
            RowMatrix<T> ref(M, N);
            RowMatrix<T> opA = ta ? RowMatrix<T>(A.transpose()) : A;
            RowMatrix<T> opB = tb ? RowMatrix<T>(B.transpose()) : B;
            ref.noalias() = opA * opB;
            // C lives inside a wider buffer (ldc > N) whose margin must stay untouched.
            RowMatrix<T> Cbuf = RowMatrix<T>::Constant(M, N + 3, T(7));
            autograd::detail::gemm<T>(M, N, K, A.data(), A.cols(), ta, B.data(), B.cols(), tb,
                                      Cbuf.data(), N + 3, false);
            const double tol = std::is_same<T, float>::value ? 1e-4 : 1e-12;
            INFO("isa=" << static_cast<int>(isa) << " M=" << M << " N=" << N << " K=" << K
                        << " ta=" << ta << " tb=" << tb << " threads=" << threads);
            CHECK((Cbuf.leftCols(N) - ref).cwiseAbs().maxCoeff() <= tol * (1 + K));
            autograd::detail::gemm<T>(M, N, K, A.data(), A.cols(), ta, B.data(), B.cols(), tb,
                                      Cbuf.data(), N + 3, true);
            CHECK((Cbuf.leftCols(N) - 2 * ref).cwiseAbs().maxCoeff() <= 2 * tol * (1 + K));
            CHECK((Cbuf.rightCols(3).array() == T(7)).all());
          }
      }
    }
  }
  autograd::detail::set_gemm_isa(autograd::detail::best_gemm_isa());
  set_num_threads(1);
}

TEST_CASE("gemm with an empty inner dimension writes zeros or leaves C", "[autograd][gemm]") {
  for (auto isa : {autograd::detail::GemmIsa::Eigen, autograd::detail::best_gemm_isa()}) {
    autograd::detail::set_gemm_isa(isa);
    RowMatrix<float> A(4, 0), B(0, 5), C = RowMatrix<float>::Constant(4, 5, 3.f);
    autograd::detail::gemm<float>(4, 5, 0, A.data(), 0, false, B.data(), 5, false, C.data(), 5,
                                  true);
    CHECK((C.array() == 3.f).all());
    autograd::detail::gemm<float>(4, 5, 0, A.data(), 0, false, B.data(), 5, false, C.data(), 5,
                                  false);
    CHECK((C.array() == 0.f).all());
  }
  autograd::detail::set_gemm_isa(autograd::detail::best_gemm_isa());
}

TEST_CASE("the GEMM kernel in use is the processor's best unless set", "[autograd][gemm]") {
  using autograd::detail::GemmIsa;
  const GemmIsa best = autograd::detail::best_gemm_isa();
  CHECK(autograd::detail::gemm_isa_setting() == best);
  autograd::detail::set_gemm_isa(GemmIsa::Avx512);  // never above what the processor has
  CHECK(autograd::detail::gemm_isa_setting() == best);
  autograd::detail::set_gemm_isa(GemmIsa::Eigen);
  CHECK(autograd::detail::gemm_isa_setting() == GemmIsa::Eigen);
  autograd::detail::set_gemm_isa(best);
}

}  // namespace test_autograd_gemm
