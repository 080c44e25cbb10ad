// Field-by-field JSON of a TrainResult; curve rows use the EpochMetrics names.
#include "orchestrator/result_json.hpp"

#include "trainer/config.hpp"

namespace ablate {

nlohmann::json result_to_json(const nlohmann::json& canonical_config, const TrainResult& result) {
  nlohmann::json curves = nlohmann::json::array();
  for (const auto& row : result.curves) {
    curves.push_back({{"epoch", row.epoch},         {"train_loss", row.train_loss},
                      {"train_acc", row.train_acc}, {"val_loss", row.val_loss},
                      {"val_acc", row.val_acc},     {"test_loss", row.test_loss},
                      {"test_acc", row.test_acc},   {"lr", row.lr},
                      {"epoch_seconds", row.epoch_seconds}, {"images_per_second", row.images_per_second}});
  }
  return {{"id", config_id(canonical_config)},
          {"config", canonical_config},
          {"curves", curves},
          {"confusion_test", result.confusion_test},
          {"confusion_val", result.confusion_val},
          {"per_class_acc", result.per_class_acc},
          {"best_epoch", result.best_epoch},
          {"best_val_acc", result.best_val_acc},
          {"final_test_acc", result.final_test_acc},
          {"test_acc_at_best_val", result.test_acc_at_best_val},
          {"parameter_count", result.parameter_count},
          {"train_seconds", result.train_seconds},
          {"device", result.device}};
}

}  // namespace ablate
