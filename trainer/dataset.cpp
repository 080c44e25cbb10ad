// Building the train/validation/test tensors of a run: split, normalise, upload.
#include "trainer/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace ablate {
namespace {

// Fisher-Yates with std::mt19937_64, whose output the standard fixes exactly
// (std::shuffle's is implementation-defined): the same seed picks the same
// validation images with any compiler.
void seeded_shuffle(std::vector<int64_t>& values, std::mt19937_64& rng) {
  for (size_t i = values.size(); i > 1; --i) {
    size_t j = static_cast<size_t>(rng() % i);
    std::swap(values[i - 1], values[j]);
  }
}

torch::Tensor labels_tensor(const std::vector<uint8_t>& labels, const std::vector<int64_t>& rows) {
  auto out = torch::empty({static_cast<int64_t>(rows.size())}, torch::kInt64);
  auto* dst = out.data_ptr<int64_t>();
  for (size_t i = 0; i < rows.size(); ++i) dst[i] = labels[rows[i]];
  return out;
}

std::vector<int64_t> all_rows(int64_t n) {
  std::vector<int64_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0);
  return rows;
}

}  // namespace

std::vector<int64_t> stratified_validation_indices(const std::vector<uint8_t>& labels, int num_classes,
                                                   int64_t val_size, uint64_t seed) {
  std::vector<std::vector<int64_t>> by_class(num_classes);
  for (size_t i = 0; i < labels.size(); ++i) by_class[labels[i]].push_back(static_cast<int64_t>(i));
  std::mt19937_64 rng(seed ^ 0x5eed0f5a11da7e5ull);
  for (auto& rows : by_class) seeded_shuffle(rows, rng);

  // Equal shares per class; the remainder goes to the first classes.
  std::vector<int64_t> picked;
  picked.reserve(val_size);
  for (int c = 0; c < num_classes; ++c) {
    int64_t want = val_size / num_classes + (c < val_size % num_classes ? 1 : 0);
    want = std::min<int64_t>(want, static_cast<int64_t>(by_class[c].size()));
    picked.insert(picked.end(), by_class[c].begin(), by_class[c].begin() + want);
  }
  std::sort(picked.begin(), picked.end());
  return picked;
}

SplitRows split_rows(const FashionMnist& data, const TrainConfig& config) {
  const int64_t n = data.train.count;
  if (config.val_size >= n)
    throw DataError(fmt::format("{}: val_size = {} leaves no training images (the training set has {}); "
                                "lower val_size",
                                data.dir, config.val_size, n));

  SplitRows rows;
  rows.val = stratified_validation_indices(data.train.labels, kNumClasses, config.val_size,
                                           static_cast<uint64_t>(config.seed));
  const auto every_row = all_rows(n);
  rows.train.reserve(n - rows.val.size());
  std::set_difference(every_row.begin(), every_row.end(), rows.val.begin(), rows.val.end(),
                      std::back_inserter(rows.train));
  if (config.train_limit > 0 && config.train_limit < static_cast<int>(rows.train.size()))
    rows.train.resize(config.train_limit);
  return rows;
}

torch::Tensor raw_images(const LabelledImages& set, const std::vector<int64_t>& rows) {
  const int64_t pixels = set.rows * set.cols;
  auto all = torch::from_blob(const_cast<uint8_t*>(set.pixels.data()), {set.count, pixels}, torch::kUInt8);
  auto index = torch::from_blob(const_cast<int64_t*>(rows.data()), {static_cast<int64_t>(rows.size())},
                                torch::kInt64);
  return all.index_select(0, index).to(torch::kFloat32).view({-1, 1, set.rows, set.cols});
}

ImageSums image_sums(const LabelledImages& set) {
  const int64_t pixels = set.rows * set.cols;
  if (pixels > 66000)
    throw DataError(fmt::format("{}x{} images are larger than the pixel statistics support (66,000 pixels)",
                                set.rows, set.cols));
  ImageSums sums;
  sums.pixels_per_image = pixels;
  sums.sum.resize(static_cast<size_t>(set.count));
  sums.sum_of_squares.resize(static_cast<size_t>(set.count));
  for (int64_t i = 0; i < set.count; ++i) {
    const uint8_t* image = set.pixels.data() + i * pixels;
    // 32-bit lanes (the compiler vectorises them): an image's sums fit, up to
    // 66,000 pixels of 255.
    uint32_t sum = 0, squares = 0;
    for (int64_t p = 0; p < pixels; ++p) {
      const uint32_t v = image[p];
      sum += v;
      squares += v * v;
    }
    sums.sum[static_cast<size_t>(i)] = sum;
    sums.sum_of_squares[static_cast<size_t>(i)] = squares;
  }
  return sums;
}

Normalisation normalisation_of(const ImageSums& sums, const std::vector<int64_t>& train_rows, const std::string& mode) {
  // Statistics of the training split only: validation and test must not leak
  // in. Integer sums are exact, so the mean and the (unbiased) standard
  // deviation are rounded once, whatever the split's size or order.
  __int128 sum = 0, squares = 0;
  for (int64_t row : train_rows) {
    sum += sums.sum[static_cast<size_t>(row)];
    squares += sums.sum_of_squares[static_cast<size_t>(row)];
  }
  const auto count = static_cast<__int128>(train_rows.size()) * sums.pixels_per_image;
  Normalisation n;
  if (count == 0) return n;
  n.pixel_mean = static_cast<double>(sum) / static_cast<double>(count) / 255.0;
  if (count > 1) {
    const __int128 spread = count * squares - sum * sum;  // count^2 * the population variance, in 255^2 units
    n.pixel_std = std::sqrt(static_cast<double>(spread) / static_cast<double>(count * (count - 1))) / 255.0;
  }
  if (mode == "unit") {
    n.scale = 1.0 / 255.0;
  } else if (mode == "standard") {
    n.scale = 1.0 / (255.0 * n.pixel_std);
    n.shift = -n.pixel_mean / n.pixel_std;
  }
  return n;
}

DataSplits make_splits(const FashionMnist& data, const TrainConfig& config, torch::Device device) {
  const SplitRows rows = split_rows(data, config);
  const auto test_rows = all_rows(data.test.count);

  DataSplits splits;
  splits.train = TensorSplit{raw_images(data.train, rows.train), labels_tensor(data.train.labels, rows.train)};
  splits.val = TensorSplit{raw_images(data.train, rows.val), labels_tensor(data.train.labels, rows.val)};
  splits.test = TensorSplit{raw_images(data.test, test_rows), labels_tensor(data.test.labels, test_rows)};

  const Normalisation n = normalisation_of(image_sums(data.train), rows.train, config.normalize);
  splits.pixel_mean = n.pixel_mean;
  splits.pixel_std = n.pixel_std;
  splits.background = static_cast<float>(n.shift);
  for (TensorSplit* split : {&splits.train, &splits.val, &splits.test}) {
    split->images = (split->images * n.scale + n.shift).to(device).contiguous();
    split->labels = split->labels.to(device);
  }
  return splits;
}

}  // namespace ablate
