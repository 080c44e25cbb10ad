// The one table of model families. Adding a family: its file in core/families/
// (plan, description, checks), one line here, one in core/CMakeLists.txt.
#include "core/families/families.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "core/metrics.hpp"

namespace ablate {

const std::vector<ModelFamily>& model_families() {
  static const std::vector<ModelFamily> kFamilies = {
      linear_family(),
      mlp_family(),
      cnn_family(),
      resnet_family(),
  };
  return kFamilies;
}

std::vector<std::string> model_family_names() {
  std::vector<std::string> names;
  for (const auto& family : model_families()) names.push_back(family.name);
  return names;
}

const ModelFamily& find_model_family(const std::string& name) {
  for (const auto& family : model_families())
    if (family.name == name) return family;
  throw ConfigError("model", fmt::format("model: unknown family '{}'; use one of {}", name,
                                         fmt::join(model_family_names(), ", ")));
}

LayerPlan model_plan(const TrainConfig& config) {
  LayerPlan plan = find_model_family(config.model).plan(config);
  if (plan.side() != 0 || plan.width() != kNumClasses)
    throw std::logic_error(fmt::format("model family '{}': its plan must end in {} features (a linear layer)",
                                       config.model, kNumClasses));
  return plan;
}

}  // namespace ablate
