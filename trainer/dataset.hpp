// The splits of one training run as tensors resident on its device.
#pragma once

#include <torch/torch.h>

#include "core/config.hpp"
#include "trainer/idx.hpp"
#include "core/metrics.hpp"

namespace ablate {

// Images are float32 [N, 1, 28, 28], already normalised; labels are int64 [N].
struct TensorSplit {
  torch::Tensor images;
  torch::Tensor labels;
  int64_t size() const { return labels.size(0); }
};

struct DataSplits {
  TensorSplit train, val, test;
  double pixel_mean = 0, pixel_std = 1;  // of the training split, in 0..1 units
  float background = 0;                  // value of a black pixel after normalisation (padding fill)
};

// Carves a stratified validation split of `val_size` images from the training
// set (which images: fixed by `seed`), applies `train_limit`, normalises by
// `mode`, and moves every split to `device` once. Throws DataError when the
// data set is too small for the request.
DataSplits make_splits(const FashionMnist& data, const TrainConfig& config, torch::Device device);

// Indices of a stratified validation split: val_size images with as equal a
// share per class as the class sizes allow, chosen by seed. Sorted.
std::vector<int64_t> stratified_validation_indices(const std::vector<uint8_t>& labels, int num_classes,
                                                   int64_t val_size, uint64_t seed);

}  // namespace ablate
