#pragma once
/// @file fashion_mnist.hpp
/// Fashion-MNIST as a two-task dataset: "item" (10 classes) and "group" (4 coarse classes).

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "onestone/config.hpp"
#include "onestone/data/dataset.hpp"
#include "onestone/data/idx.hpp"
#include "onestone/tensor/tensor.hpp"

namespace onestone::data {

/// The folder holding the Fashion-MNIST files: `$ONESTONE_FASHION_MNIST` when set and
/// non-empty, else `/usr/share/datasets/fashion-mnist` (where the Debian-style package
/// `dataset-fashion-mnist` installs them).
inline std::string default_fashion_mnist_dir() {
  const char* env = std::getenv("ONESTONE_FASHION_MNIST");
  if (env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";
}

/// Names of the 10 item classes, indexed by label.
inline const std::vector<std::string>& fashion_mnist_item_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

/// Names of the 4 group classes, indexed by group label.
inline const std::vector<std::string>& fashion_mnist_group_names() {
  static const std::vector<std::string> names = {"upper body", "lower/full body", "footwear",
                                                 "bag"};
  return names;
}

/// The group of item class `item`: 0 upper body (T-shirt/top, Pullover, Coat, Shirt),
/// 1 lower/full body (Trouser, Dress), 2 footwear (Sandal, Sneaker, Ankle boot), 3 bag (Bag).
/// Throws std::invalid_argument unless `0 <= item < 10`.
inline int fashion_mnist_group_of(int item) {
  static constexpr int kGroup[10] = {0, 1, 0, 1, 0, 2, 0, 2, 3, 2};
  if (item < 0 || item >= 10)
    throw std::invalid_argument("fashion_mnist_group_of: item " + std::to_string(item) +
                                " outside [0, 10)");
  return kGroup[item];
}

/// The path of `<dir>/<base>.gz`, else `<dir>/<base>`; throws std::runtime_error naming both
/// candidates and how to install the data when neither exists.
inline std::string find_fashion_mnist_file(const std::string& dir, const std::string& base) {
  std::string folder = dir.empty() ? std::string(".") : dir;
  if (folder.back() != '/') folder += '/';
  const std::string gz = folder + base + ".gz";
  const std::string raw = folder + base;
  std::error_code ec;
  if (std::filesystem::is_regular_file(gz, ec)) return gz;
  if (std::filesystem::is_regular_file(raw, ec)) return raw;
  throw std::runtime_error("load_fashion_mnist: cannot find " + base + " (looked for '" + gz +
                           "' and '" + raw +
                           "'); install it with: apt-get install dataset-fashion-mnist "
                           "(or pass the folder with --data DIR)");
}

/// Loads the Fashion-MNIST training (`train = true`, 60000 samples) or test set (10000 samples)
/// from `dir`, reading `{train,t10k}-{images-idx3,labels-idx1}-ubyte` gzipped or raw.
///
/// @tparam T element type of the inputs.
/// @param limit when positive, keeps only the first `limit` samples.
/// @return inputs `[N, 784]` scaled to [0, 1]; tasks "item" (10 classes) and "group" (4 classes,
///         see `fashion_mnist_group_of`).
///
/// @code
/// auto test = onestone::data::load_fashion_mnist<float>(
///     onestone::data::default_fashion_mnist_dir(), /*train=*/false, /*limit=*/1000);
/// @endcode
template <class T>
Dataset<T> load_fashion_mnist(const std::string& dir, bool train, Index limit = 0) {
  const std::string prefix = train ? "train" : "t10k";
  const std::string images_path = find_fashion_mnist_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_fashion_mnist_file(dir, prefix + "-labels-idx1-ubyte");
  Tensor<T> images = read_idx_images<T>(images_path, /*scale_to_unit=*/true, limit);
  Tensor<std::int64_t> items = read_idx_labels(labels_path, limit);
  if (images.size(1) != 784)
    throw std::runtime_error("load_fashion_mnist: " + images_path + " has images of " +
                             std::to_string(images.size(1)) + " pixels, expected 784 (28x28)");
  if (images.size(0) != items.size(0))
    throw std::runtime_error("load_fashion_mnist: " + images_path + " holds " +
                             std::to_string(images.size(0)) + " images but " + labels_path +
                             " holds " + std::to_string(items.size(0)) + " labels");
  Tensor<std::int64_t> groups(Shape{items.size(0)});
  for (Index i = 0; i < items.numel(); ++i) {
    const std::int64_t v = items[i];
    if (v < 0 || v >= 10)
      throw std::runtime_error("load_fashion_mnist: " + labels_path + ": label at index " +
                               std::to_string(i) + " is " + std::to_string(v) +
                               ", outside [0, 10)");
    groups[i] = fashion_mnist_group_of(static_cast<int>(v));
  }
  Dataset<T> ds(std::move(images));
  ds.add_classification("item", std::move(items), 10);
  ds.add_classification("group", std::move(groups), 4);
  return ds;
}
ONESTONE_EXPLICIT(DATA_FLOAT,
                  Dataset<float> load_fashion_mnist<float>(const std::string&, bool, Index))
ONESTONE_EXPLICIT(DATA_DOUBLE,
                  Dataset<double> load_fashion_mnist<double>(const std::string&, bool, Index))

}  // namespace onestone::data
