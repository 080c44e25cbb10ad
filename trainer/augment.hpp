// Batched data augmentation on the training device: shift, flip, random erasing.
#pragma once

#include <torch/torch.h>

#include "core/config.hpp"

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
// Every random choice comes from one tensor of uniforms drawn from `generator`
// on the batch's device (no host round trip off the CPU): the same generator
// state gives the same output. Equal to apply_augmentation(images,
// draw_augmentation(...), options.fill).
torch::Tensor augment_batch(const torch::Tensor& images, const AugmentOptions& options,
                            torch::Generator& generator);

// Row of an augmentation plan ([kAugmentPlanRows, B] int64, one column per image).
enum AugmentPlanRow : int64_t { kShiftY, kShiftX, kFlip, kEraseTop, kEraseLeft, kEraseHeight, kEraseWidth };
constexpr int64_t kAugmentPlanRows = 7;

// Uniforms in [0, 1) drawn per image and batch: one per random choice.
constexpr int64_t kAugmentUniforms = 8;

// The random choices for a batch of `batch` images of height x width, drawn on
// `device`: shift (dy, dx) in [-shift, shift], flip 0/1, and the erased rectangle
// (height 0: nothing erased). One draw of [kAugmentUniforms, batch] uniforms,
// whatever the options, then plan_from_uniforms.
torch::Tensor draw_augmentation(int64_t batch, int64_t height, int64_t width, const AugmentOptions& options,
                                torch::Generator& generator, const torch::Device& device);

// The plan that uniforms [kAugmentUniforms, B] stand for, on their device: on the
// CPU a loop over images, elsewhere the tensor-op version below (the same steps
// in the same order, in double: equal up to the last bit of exp/log, which moves
// a rounded side only when it lies within ~1e-15 of a half pixel).
torch::Tensor plan_from_uniforms(const torch::Tensor& uniforms, int64_t height, int64_t width,
                                 const AugmentOptions& options);
torch::Tensor plan_from_uniforms_by_tensor_ops(const torch::Tensor& uniforms, int64_t height, int64_t width,
                                               const AugmentOptions& options);

// Output pixel (y, x) of image b copies input (y - dy, x' - dx), x' = flip ? W-1-x : x,
// or is `fill` where that lies outside the image or inside the erased rectangle.
// On the CPU one pass over the output (an image per task); elsewhere the gather below.
torch::Tensor apply_augmentation(const torch::Tensor& images, const torch::Tensor& plan, float fill);

// The same result built from whole-batch tensor ops (a source index per output
// pixel, then one gather): the path for GPUs, and a cross-check of the CPU pass.
torch::Tensor apply_augmentation_by_gather(const torch::Tensor& images, const torch::Tensor& plan, float fill);

// Shift only, by given per-image offsets [B] (a building block, separately testable).
torch::Tensor shift_images(const torch::Tensor& images, const torch::Tensor& dy, const torch::Tensor& dx,
                           float fill);

}  // namespace ablate
