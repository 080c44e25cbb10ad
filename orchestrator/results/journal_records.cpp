// Builders of journal records and the JSON codecs of numbers and epoch rows.
#include "orchestrator/results/journal_records.hpp"

#include "orchestrator/results/curve_fields.hpp"

#include <ablate/version.hpp>

#include <chrono>
#include <cmath>
#include <ctime>
#include <stdexcept>

namespace ablate {

nlohmann::json json_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return value;
}

double number_from_json(const nlohmann::json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text == "nan") return std::nan("");
    if (text == "inf") return HUGE_VAL;
    if (text == "-inf") return -HUGE_VAL;
  }
  return value.get<double>();
}

nlohmann::json epoch_to_json(const EpochMetrics& metrics) {
  nlohmann::json row = nlohmann::json::array({metrics.epoch});
  for (const auto& field : kCurveFields) row.push_back(json_number(metrics.*field.member));
  return row;
}

EpochMetrics epoch_from_json(const nlohmann::json& row) {
  if (!row.is_array() || row.size() != 1 + kCurveFields.size())
    throw std::invalid_argument("an epoch row must be an array of 10 numbers, not " + row.dump());
  EpochMetrics metrics;
  metrics.epoch = row.at(0).get<int>();
  for (size_t i = 0; i < kCurveFields.size(); ++i) metrics.*kCurveFields[i].member = number_from_json(row.at(i + 1));
  return metrics;
}

std::string iso8601_utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

nlohmann::json sweep_to_json(const SweepIdentity& sweep) {
  return {{"name", sweep.name}, {"path", sweep.path}, {"spec", sweep.spec_text}};
}

SweepIdentity sweep_from_json(const nlohmann::json& sweep) {
  return {sweep.at("name").get<std::string>(), sweep.at("path").get<std::string>(),
          sweep.at("spec").get<std::string>()};
}

nlohmann::json ledger_record(const std::string& ledger_id, const SweepIdentity& sweep, const std::string& created) {
  return {{"t", "ledger"},         {"format", kJournalFormat},   {"version", kJournalVersion},
          {"ledger_id", ledger_id}, {"created", created},         {"ablate_version", kVersion},
          {"git_commit", kGitCommit}, {"sweep", sweep_to_json(sweep)}};
}

nlohmann::json sweep_record(const SweepIdentity& sweep, const std::string& at) {
  return {{"t", "sweep"}, {"at", at}, {"sweep", sweep_to_json(sweep)}};
}

nlohmann::json plan_record(const PlannedPoint& point) {
  return {{"t", "plan"},
          {"id", point.id},
          {"config", point.config_text},
          {"case", point.case_name},
          {"seed", point.seed}};
}

nlohmann::json start_record(const std::string& id, const PointRunInfo& info, const std::string& at) {
  return {{"t", "start"},         {"id", id},           {"at", at}, {"host", info.host},
          {"device", info.device}, {"torch", info.torch_version}};
}

nlohmann::json epoch_record(const std::string& id, const EpochMetrics& metrics) {
  return {{"t", "epoch"}, {"id", id}, {"m", epoch_to_json(metrics)}};
}

nlohmann::json done_record(const std::string& id, const TrainResult& result, const std::string& at,
                           bool with_curves) {
  nlohmann::json per_class = nlohmann::json::array();
  for (double acc : result.per_class_acc) per_class.push_back(json_number(acc));
  nlohmann::json record = {{"t", "done"},
                           {"id", id},
                           {"at", at},
                           {"best_epoch", result.best_epoch},
                           {"best_val_acc", json_number(result.best_val_acc)},
                           {"final_test_acc", json_number(result.final_test_acc)},
                           {"test_acc_at_best_val", json_number(result.test_acc_at_best_val)},
                           {"parameter_count", result.parameter_count},
                           {"train_seconds", json_number(result.train_seconds)},
                           {"device", result.device},
                           {"confusion_test", result.confusion_test},
                           {"confusion_val", result.confusion_val},
                           {"per_class_acc", per_class}};
  if (!result.test_predictions.empty()) record["test_predictions"] = predictions_to_digits(result.test_predictions);
  if (with_curves) {
    nlohmann::json curves = nlohmann::json::array();
    for (const auto& row : result.curves) curves.push_back(epoch_to_json(row));
    record["curves"] = std::move(curves);
  }
  return record;
}

nlohmann::json fail_record(const std::string& id, const std::string& error, const std::string& at) {
  return {{"t", "fail"}, {"id", id}, {"at", at}, {"error", error}};
}

nlohmann::json reset_record(const std::string& id) { return {{"t", "reset"}, {"id", id}}; }

}  // namespace ablate
