#include <catch2/catch.hpp>

#include "onestone/autograd/detail/gemm.hpp"
#include "onestone/tensor/generator.hpp"

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

TEMPLATE_TEST_CASE("gemm matches Eigen for every transpose, size and thread count",
                   "[autograd][gemm]", float, double) {
  using T = TestType;
  const Index sizes[][3] = {{1, 1, 1},     {3, 5, 7},      {32, 10, 256}, {256, 256, 784},
                            {17, 300, 33}, {300, 17, 64},  {1, 257, 130}, {1, 10, 784},
                            {1, 300, 784}, {300, 521, 101}};
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
          RowMatrix<T> C = RowMatrix<T>::Constant(M, N, T(7));
          autograd::detail::gemm<T>(M, N, K, A.data(), A.cols(), ta, B.data(), B.cols(), tb,
                                    C.data(), N, false);
          const double tol = std::is_same<T, float>::value ? 1e-4 : 1e-12;
          INFO("M=" << M << " N=" << N << " K=" << K << " ta=" << ta << " tb=" << tb
                    << " threads=" << threads);
          CHECK((C - ref).cwiseAbs().maxCoeff() <= tol * (1 + K));
          autograd::detail::gemm<T>(M, N, K, A.data(), A.cols(), ta, B.data(), B.cols(), tb,
                                    C.data(), N, true);
          CHECK((C - 2 * ref).cwiseAbs().maxCoeff() <= 2 * tol * (1 + K));
        }
    }
  }
  set_num_threads(1);
}
