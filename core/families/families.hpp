// The table of model families: what the config key `model` accepts, and the
// one place that turns a config into a model's LayerPlan.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/layer_plan.hpp"

namespace ablate {

// Everything about one model family (one file per family in core/families/):
// its layers, built by the trainer (trainer/models.cpp) and costed by sweeps/
// (sweeps/cost.cpp) from the plan; its packed form needs nothing of its own
// (trainer/packed/ packs any plan's layers). Which config keys are shape keys
// stays in the key table (core/config.cpp); each family file says which it reads.
struct ModelFamily {
  std::string name;
  std::string description;  // one line, for help texts and the docs
  LayerPlan (*plan)(const TrainConfig& config);
  // Cross-key checks only this family needs (throws ConfigError); may be null.
  void (*validate)(const TrainConfig& config) = nullptr;
};

// The registered families, in the order their names are listed.
const std::vector<ModelFamily>& model_families();
std::vector<std::string> model_family_names();
// Throws ConfigError("model", ...) naming the known families.
const ModelFamily& find_model_family(const std::string& name);

// config.model's plan; throws ConfigError for an unknown family, std::logic_error
// when the plan does not end in kNumClasses features.
LayerPlan model_plan(const TrainConfig& config);

// Each family's entry, defined in its own file.
ModelFamily linear_family();
ModelFamily mlp_family();
ModelFamily cnn_family();
ModelFamily resnet_family();

}  // namespace ablate
