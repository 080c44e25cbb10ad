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

// The pieces of make_splits, for callers that keep one copy of the data for
// several runs (trainer/packed/pack_data.hpp).
// Rows of the training file a run trains on (file order, cut to train_limit)
// and validates on (sorted); throws DataError as make_splits does.
struct SplitRows {
  std::vector<int64_t> train, val;
};
SplitRows split_rows(const FashionMnist& data, const TrainConfig& config);

// uint8 pixels of the selected rows as float32 in 0..255, shape [N, 1, H, W].
torch::Tensor raw_images(const LabelledImages& set, const std::vector<int64_t>& rows);

// Each image's pixel sum and sum of squares (pixels 0..255), exact in integers.
struct ImageSums {
  int64_t pixels_per_image = 0;
  std::vector<int64_t> sum, sum_of_squares;
};
ImageSums image_sums(const LabelledImages& set);

// x_normalised = x_raw * scale + shift (in float32, as a float tensor times a
// double scalar computes it), by `mode` from the pixel statistics of the
// training rows (none: scale 1, shift 0).
struct Normalisation {
  double pixel_mean = 0, pixel_std = 1;  // of the training split, in 0..1 units
  double scale = 1, shift = 0;
};
Normalisation normalisation_of(const ImageSums& sums, const std::vector<int64_t>& train_rows, const std::string& mode);

// Indices of a stratified validation split: val_size images with as equal a
// share per class as the class sizes allow, chosen by seed. Sorted.
std::vector<int64_t> stratified_validation_indices(const std::vector<uint8_t>& labels, int num_classes,
                                                   int64_t val_size, uint64_t seed);

}  // namespace ablate
