// The JSON codec of results, numbers and curve rows.
#include "core/result_codec.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "core/curve_fields.hpp"
#include "core/number_text.hpp"

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

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += std::isnan(value) ? "\"nan\"" : value > 0 ? "\"inf\"" : "\"-inf\"";
    return;
  }
  // The shortest text that reads back bitwise; ".0" keeps an integral value a
  // float, as nlohmann writes it (and -0.0 negative).
  const size_t start = out.size();
  append_number(out, value);
  if (out.find_first_of(".eE", start) == std::string::npos) out += ".0";
}

void append_json_string(std::string& out, std::string_view text) {
  // ASCII text (IDs, configs, host names) is escaped here; anything else goes
  // through nlohmann's serializer, which also refuses invalid UTF-8.
  if (!std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    out += nlohmann::json(text).dump();
    return;
  }
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", static_cast<unsigned>(c));
      out += escape;
    } else {
      out += c;
    }
  }
  out += '"';
}

void append_epoch_json(std::string& out, const EpochMetrics& metrics) {
  out += '[';
  append_number(out, metrics.epoch);
  for (const auto& field : kCurveFields) {
    out += ',';
    append_json_number(out, metrics.*field.member);
  }
  out += ']';
}

nlohmann::json epoch_to_json(const EpochMetrics& metrics) {
  std::string text;
  append_epoch_json(text, metrics);
  return nlohmann::json::parse(text);
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

void append_result_json_members(std::string& out, const TrainResult& result, bool with_curves) {
  for (const auto& scalar : kResultScalars) {
    out += '"';
    out += scalar.name;
    out += "\":";
    std::visit(
        [&](auto member) {
          if constexpr (std::is_same_v<decltype(member), double TrainResult::*>)
            append_json_number(out, result.*member);
          else
            append_number(out, result.*member);
        },
        scalar.member);
    out += ',';
  }
  out += "\"device\":";
  append_json_string(out, result.device);
  for (const auto& [name, counts] : {std::pair<const char*, const std::vector<int64_t>&>{"confusion_test", result.confusion_test},
                                     {"confusion_val", result.confusion_val}}) {
    out += ",\"";
    out += name;
    out += "\":[";
    for (size_t i = 0; i < counts.size(); ++i) {
      if (i > 0) out += ',';
      append_number(out, counts[i]);
    }
    out += ']';
  }
  out += ",\"per_class_acc\":[";
  for (size_t i = 0; i < result.per_class_acc.size(); ++i) {
    if (i > 0) out += ',';
    append_json_number(out, result.per_class_acc[i]);
  }
  out += ']';
  if (!result.test_predictions.empty())
    out += ",\"test_predictions\":\"" + predictions_to_digits(result.test_predictions) + '"';
  if (with_curves) {
    out += ",\"curves\":[";
    for (size_t i = 0; i < result.curves.size(); ++i) {
      if (i > 0) out += ',';
      append_epoch_json(out, result.curves[i]);
    }
    out += ']';
  }
}

// One writer of the result's fields (the text one, which the journal uses per point).
nlohmann::json result_to_json(const TrainResult& result, bool with_curves) {
  std::string text = "{";
  append_result_json_members(text, result, with_curves);
  text += '}';
  return nlohmann::json::parse(text);
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
