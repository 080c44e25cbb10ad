// TrainResult's fields named once, and the one JSON codec of a result. The MPI
// messages, the journal, the HDF5 view and `ablate train --json` all go through
// this table: a new field is one line here (and one in docs/results-format.md).
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <string>
#include <string_view>
#include <variant>

#include "core/metrics.hpp"

namespace ablate {

// A scalar of the result summary: a /points attribute and an /index column in
// the HDF5 view, a field of the journal's done/pause records.
struct ResultScalar {
  const char* name;
  std::variant<int TrainResult::*, int64_t TrainResult::*, double TrainResult::*> member;
};

inline const std::array<ResultScalar, 7> kResultScalars = {{
    {"best_val_acc", &TrainResult::best_val_acc},
    {"final_test_acc", &TrainResult::final_test_acc},
    {"test_acc_at_best_val", &TrainResult::test_acc_at_best_val},
    {"train_seconds", &TrainResult::train_seconds},
    {"parameter_count", &TrainResult::parameter_count},
    {"best_epoch", &TrainResult::best_epoch},
    {"epochs_trained", &TrainResult::epochs_trained},
}};

// Finite numbers as JSON numbers; NaN and infinities (a diverged run) as the
// strings "nan", "inf", "-inf", which plain JSON cannot hold as numbers.
nlohmann::json json_number(double value);
double number_from_json(const nlohmann::json& value);  // throws nlohmann::json::exception on other input

// A curve row as a JSON array: [epoch, train_loss, ..., train_eval_acc] (kCurveFields order).
nlohmann::json epoch_to_json(const EpochMetrics& metrics);
// The inverse; a row of an older ablate, without train_eval_loss and
// train_eval_acc, reads with them NaN. Throws std::invalid_argument.
EpochMetrics epoch_from_json(const nlohmann::json& row);

// The JSON text writers behind the functions below, for records written per
// point (the journal's epoch and done records): they append to `out` without
// building a JSON object, ~5x cheaper. A double is written as JSON reads it back
// bitwise, always as a float ("1.0", "-0.0"); NaN and infinities as json_number's strings.
void append_json_number(std::string& out, double value);
void append_json_string(std::string& out, std::string_view text);
void append_epoch_json(std::string& out, const EpochMetrics& metrics);  // epoch_to_json's array
// result_to_json's members, without the braces: "best_val_acc":0.5,...,"per_class_acc":[...].
void append_result_json_members(std::string& out, const TrainResult& result, bool with_curves);

// Every field of a result as one JSON object: the scalars by name, device,
// confusion_test / confusion_val (100 counts, row-major), per_class_acc,
// test_predictions (one digit per image, omitted when empty) and, when
// `with_curves`, curves (rows as epoch_to_json). Numbers survive bitwise.
nlohmann::json result_to_json(const TrainResult& result, bool with_curves);
// The inverse; extra members (a record's "t", "id", ...) are ignored; the lists
// hold their full size or nothing (a result without them). A missing
// epochs_trained (results written before it existed) is the number of curve
// rows, else best_epoch. Throws std::invalid_argument or nlohmann::json::exception.
TrainResult result_from_json(const nlohmann::json& json);

}  // namespace ablate
