// The model families of the study, built from a TrainConfig.
#pragma once

#include <torch/torch.h>

#include "core/config.hpp"
#include "core/metrics.hpp"

namespace ablate {

// A basic ResNet block: two 3x3 convolutions with BatchNorm, plus the input
// (through a strided 1x1 convolution and BatchNorm when the shape changes).
// Public so that the packed model (trainer/packed/) can mirror it.
struct ResidualBlockImpl : torch::nn::Module {
  ResidualBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::BatchNorm2d bn2;
  torch::nn::Sequential shortcut{nullptr};
};
TORCH_MODULE(ResidualBlock);

// The layers of config.model's plan (core/families/), initialised by config.init. Input [B, 1, 28, 28]
// (already normalised), output logits [B, 10]. Uses Torch's global generator
// for initialisation: seed it first (seed_everything).
torch::nn::Sequential build_model(const TrainConfig& config);

// Puts the convolution kernels of a model in the memory format that trains fastest
// on `device`; the input needs no change (one channel: both layouts are the same
// bytes), and every activation after the first convolution follows the kernels.
// Returns whether anything changed. Call after moving the model to the device and
// before making the optimizer's state.
bool use_fastest_memory_format(torch::nn::Module& model, const torch::Device& device);

int64_t count_parameters(const torch::nn::Module& model);

// Parameters that L1/L2 penalties apply to: weight matrices and kernels, not
// biases and not BatchNorm scales (those are 1-D).
std::vector<torch::Tensor> penalised_weights(const torch::nn::Module& model);

}  // namespace ablate
