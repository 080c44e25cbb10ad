// The model families of the study, built from a TrainConfig.
#pragma once

#include <torch/torch.h>

#include "trainer/config.hpp"
#include "trainer/metrics.hpp"

namespace ablate {

// linear | mlp | cnn | resnet, initialised by config.init. Input [B, 1, 28, 28]
// (already normalised), output logits [B, 10]. Uses Torch's global generator
// for initialisation: seed it first (seed_everything).
torch::nn::Sequential build_model(const TrainConfig& config);

int64_t count_parameters(const torch::nn::Module& model);

// Parameters that L1/L2 penalties apply to: weight matrices and kernels, not
// biases and not BatchNorm scales (those are 1-D).
std::vector<torch::Tensor> penalised_weights(const torch::nn::Module& model);

}  // namespace ablate
