// The JSON codec of results, numbers and curve rows.
#include "core/result_codec.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "core/curve_fields.hpp"

namespace ablate {
namespace {

template <typename T>
std::vector<T> list_of(const nlohmann::json& json, const char* name, size_t expected) {
  const nlohmann::json& values = json.at(name);
  if (!values.is_array() || (values.size() != expected && !values.empty()))  // empty: a result without them
    throw std::invalid_argument(fmt::format("{} must hold {} values, got {}", name, expected,
                                            values.is_array() ? values.size() : 0));
  std::vector<T> out;
  out.reserve(expected);
  for (const auto& v : values) {
    if constexpr (std::is_floating_point_v<T>) out.push_back(number_from_json(v));
    else out.push_back(v.get<T>());
  }
  return out;
}

}  // namespace

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
  if (!row.is_array() || row.size() < 1 + kCurveFieldsBeforeTrainEval || row.size() > 1 + kCurveFields.size())
    throw std::invalid_argument(fmt::format("an epoch row must be an array of {} numbers ({} before train_eval_*), "
                                            "not {}",
                                            1 + kCurveFields.size(), 1 + kCurveFieldsBeforeTrainEval, row.dump()));
  EpochMetrics metrics;
  metrics.epoch = row.at(0).get<int>();
  for (size_t i = 0; i < kCurveFields.size(); ++i)  // columns an older row lacks: not measured
    metrics.*kCurveFields[i].member = i + 1 < row.size() ? number_from_json(row.at(i + 1)) : std::nan("");
  return metrics;
}

nlohmann::json result_to_json(const TrainResult& result, bool with_curves) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& scalar : kResultScalars)
    std::visit(
        [&](auto member) {
          if constexpr (std::is_same_v<decltype(member), double TrainResult::*>)
            json[scalar.name] = json_number(result.*member);
          else
            json[scalar.name] = result.*member;
        },
        scalar.member);
  json["device"] = result.device;
  json["confusion_test"] = result.confusion_test;
  json["confusion_val"] = result.confusion_val;
  nlohmann::json per_class = nlohmann::json::array();
  for (double acc : result.per_class_acc) per_class.push_back(json_number(acc));
  json["per_class_acc"] = std::move(per_class);
  if (!result.test_predictions.empty()) json["test_predictions"] = predictions_to_digits(result.test_predictions);
  if (with_curves) {
    nlohmann::json curves = nlohmann::json::array();
    for (const auto& row : result.curves) curves.push_back(epoch_to_json(row));
    json["curves"] = std::move(curves);
  }
  return json;
}

TrainResult result_from_json(const nlohmann::json& json) {
  TrainResult result;
  for (const auto& scalar : kResultScalars) {
    if (!json.contains(scalar.name) && std::string_view(scalar.name) == "epochs_trained") continue;  // older files
    std::visit(
        [&](auto member) {
          using Member = decltype(member);
          if constexpr (std::is_same_v<Member, double TrainResult::*>)
            result.*member = number_from_json(json.at(scalar.name));
          else if constexpr (std::is_same_v<Member, int TrainResult::*>)
            result.*member = json.at(scalar.name).get<int>();
          else
            result.*member = json.at(scalar.name).get<int64_t>();
        },
        scalar.member);
  }
  result.device = json.at("device").get<std::string>();
  constexpr size_t kCells = kNumClasses * kNumClasses;
  result.confusion_test = list_of<int64_t>(json, "confusion_test", kCells);
  result.confusion_val = list_of<int64_t>(json, "confusion_val", kCells);
  result.per_class_acc = list_of<double>(json, "per_class_acc", kNumClasses);
  if (json.contains("test_predictions"))
    result.test_predictions = predictions_from_digits(json.at("test_predictions").get<std::string>());
  if (json.contains("curves"))
    for (const auto& row : json.at("curves")) result.curves.push_back(epoch_from_json(row));
  if (!json.contains("epochs_trained"))
    result.epochs_trained = result.curves.empty() ? result.best_epoch : static_cast<int>(result.curves.size());
  return result;
}

}  // namespace ablate
