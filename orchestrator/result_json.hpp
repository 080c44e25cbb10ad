// A TrainResult as JSON (for `ablate train --json` and tests).
#pragma once

#include <nlohmann/json.hpp>

#include "core/metrics.hpp"

namespace ablate {

nlohmann::json result_to_json(const nlohmann::json& canonical_config, const TrainResult& result);

}  // namespace ablate
