// Model family "cnn": per entry of channels a 3x3 convolution (bias only
// without BatchNorm), BatchNorm (batchnorm), the activation, a 2x2 max-pool;
// then flatten, dropout, a hidden linear layer of fc_width (0: none) with the
// activation and dropout, and the classifier. Reads channels, batchnorm,
// activation, leaky_slope, fc_width, dropout. Packed form: generic (trainer/packed/).
#include "core/families/families.hpp"
#include "core/metrics.hpp"

namespace ablate {
namespace {

constexpr size_t kMaxPooledBlocks = 4;  // 28 -> 14 -> 7 -> 3 -> 1

LayerPlan plan(const TrainConfig& config) {
  LayerPlan plan;
  for (int channels : config.channels) {
    plan.conv3x3(channels, /*stride=*/1, /*bias=*/!config.batchnorm);
    if (config.batchnorm) plan.batchnorm();
    plan.activation(config.activation, config.leaky_slope);
    plan.max_pool2x2();
  }
  plan.flatten();
  if (config.dropout > 0) plan.dropout(config.dropout);
  if (config.fc_width > 0) {
    plan.linear(config.fc_width);
    plan.activation(config.activation, config.leaky_slope);
    if (config.dropout > 0) plan.dropout(config.dropout);
  }
  plan.linear(kNumClasses);
  return plan;
}

void validate(const TrainConfig& config) {
  if (config.channels.size() > kMaxPooledBlocks)
    throw ConfigError("channels", "a 28x28 image supports at most 4 pooled conv blocks: shorten channels");
}

}  // namespace

ModelFamily cnn_family() {
  return {.name = "cnn",
          .description = "convolutional network: 3x3 conv (+ BatchNorm) + activation + 2x2 max-pool blocks, MLP head",
          .plan = plan,
          .validate = validate};
}

}  // namespace ablate
