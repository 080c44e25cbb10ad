// Batched data augmentation on the training device: shift, flip, random erasing.
#pragma once

#include <torch/torch.h>

#include "trainer/config.hpp"

namespace ablate {

struct AugmentOptions {
  int shift = 0;             // shift by up to this many pixels in x and y, filling with `fill`
  bool flip = false;         // horizontal flip with probability 0.5
  double erase = 0.0;        // probability of erasing one rectangle per image
  double erase_max_area = 0.25;
  float fill = 0.0f;         // value of a black pixel after normalisation
  bool any() const { return shift > 0 || flip || erase > 0; }
};

AugmentOptions augment_options(const TrainConfig& config, float background);

// Augments a batch [B, C, H, W] (returns a new tensor; the input is untouched).
// Every random draw comes from `generator`, one tensor draw per kind of
// augmentation per batch: no per-image loop, no host round trip.
torch::Tensor augment_batch(const torch::Tensor& images, const AugmentOptions& options,
                            torch::Generator& generator);

// The building blocks, separately testable.
torch::Tensor shift_images(const torch::Tensor& images, const torch::Tensor& dy, const torch::Tensor& dx,
                           float fill);
torch::Tensor erase_rectangles(const torch::Tensor& images, const torch::Tensor& top, const torch::Tensor& left,
                               const torch::Tensor& height, const torch::Tensor& width,
                               const torch::Tensor& apply, float fill);

}  // namespace ablate
