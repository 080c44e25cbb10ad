// Optimizers and learning-rate schedules from a TrainConfig.
#pragma once

#include <torch/torch.h>

#include <memory>

#include "core/config.hpp"

namespace ablate {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& parameters,
                                                        const TrainConfig& config);

// Learning rate for optimizer step `step` (0-based, counted over the whole run)
// of a run with `steps_per_epoch` steps per epoch. Pure: testable by hand.
double learning_rate_at(const TrainConfig& config, int64_t step, int64_t steps_per_epoch);

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// The L1/L2 penalty added to the loss: l1 * sum|w| + l2 * sum w^2 over `weights`.
// Undefined tensor when both coefficients are 0 (nothing to add to the step).
torch::Tensor weight_penalty(const std::vector<torch::Tensor>& weights, double l1, double l2);

}  // namespace ablate
