#pragma once
/// @file synthetic_cohort.hpp
/// A synthetic clinical cohort: mixed covariates and three tasks driven by one latent risk —
/// a diagnosis (binary class), a lesion size (real value) and right-censored survival.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::data {

/// Options of `make_synthetic_cohort`: `samples(2000)`, `features(12)` (>= 4),
/// `censoring(0.3)` (target fraction of censored survival times, in [0, 0.95]), `noise(1.0)`
/// (multiplies every task's noise) and `seed(0)`.
///
/// Example: `CohortOptions().samples(300).censoring(0.5).seed(3)`
struct CohortOptions {
  CohortOptions& samples(Index n) {
    samples_ = n;
    return *this;
  }
  CohortOptions& features(Index f) {
    features_ = f;
    return *this;
  }
  CohortOptions& censoring(double rate) {
    censoring_ = rate;
    return *this;
  }
  CohortOptions& noise(double s) {
    noise_ = s;
    return *this;
  }
  CohortOptions& seed(std::uint64_t s) {
    seed_ = s;
    return *this;
  }
  Index samples_ = 2000, features_ = 12;
  double censoring_ = 0.3, noise_ = 1.0;
  std::uint64_t seed_ = 0;
};

/// Makes a synthetic cohort of `samples` patients, deterministic for the seed.
///
/// Recipe (F features, g = `noise`):
/// - covariates x [N, F]: the first ⌊F/3⌋ are binary (Bernoulli with p in [0.2, 0.6], drawn
///   once per feature), the others standard Gaussian;
/// - latent risk r = Σₖ βₖxₖ + 0.4·x_a·x_b + 0.3·(x_a² − 1), with x_a, x_b the first two
///   Gaussian covariates; βₖ = ±U(0.25, 0.6) (random sign) for the first ⌈2F/3⌉ covariates
///   (binary ones centred: βₖ(xₖ − pₖ)), 0 for the rest (pure noise features); then r is
///   standardised to mean 0, sd 1 over the cohort;
/// - "diagnosis" (Class, 2 classes): y ~ Bernoulli(σ(2r + g·ε)), ε ~ N(0, 1);
/// - "lesion_size" (Value [N, 1]): exp(0.5r + 0.3g·ε) (a size in cm, log-normal);
/// - "survival" (Composite, fields "time" and "event" [N]): event time T ~ Exponential with
///   hazard 0.1·exp(r) (a proportional-hazards model with log-hazard r), censoring time
///   C ~ Exponential with a rate μ solved by bisection so that the expected censored fraction
///   mean(μ / (μ + 0.1 eʳ)) equals `censoring`; time = min(T, C), event = [T <= C].
/// The three tasks share r, so what one task learns about r helps the others when labels are
/// few. Sample weights are not set (every label present).
///
/// @throws std::invalid_argument for samples < 1, features < 4, or censoring outside [0, 0.95]
///
/// Example:
/// @code
/// auto cohort = onestone::data::make_synthetic_cohort<float>(
///     onestone::data::CohortOptions().samples(500).seed(1));
/// auto [train, test] = cohort.split(0.7, 1);
/// @endcode
template <typename T>
Dataset<T> make_synthetic_cohort(const CohortOptions& o = CohortOptions()) {
  const Index N = o.samples_, F = o.features_;
  if (N < 1 || F < 4)
    throw std::invalid_argument(
        "make_synthetic_cohort: needs samples >= 1 and features >= 4, got " + std::to_string(N) +
        " samples and " + std::to_string(F) + " features");
  if (!(o.censoring_ >= 0.0 && o.censoring_ <= 0.95))
    throw std::invalid_argument("make_synthetic_cohort: censoring rate " +
                                std::to_string(o.censoring_) + " outside [0, 0.95]");
  Generator gen(o.seed_ * 0x9E3779B97F4A7C15ULL + 0xC0407ULL);
  const Index nbin = F / 3, ninf = (2 * F + 2) / 3;
  std::vector<double> p(static_cast<std::size_t>(F), 0.0), beta(static_cast<std::size_t>(F), 0.0);
  for (Index k = 0; k < F; ++k) {
    if (k < nbin) p[static_cast<std::size_t>(k)] = gen.uniform(0.2, 0.6);
    if (k < ninf)
      beta[static_cast<std::size_t>(k)] =
          (gen.uniform() < 0.5 ? -1.0 : 1.0) * gen.uniform(0.25, 0.6);
  }
  const Index a = nbin, b = nbin + 1;
  Tensor<T> x(Shape{N, F});
  std::vector<double> r(static_cast<std::size_t>(N));
  for (Index i = 0; i < N; ++i) {
    double lin = 0.0;
    for (Index k = 0; k < F; ++k) {
      const std::size_t kk = static_cast<std::size_t>(k);
      const double v = k < nbin ? (gen.uniform() < p[kk] ? 1.0 : 0.0) : gen.normal();
      x[i * F + k] = static_cast<T>(v);
      lin += beta[kk] * (v - p[kk]);
    }
    const double xa = static_cast<double>(x[i * F + a]), xb = static_cast<double>(x[i * F + b]);
    r[static_cast<std::size_t>(i)] = lin + 0.4 * xa * xb + 0.3 * (xa * xa - 1.0);
  }
  double mean = 0, var = 0;
  for (double v : r) mean += v;
  mean /= static_cast<double>(N);
  for (double v : r) var += (v - mean) * (v - mean);
  const double sd = N > 1 && var > 0 ? std::sqrt(var / static_cast<double>(N)) : 1.0;
  for (double& v : r) v = (v - mean) / sd;

  const double g = o.noise_, base = 0.1;
  // Censoring rate μ: expected censored fraction mean(μ / (μ + base·eʳ)) = target (monotone).
  double mu = 0.0;
  if (o.censoring_ > 0.0) {
    auto frac = [&](double m) {
      double s = 0;
      for (double v : r) s += m / (m + base * std::exp(v));
      return s / static_cast<double>(N);
    };
    double lo = 0.0, hi = 1.0;
    while (frac(hi) < o.censoring_ && hi < 1e12) hi *= 2;
    for (int it = 0; it < 100; ++it) {
      const double mid = 0.5 * (lo + hi);
      (frac(mid) < o.censoring_ ? lo : hi) = mid;
    }
    mu = 0.5 * (lo + hi);
  }
  Tensor<std::int64_t> diag(Shape{N});
  Tensor<T> size(Shape{N, 1}), time(Shape{N}), event(Shape{N});
  for (Index i = 0; i < N; ++i) {
    const double ri = r[static_cast<std::size_t>(i)];
    const double pd = 1.0 / (1.0 + std::exp(-(2.0 * ri + g * gen.normal())));
    diag[i] = gen.uniform() < pd ? 1 : 0;
    size[i] = static_cast<T>(std::exp(0.5 * ri + 0.3 * g * gen.normal()));
    const double u1 = 1.0 - gen.uniform(), u2 = 1.0 - gen.uniform();  // in (0, 1]
    const double te = -std::log(u1) / (base * std::exp(ri));
    const double tc = mu > 0 ? -std::log(u2) / mu : HUGE_VAL;
    time[i] = static_cast<T>(std::min(te, tc));
    event[i] = te <= tc ? T(1) : T(0);
  }
  Dataset<T> ds(std::move(x));
  ds.add_classification("diagnosis", std::move(diag), 2)
      .add_regression("lesion_size", std::move(size));
  Target<T> s;
  s.name = "survival";
  s.kind = TargetKind::Composite;
  s.fields.emplace_back("time", std::move(time));
  s.fields.emplace_back("event", std::move(event));
  ds.add_target(std::move(s));
  return ds;
}

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXPLICIT(DATA_FLOAT, Dataset<float> make_synthetic_cohort<float>(const CohortOptions&))
ONESTONE_EXPLICIT(DATA_DOUBLE, Dataset<double> make_synthetic_cohort<double>(const CohortOptions&))

}  // namespace onestone::data
