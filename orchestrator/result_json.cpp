// `ablate train --json`: the result codec's JSON plus the config, curve rows with names.
#include "orchestrator/result_json.hpp"

#include "core/config.hpp"
#include "core/curve_fields.hpp"
#include "core/result_codec.hpp"

namespace ablate {

nlohmann::json result_to_json(const nlohmann::json& canonical_config, const TrainResult& result) {
  nlohmann::json json = {{"id", config_id(canonical_config)}, {"config", canonical_config}};
  json.update(result_to_json(result, /*with_curves=*/false));
  // Curve rows as named objects: this file is read by people and scripts, not replayed.
  nlohmann::json curves = nlohmann::json::array();
  for (const auto& row : result.curves) {
    nlohmann::json named = {{"epoch", row.epoch}};
    for (const auto& field : kCurveFields) named[field.name] = json_number(row.*field.member);
    curves.push_back(std::move(named));
  }
  json["curves"] = std::move(curves);
  return json;
}

}  // namespace ablate
