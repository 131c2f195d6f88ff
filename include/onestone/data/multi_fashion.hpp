#pragma once
/// @file multi_fashion.hpp
/// MultiFashion: two Fashion-MNIST items on one canvas, built the way Sener & Koltun (NeurIPS
/// 2018) built MultiMNIST; tasks "left" and "right" (the class of each item).

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/fashion_mnist.hpp"
#include "onestone/tensor/generator.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::data {

/// How MultiFashion images are made (defaults: Sener & Koltun's MultiMNIST recipe).
///
/// - `canvas(36)`: side of the zero canvas;
/// - `offset(6)`: the second (right) item is pasted at [offset, offset + 28) on both axes, the
///   first (left) one at [0, 28); where they overlap the canvas takes the pixel-wise maximum;
/// - `output_size(28)`: the canvas is resized to this side by nearest neighbour (source pixel
///   ⌊i · canvas / output⌋, as PyTorch's `interpolate(mode="nearest")`);
/// - `samples(0)`: how many images to make (0: one per source image);
/// - `seed(0)`: the draw of the partner items (the left item of image i is source image i, the
///   right one a uniformly drawn other source image) — the same seed gives the same images;
/// - `flat(false)`: inputs `[N, 1, S, S]` for convolutions, or `[N, S·S]` when true.
///
/// Example: `MultiFashionOptions().samples(10000).seed(1)`
struct MultiFashionOptions {
  MultiFashionOptions& canvas(Index c) {
    canvas_ = c;
    return *this;
  }
  MultiFashionOptions& offset(Index o) {
    offset_ = o;
    return *this;
  }
  MultiFashionOptions& output_size(Index s) {
    output_ = s;
    return *this;
  }
  MultiFashionOptions& samples(Index n) {
    samples_ = n;
    return *this;
  }
  MultiFashionOptions& seed(std::uint64_t s) {
    seed_ = s;
    return *this;
  }
  MultiFashionOptions& flat(bool f) {
    flat_ = f;
    return *this;
  }
  Index canvas_ = 36, offset_ = 6, output_ = 28, samples_ = 0;
  std::uint64_t seed_ = 0;
  bool flat_ = false;
};

/// Builds MultiFashion (or MultiMNIST, from MNIST files of the same layout) from a dataset of
/// 28×28 images with an "item" class target, e.g. `load_fashion_mnist`'s: image i has source
/// image i mod N at the top-left and a randomly drawn other image at the bottom-right. Tasks:
/// "left" and "right", each with the 10 item classes.
///
/// @param source inputs `[N, 784]` or `[N, 1, 28, 28]` in [0, 1], and a target "item"
/// @throws std::invalid_argument when the source is not 28×28 images with an "item" target, has
///         fewer than 2 images, or the geometry does not fit (offset + 28 > canvas)
///
/// Example:
/// @code
/// auto fashion = onestone::data::load_fashion_mnist<float>(
///     onestone::data::default_fashion_mnist_dir(), /*train=*/true, 20000);
/// auto multi = onestone::data::make_multi_fashion(fashion,
///                                                 onestone::data::MultiFashionOptions().seed(1));
/// // multi.inputs(): [20000, 1, 28, 28]; targets "left", "right"
/// @endcode
template <class T>
Dataset<T> make_multi_fashion(const Dataset<T>& source,
                              const MultiFashionOptions& opt = MultiFashionOptions()) {
  constexpr Index kSide = 28;
  const Index N = source.size();
  if (source.sample_numel() != kSide * kSide)
    throw std::invalid_argument("make_multi_fashion: source samples have shape " +
                                source.sample_shape().str() + ", expected 28x28 images");
  if (N < 2)
    throw std::invalid_argument("make_multi_fashion: the source has " + std::to_string(N) +
                                " image(s); at least 2 are needed");
  if (opt.canvas_ < kSide || opt.offset_ < 0 || opt.offset_ + kSide > opt.canvas_ ||
      opt.output_ < 1 || opt.samples_ < 0)
    throw std::invalid_argument(
        "make_multi_fashion: canvas " + std::to_string(opt.canvas_) + ", offset " +
        std::to_string(opt.offset_) + ", output " + std::to_string(opt.output_) + ", samples " +
        std::to_string(opt.samples_) +
        " do not fit 28x28 items (need 0 <= offset, offset + 28 <= canvas, output >= 1)");
  const Target<T>& item = source.target("item");
  if (item.labels.numel() != N)
    throw std::invalid_argument(
        "make_multi_fashion: the source's 'item' target holds no class "
        "label per image");
  const Index M = opt.samples_ > 0 ? opt.samples_ : N;
  const Index C = opt.canvas_, S = opt.output_;
  Tensor<T> x(opt.flat_ ? Shape{M, S * S} : Shape{M, 1, S, S});
  Tensor<std::int64_t> left(Shape{M}), right(Shape{M});
  Tensor<T> canvas(Shape{C, C});
  Generator gen(opt.seed_);
  const T* src = source.inputs().data();
  for (Index m = 0; m < M; ++m) {
    const Index a = m % N;
    // A partner other than a: draw from the N - 1 others.
    Index b = static_cast<Index>(gen.below(static_cast<std::uint64_t>(N - 1)));
    if (b >= a) ++b;
    canvas.fill(T(0));
    const T* ia = src + a * kSide * kSide;
    const T* ib = src + b * kSide * kSide;
    for (Index r = 0; r < kSide; ++r)
      for (Index c = 0; c < kSide; ++c) canvas[r * C + c] = ia[r * kSide + c];
    for (Index r = 0; r < kSide; ++r)
      for (Index c = 0; c < kSide; ++c) {
        T& dst = canvas[(r + opt.offset_) * C + c + opt.offset_];
        dst = std::max(dst, ib[r * kSide + c]);
      }
    T* out = x.data() + m * S * S;
    for (Index r = 0; r < S; ++r) {
      const Index sr = r * C / S;
      for (Index c = 0; c < S; ++c) out[r * S + c] = canvas[sr * C + c * C / S];
    }
    left[m] = item.labels[a];
    right[m] = item.labels[b];
  }
  Dataset<T> ds(std::move(x));
  ds.add_classification("left", std::move(left), 10);
  ds.add_classification("right", std::move(right), 10);
  return ds;
}

/// Loads Fashion-MNIST's training or test split from `dir` (see `load_fashion_mnist`) and
/// builds MultiFashion from it; `limit` > 0 keeps the first `limit` source images.
///
/// Example:
/// @code
/// auto train = onestone::data::load_multi_fashion<float>(
///     onestone::data::default_fashion_mnist_dir(), true, 0,
///     onestone::data::MultiFashionOptions().seed(1));
/// @endcode
template <class T>
Dataset<T> load_multi_fashion(const std::string& dir, bool train, Index limit = 0,
                              const MultiFashionOptions& opt = MultiFashionOptions()) {
  return make_multi_fashion(load_fashion_mnist<T>(dir, train, limit), opt);
}

}  // namespace onestone::data
