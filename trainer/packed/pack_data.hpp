// The data of every member of a pack, drawn from one shared copy of the data set.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "core/config.hpp"
#include "trainer/idx.hpp"

namespace ablate {

// Images [K, n, 1, H, W] (member k's batch at [k]) and labels [K, n].
struct PackBatch {
  torch::Tensor images, labels;
};

// A lone run keeps its own normalised float copy of its splits (dataset.hpp);
// K members doing that would hold the data set K times and stack their copies
// batch by batch. Here the raw pixels (uint8) are on the device once, each
// member keeps the rows of its splits and its normalisation, and a batch of
// all members is one gather, one conversion and one multiply and add per
// element (on the CPU, all in one pass): the same
// values, bit for bit, that the member's lone splits hold.
class PackData {
 public:
  enum class Split { val, test, train_eval };

  // Members' configs share the shape keys (val_size and train_limit among
  // them), so their splits have equal sizes. Throws DataError as make_splits does.
  PackData(const FashionMnist& data, const std::vector<TrainConfig>& configs, const torch::Device& device);

  int64_t train_size() const { return train_rows_.size(1); }
  int64_t size(Split split) const;
  // The value of a black pixel after member k's normalisation (augmentation's fill).
  float background(size_t k) const { return background_[k]; }

  // Member k's training images at positions[k] (int64 [K, n], positions in its
  // training split, e.g. a slice of its shuffled order).
  PackBatch train_batch(const torch::Tensor& positions) const;
  // Images [first, last) of every member's own `split`.
  PackBatch eval_batch(Split split, int64_t first, int64_t last) const;

  // Keeps the members at `kept` (ascending), as PackedModel::keep_members does.
  void keep_members(const std::vector<int64_t>& kept);

 private:
  PackBatch gather(const torch::Tensor& rows) const;  // rows of the training file, [K, n]
  // Member k's images at rows[k] of `pixels` (uint8 [N, 1, H, W]), normalised: float32 [K, n, 1, H, W].
  torch::Tensor normalised(const torch::Tensor& pixels, const torch::Tensor& rows) const;

  torch::Tensor train_pixels_, train_labels_;  // the whole training file: uint8 [N, 1, H, W], int64 [N]
  torch::Tensor test_pixels_, test_labels_;    // the whole test file, likewise
  torch::Tensor train_rows_, val_rows_, train_eval_rows_;  // int64 [K, n]: rows of the training file
  torch::Tensor scale_, shift_;                            // float32 [K, 1, 1, 1, 1]
  std::vector<float> background_;
};

}  // namespace ablate
