// Building the train/validation/test tensors of a run: split, normalise, upload.
#include "trainer/dataset.hpp"

#include <fmt/format.h>

#include <algorithm>
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

// uint8 pixels of the selected rows as float32 in 0..255, shape [N, 1, H, W].
torch::Tensor images_tensor(const LabelledImages& set, const std::vector<int64_t>& rows) {
  const int64_t pixels = set.rows * set.cols;
  auto all = torch::from_blob(const_cast<uint8_t*>(set.pixels.data()), {set.count, pixels}, torch::kUInt8);
  auto index = torch::from_blob(const_cast<int64_t*>(rows.data()), {static_cast<int64_t>(rows.size())},
                                torch::kInt64);
  return all.index_select(0, index).to(torch::kFloat32).view({-1, 1, set.rows, set.cols});
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

DataSplits make_splits(const FashionMnist& data, const TrainConfig& config, torch::Device device) {
  const int64_t n = data.train.count;
  if (config.val_size >= n)
    throw DataError(fmt::format("{}: val_size = {} leaves no training images (the training set has {}); "
                                "lower val_size",
                                data.dir, config.val_size, n));

  const auto val_rows = stratified_validation_indices(data.train.labels, kNumClasses, config.val_size,
                                                      static_cast<uint64_t>(config.seed));
  const auto every_row = all_rows(n);
  std::vector<int64_t> train_rows;
  train_rows.reserve(n - val_rows.size());
  std::set_difference(every_row.begin(), every_row.end(), val_rows.begin(), val_rows.end(),
                      std::back_inserter(train_rows));
  if (config.train_limit > 0 && config.train_limit < static_cast<int>(train_rows.size()))
    train_rows.resize(config.train_limit);
  const auto test_rows = all_rows(data.test.count);

  DataSplits splits;
  splits.train = TensorSplit{images_tensor(data.train, train_rows), labels_tensor(data.train.labels, train_rows)};
  splits.val = TensorSplit{images_tensor(data.train, val_rows), labels_tensor(data.train.labels, val_rows)};
  splits.test = TensorSplit{images_tensor(data.test, test_rows), labels_tensor(data.test.labels, test_rows)};

  // Statistics of the training split only: validation and test must not leak in.
  auto unit_train = splits.train.images / 255.0;
  splits.pixel_mean = unit_train.mean().item<double>();
  splits.pixel_std = unit_train.std().item<double>();

  double scale = 1.0, shift = 0.0;  // x_normalised = x_raw * scale + shift
  if (config.normalize == "unit") {
    scale = 1.0 / 255.0;
  } else if (config.normalize == "standard") {
    scale = 1.0 / (255.0 * splits.pixel_std);
    shift = -splits.pixel_mean / splits.pixel_std;
  }
  splits.background = static_cast<float>(shift);
  for (TensorSplit* split : {&splits.train, &splits.val, &splits.test}) {
    split->images = (split->images * scale + shift).to(device).contiguous();
    split->labels = split->labels.to(device);
  }
  return splits;
}

}  // namespace ablate
