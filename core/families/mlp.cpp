// Model family "mlp": per hidden width a linear layer, BatchNorm (batchnorm),
// the activation (activation, leaky_slope), dropout (dropout > 0); then the
// classifier. Reads hidden, batchnorm, activation, leaky_slope, dropout; with
// hidden = [] it is the linear model. Packed form: generic (trainer/packed/).
#include <fmt/format.h>

#include "core/families/families.hpp"
#include "core/metrics.hpp"

namespace ablate {
namespace {

LayerPlan plan(const TrainConfig& config) {
  LayerPlan plan;
  plan.flatten();
  for (int width : config.hidden) {
    plan.linear(width);
    if (config.batchnorm) plan.batchnorm();
    plan.activation(config.activation, config.leaky_slope);
    if (config.dropout > 0) plan.dropout(config.dropout);
  }
  plan.linear(kNumClasses);
  return plan;
}

void validate(const TrainConfig& config) {
  if (config.hidden.empty() && config.dropout > 0)
    throw ConfigError("dropout", "dropout > 0 needs a hidden layer: set hidden = [256] or dropout = 0");
}

}  // namespace

ModelFamily mlp_family() {
  return {.name = "mlp",
          .description = "multilayer perceptron: hidden linear layers (+ BatchNorm, activation, dropout)",
          .plan = plan,
          .validate = validate};
}

}  // namespace ablate
