#pragma once
/// @file synthetic.hpp
/// The synthetic multi-task regression data of the MMoE paper (Ma et al., KDD 2018), whose task
/// correlation is set exactly by one parameter.
///
/// Construction (all draws from one `Generator(seed)`, so the data is identical on every
/// machine):
///  1. Draw orthonormal u_1..u_T in R^d (Gram-Schmidt on standard-normal vectors).
///  2. w_1 = c u_1 and w_k = c (p u_1 + sqrt(1 - p^2) u_k) for k >= 2, so the cosine similarity
///     of w_1 and w_k is p (and that of w_j, w_k for j, k >= 2 is p^2).
///  3. Draw alpha_i, beta_i ~ N(0, 1) for i = 1..m, once, shared by all tasks. (The paper leaves
///     them as "given parameters"; a fixed choice such as alpha_i = i produces fast-oscillating,
///     nearly noise-like terms for large i, so we draw them from the seed instead.)
///  4. For each sample x ~ N(0, I_d) and task k:
///     y_k = w_k^T x + sum_{i=1..m} sin(alpha_i w_k^T x + beta_i) + eps, eps ~ N(0, noise_std^2).
/// With m = 0 and noise_std = 0 the Pearson correlation of y_1 and y_k is exactly p in
/// expectation.

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::data {

/// Options of `make_mmoe_synthetic`, set with chained builders and read with same-named getters.
///
/// Fields: `samples` N (10000), `dim` d (100), `num_tasks` T (2, at most d), `correlation` p
/// (0.0, in [-1, 1]), `sine_terms` m (10), `scale` c (1.0), `noise_std` (0.1, i.e. variance
/// 0.01), `seed` (0).
///
/// @code
/// auto opts = onestone::data::SyntheticOptions().samples(5000).correlation(0.9).seed(3);
/// @endcode
struct SyntheticOptions {
  SyntheticOptions& samples(Index v) {
    samples_ = v;
    return *this;
  }
  SyntheticOptions& dim(Index v) {
    dim_ = v;
    return *this;
  }
  SyntheticOptions& num_tasks(Index v) {
    num_tasks_ = v;
    return *this;
  }
  SyntheticOptions& correlation(double v) {
    correlation_ = v;
    return *this;
  }
  SyntheticOptions& sine_terms(Index v) {
    sine_terms_ = v;
    return *this;
  }
  SyntheticOptions& scale(double v) {
    scale_ = v;
    return *this;
  }
  SyntheticOptions& noise_std(double v) {
    noise_std_ = v;
    return *this;
  }
  SyntheticOptions& seed(std::uint64_t v) {
    seed_ = v;
    return *this;
  }
  Index samples() const { return samples_; }
  Index dim() const { return dim_; }
  Index num_tasks() const { return num_tasks_; }
  double correlation() const { return correlation_; }
  Index sine_terms() const { return sine_terms_; }
  double scale() const { return scale_; }
  double noise_std() const { return noise_std_; }
  std::uint64_t seed() const { return seed_; }

  /// Throws std::invalid_argument naming the first invalid option: samples < 1, dim < 1,
  /// num_tasks < 1 or > dim, correlation outside [-1, 1], sine_terms < 0, a non-finite scale,
  /// or a negative / non-finite noise_std.
  void validate() const {
    const std::string op = "make_mmoe_synthetic: ";
    if (samples_ < 1)
      throw std::invalid_argument(op + "samples must be >= 1, got " + std::to_string(samples_));
    if (dim_ < 1) throw std::invalid_argument(op + "dim must be >= 1, got " + std::to_string(dim_));
    if (num_tasks_ < 1 || num_tasks_ > dim_)
      throw std::invalid_argument(op + "num_tasks must be in [1, dim = " + std::to_string(dim_) +
                                  "], got " + std::to_string(num_tasks_));
    if (!(correlation_ >= -1.0 && correlation_ <= 1.0))
      throw std::invalid_argument(op + "correlation must be in [-1, 1], got " +
                                  std::to_string(correlation_));
    if (sine_terms_ < 0)
      throw std::invalid_argument(op + "sine_terms must be >= 0, got " +
                                  std::to_string(sine_terms_));
    if (!std::isfinite(scale_))
      throw std::invalid_argument(op + "scale must be finite, got " + std::to_string(scale_));
    if (!(noise_std_ >= 0.0) || !std::isfinite(noise_std_))
      throw std::invalid_argument(op + "noise_std must be finite and >= 0, got " +
                                  std::to_string(noise_std_));
  }

 private:
  Index samples_ = 10000;
  Index dim_ = 100;
  Index num_tasks_ = 2;
  double correlation_ = 0.0;
  Index sine_terms_ = 10;
  double scale_ = 1.0;
  double noise_std_ = 0.1;
  std::uint64_t seed_ = 0;
};

/// Generates the MMoE synthetic dataset described in this file's header.
///
/// @tparam T element type of inputs and targets.
/// @return inputs `[N, d]` and regression tasks "task0", "task1", ... each `[N, 1]`.
///
/// @code
/// auto ds = onestone::data::make_mmoe_synthetic<float>(
///     onestone::data::SyntheticOptions().correlation(0.5).seed(1));
/// @endcode
template <class T>
Dataset<T> make_mmoe_synthetic(const SyntheticOptions& options = SyntheticOptions()) {
  options.validate();
  const Index n = options.samples(), d = options.dim(), tasks = options.num_tasks();
  const Index m = options.sine_terms();
  const double p = options.correlation(), c = options.scale();
  Generator gen(options.seed());

  // 1. orthonormal u_1..u_T by (twice-applied) Gram-Schmidt; redraw a vector that collapses
  using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  RowMat u(tasks, d);
  for (Index k = 0; k < tasks; ++k) {
    for (;;) {
      for (Index j = 0; j < d; ++j) u(k, j) = gen.normal();
      for (int pass = 0; pass < 2; ++pass)
        for (Index q = 0; q < k; ++q) u.row(k) -= u.row(q).dot(u.row(k)) * u.row(q);
      const double norm = u.row(k).norm();
      if (norm > 1e-6) {
        u.row(k) /= norm;
        break;
      }
    }
  }
  // 2. task weights
  RowMat w(tasks, d);
  w.row(0) = c * u.row(0);
  const double q = std::sqrt(std::max(0.0, 1.0 - p * p));
  for (Index k = 1; k < tasks; ++k) w.row(k) = c * (p * u.row(0) + q * u.row(k));
  // 3. sine parameters shared by all tasks
  Eigen::VectorXd alpha(m), beta(m);
  for (Index i = 0; i < m; ++i) {
    alpha(i) = gen.normal();
    beta(i) = gen.normal();
  }
  // 4. samples
  Tensor<T> x(Shape{n, d});
  std::vector<Tensor<T>> y(static_cast<std::size_t>(tasks), Tensor<T>(Shape{n, 1}));
  Eigen::VectorXd xi(d), z(tasks);
  MatrixMap<T> xm = x.matrix();
  for (Index i = 0; i < n; ++i) {
    for (Index j = 0; j < d; ++j) xi(j) = gen.normal();
    xm.row(i) = xi.transpose().cast<T>();
    z.noalias() = w * xi;
    for (Index k = 0; k < tasks; ++k) {
      double v = z(k);
      for (Index s = 0; s < m; ++s) v += std::sin(alpha(s) * z(k) + beta(s));
      if (options.noise_std() > 0) v += gen.normal(0.0, options.noise_std());
      y[static_cast<std::size_t>(k)][i] = static_cast<T>(v);
    }
  }
  Dataset<T> ds(std::move(x));
  for (Index k = 0; k < tasks; ++k)
    ds.add_regression("task" + std::to_string(k), std::move(y[static_cast<std::size_t>(k)]));
  return ds;
}
ONESTONE_EXPLICIT(DATA_FLOAT, Dataset<float> make_mmoe_synthetic<float>(const SyntheticOptions&))
ONESTONE_EXPLICIT(DATA_DOUBLE, Dataset<double> make_mmoe_synthetic<double>(const SyntheticOptions&))

}  // namespace onestone::data
