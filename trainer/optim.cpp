// Optimizer construction, learning-rate schedules and weight penalties.
#include "trainer/optim.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numbers>

namespace ablate {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& parameters,
                                                        const TrainConfig& config) {
  if (config.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(parameters, torch::optim::SGDOptions(config.lr)
                                                               .momentum(config.momentum)
                                                               .nesterov(config.nesterov)
                                                               .weight_decay(config.weight_decay));
  }
  if (config.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(
        parameters, torch::optim::AdamOptions(config.lr).weight_decay(config.weight_decay));
  }
  if (config.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        parameters, torch::optim::AdamWOptions(config.lr).weight_decay(config.weight_decay));
  }
  throw ConfigError("optimizer", fmt::format("unknown optimizer '{}'", config.optimizer));
}

double learning_rate_at(const TrainConfig& config, int64_t step, int64_t steps_per_epoch) {
  const int64_t total = static_cast<int64_t>(config.epochs) * steps_per_epoch;
  auto cosine = [&](int64_t t, int64_t span) {
    return config.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * static_cast<double>(t) / static_cast<double>(span)));
  };
  if (config.schedule == "constant") return config.lr;
  if (config.schedule == "step") {
    const int64_t epoch = step / steps_per_epoch;
    return config.lr * std::pow(config.step_gamma, static_cast<double>(epoch / config.step_epochs));
  }
  if (config.schedule == "cosine") return cosine(step, total);
  if (config.schedule == "warmup_cosine") {
    const int64_t warmup = static_cast<int64_t>(config.warmup_epochs) * steps_per_epoch;
    if (step < warmup) return config.lr * static_cast<double>(step + 1) / static_cast<double>(warmup);
    return cosine(step - warmup, total - warmup);
  }
  throw ConfigError("schedule", fmt::format("unknown schedule '{}'", config.schedule));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

torch::Tensor weight_penalty(const std::vector<torch::Tensor>& weights, double l1, double l2) {
  if (l1 == 0 && l2 == 0) return {};
  torch::Tensor penalty;
  for (const auto& w : weights) {
    torch::Tensor term;
    if (l1 > 0) term = l1 * w.abs().sum();
    if (l2 > 0) term = term.defined() ? term + l2 * w.square().sum() : l2 * w.square().sum();
    penalty = penalty.defined() ? penalty + term : term;
  }
  return penalty;
}

}  // namespace ablate
