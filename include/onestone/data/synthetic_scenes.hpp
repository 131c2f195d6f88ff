#pragma once
/// @file synthetic_scenes.hpp
/// Synthetic scenes for classification + detection + segmentation, generated in-process: a few
/// shapes (squares, discs, triangles) on noisy, textured backgrounds.

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

/// Options of `make_synthetic_scenes`.
///
/// - `samples(2000)`, `size(32)`: images [N, 3, size, size] with values in [0, 1];
/// - `max_objects(3)`: each image holds 1 … max_objects shapes, each a square, a disc or a
///   triangle (pointing up) of side or diameter in [`min_extent`, `max_extent`] pixels (default
///   [size/5, size/2]) with a random bright colour, fully inside the image;
/// - `noise(0.08)`: standard deviation of the Gaussian pixel noise; the background is a random
///   dark colour plus a sinusoidal texture of random frequency, orientation and phase;
/// - `seed(0)`: the same seed gives the same scenes.
///
/// Example: `SceneOptions().samples(4000).seed(2)`
struct SceneOptions {
  SceneOptions& samples(Index n) {
    samples_ = n;
    return *this;
  }
  SceneOptions& size(Index s) {
    size_ = s;
    return *this;
  }
  SceneOptions& max_objects(Index k) {
    max_objects_ = k;
    return *this;
  }
  SceneOptions& extent(Index lo, Index hi) {
    min_extent_ = lo;
    max_extent_ = hi;
    return *this;
  }
  SceneOptions& noise(double s) {
    noise_ = s;
    return *this;
  }
  SceneOptions& seed(std::uint64_t s) {
    seed_ = s;
    return *this;
  }
  Index samples_ = 2000, size_ = 32, max_objects_ = 3, min_extent_ = 0, max_extent_ = 0;
  double noise_ = 0.08;
  std::uint64_t seed_ = 0;
};

/// Names of the shape kinds (class k of task "scene" is kind k; mask class k + 1).
inline const std::vector<std::string>& scene_shape_names() {
  static const std::vector<std::string> names = {"square", "disc", "triangle"};
  return names;
}

/// Makes a dataset of synthetic scenes with three tasks on one image:
/// - "scene": the kind of the largest shape (3 classes: square, disc, triangle);
/// - "box": the box (x1, y1, x2, y2) of the largest shape, in [0, 1] image coordinates
///   (pixel edges divided by the size) — a regression target [N, 4];
/// - "mask": per-pixel labels [N, size, size]: 0 background, 1 + kind for a shape's pixels.
/// Shapes are drawn from the smallest to the largest, so the largest is never occluded.
///
/// @throws std::invalid_argument for a size below 8, no objects, or extents that do not fit
///
/// Example:
/// @code
/// auto scenes = onestone::data::make_synthetic_scenes<float>(
///     onestone::data::SceneOptions().samples(2000).seed(1));
/// // scenes.inputs(): [2000, 3, 32, 32]; targets "scene", "box", "mask"
/// @endcode
template <class T>
Dataset<T> make_synthetic_scenes(const SceneOptions& opt = SceneOptions()) {
  const Index S = opt.size_, N = opt.samples_;
  const Index lo = opt.min_extent_ > 0 ? opt.min_extent_ : std::max<Index>(3, S / 5);
  const Index hi = opt.max_extent_ > 0 ? opt.max_extent_ : std::max(lo, S / 2);
  if (S < 8 || N < 1 || opt.max_objects_ < 1 || lo < 2 || hi < lo || hi > S || !(opt.noise_ >= 0))
    throw std::invalid_argument(
        "make_synthetic_scenes: need size >= 8, samples >= 1, max_objects >= 1, 2 <= min extent "
        "<= max extent <= size and noise >= 0 (got size " +
        std::to_string(S) + ", samples " + std::to_string(N) + ", max_objects " +
        std::to_string(opt.max_objects_) + ", extent [" + std::to_string(lo) + ", " +
        std::to_string(hi) + "])");
  Tensor<T> x(Shape{N, 3, S, S});
  Tensor<std::int64_t> scene(Shape{N}), mask(Shape{N, S, S});
  Tensor<T> box(Shape{N, 4});
  Generator g(opt.seed_);
  struct Obj {
    int kind;
    Index ext, x0, y0;
    double rgb[3];
  };
  std::vector<Obj> objs(static_cast<std::size_t>(opt.max_objects_));
  const double pi = 3.14159265358979323846;
  for (Index n = 0; n < N; ++n) {
    T* img = x.data() + n * 3 * S * S;
    std::int64_t* m = mask.data() + n * S * S;
    // Background: a dark colour, a sinusoidal texture, Gaussian noise.
    const double fx = g.uniform(0.2, 1.2), angle = g.uniform(0, pi), phase = g.uniform(0, 2 * pi);
    const double cx = std::cos(angle) * fx, cy = std::sin(angle) * fx;
    for (int c = 0; c < 3; ++c) {
      const double base = g.uniform(0.05, 0.35), amp = g.uniform(0.03, 0.12);
      for (Index r = 0; r < S; ++r)
        for (Index q = 0; q < S; ++q)
          img[(c * S + r) * S + q] =
              static_cast<T>(base + amp * std::sin(cx * q + cy * r + phase + c));
    }
    std::fill(m, m + S * S, 0);
    const Index k = 1 + static_cast<Index>(g.below(static_cast<std::uint64_t>(opt.max_objects_)));
    for (Index j = 0; j < k; ++j) {
      Obj& o = objs[static_cast<std::size_t>(j)];
      o.kind = static_cast<int>(g.below(3));
      o.ext = lo + static_cast<Index>(g.below(static_cast<std::uint64_t>(hi - lo + 1)));
      o.x0 = static_cast<Index>(g.below(static_cast<std::uint64_t>(S - o.ext + 1)));
      o.y0 = static_cast<Index>(g.below(static_cast<std::uint64_t>(S - o.ext + 1)));
      for (double& v : o.rgb) v = g.uniform(0.55, 1.0);
    }
    // Smallest first; among equal extents the one drawn later counts as the largest.
    std::stable_sort(objs.begin(), objs.begin() + k,
                     [](const Obj& a, const Obj& b) { return a.ext < b.ext; });
    for (Index j = 0; j < k; ++j) {
      const Obj& o = objs[static_cast<std::size_t>(j)];
      const double e = static_cast<double>(o.ext);
      for (Index r = 0; r < o.ext; ++r)
        for (Index q = 0; q < o.ext; ++q) {
          // Pixel centre relative to the shape's square cell, in [0, e).
          const double u = q + 0.5, v = r + 0.5;
          bool inside = true;
          if (o.kind == 1) {
            inside = (u - e / 2) * (u - e / 2) + (v - e / 2) * (v - e / 2) <= e * e / 4;
          } else if (o.kind == 2) {
            // Apex at the top centre, base along the bottom edge.
            inside = std::abs(u - e / 2) <= v / 2;
          }
          if (!inside) continue;
          const Index yy = o.y0 + r, xx = o.x0 + q;
          for (int c = 0; c < 3; ++c) img[(c * S + yy) * S + xx] = static_cast<T>(o.rgb[c]);
          m[yy * S + xx] = 1 + o.kind;
        }
    }
    const Obj& big = objs[static_cast<std::size_t>(k - 1)];
    scene[n] = big.kind;
    const T inv = T(1) / static_cast<T>(S);
    box[4 * n + 0] = static_cast<T>(big.x0) * inv;
    box[4 * n + 1] = static_cast<T>(big.y0) * inv;
    box[4 * n + 2] = static_cast<T>(big.x0 + big.ext) * inv;
    box[4 * n + 3] = static_cast<T>(big.y0 + big.ext) * inv;
    for (Index i = 0; i < 3 * S * S; ++i)
      img[i] = static_cast<T>(std::min(1.0, std::max(0.0, img[i] + g.normal(0, opt.noise_))));
  }
  Dataset<T> ds(std::move(x));
  ds.add_classification("scene", std::move(scene), 3);
  ds.add_regression("box", std::move(box));
  ds.add_classification("mask", std::move(mask), 4);
  return ds;
}

// onestone::compiled instantiates these for float and double (see onestone/config.hpp).
ONESTONE_EXPLICIT(DATA_FLOAT, Dataset<float> make_synthetic_scenes<float>(const SceneOptions&))
ONESTONE_EXPLICIT(DATA_DOUBLE, Dataset<double> make_synthetic_scenes<double>(const SceneOptions&))

}  // namespace onestone::data
