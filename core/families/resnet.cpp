// Model family "resnet": a 3x3 stem (BatchNorm, ReLU), then per stage
// resnet_blocks[stage] basic residual blocks of resnet_width << stage channels
// (stages after the first start with a stride-2 block), global average pool,
// dropout, the classifier. Always ReLU; reads resnet_width, resnet_blocks,
// dropout. Packed form: generic (trainer/packed/ packs ResidualBlock too).
#include "core/families/families.hpp"
#include "core/metrics.hpp"

namespace ablate {
namespace {

constexpr size_t kMaxStages = 3;  // 28 -> 14 -> 7

LayerPlan plan(const TrainConfig& config) {
  LayerPlan plan;
  const int64_t width = config.resnet_width;
  plan.conv3x3(width, /*stride=*/1, /*bias=*/false).batchnorm().activation("relu");
  for (size_t stage = 0; stage < config.resnet_blocks.size(); ++stage) {
    for (int block = 0; block < config.resnet_blocks[stage]; ++block) {
      const int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      plan.residual_block(width << stage, stride);
    }
  }
  plan.global_avg_pool().flatten();
  if (config.dropout > 0) plan.dropout(config.dropout);
  plan.linear(kNumClasses);
  return plan;
}

void validate(const TrainConfig& config) {
  if (config.resnet_blocks.size() > kMaxStages)
    throw ConfigError("resnet_blocks", "a 28x28 image supports at most 3 ResNet stages: shorten resnet_blocks");
}

}  // namespace

ModelFamily resnet_family() {
  return {.name = "resnet",
          .description = "ResNet: 3x3 stem, stages of basic residual blocks (BatchNorm, ReLU), global average pool",
          .plan = plan,
          .validate = validate};
}

}  // namespace ablate
