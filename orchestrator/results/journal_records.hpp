// The records of the results journal, one builder per event, and the JSON form
// of numbers and metrics they share (docs/results-format.md, "Journal").
#pragma once

#include "orchestrator/results/ledger_types.hpp"
#include "trainer/metrics.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace ablate {

inline constexpr const char* kJournalFormat = "ablate-journal";
inline constexpr int kJournalVersion = 1;

// Finite numbers as JSON numbers; NaN and infinities (a diverged run) as the
// strings "nan", "inf", "-inf", which plain JSON cannot hold as numbers.
nlohmann::json json_number(double value);
double number_from_json(const nlohmann::json& value);  // throws nlohmann::json::exception on other input
// Throw std::invalid_argument or nlohmann::json::exception on malformed input.

nlohmann::json epoch_to_json(const EpochMetrics& metrics);  // [epoch, train_loss, ..., images_per_second]
EpochMetrics epoch_from_json(const nlohmann::json& row);

// Current time, ISO 8601 UTC to the second: "2024-05-01T12:34:56Z".
std::string iso8601_utc_now();

nlohmann::json ledger_record(const std::string& ledger_id, const SweepIdentity& sweep, const std::string& created);
nlohmann::json sweep_record(const SweepIdentity& sweep, const std::string& at);
nlohmann::json plan_record(const PlannedPoint& point);
nlohmann::json start_record(const std::string& id, const PointRunInfo& info, const std::string& at);
nlohmann::json epoch_record(const std::string& id, const EpochMetrics& metrics);
// `with_curves`: carry result.curves too (when they differ from the streamed epochs).
nlohmann::json done_record(const std::string& id, const TrainResult& result, const std::string& at,
                           bool with_curves);
nlohmann::json fail_record(const std::string& id, const std::string& error, const std::string& at);
nlohmann::json reset_record(const std::string& id);

nlohmann::json sweep_to_json(const SweepIdentity& sweep);
SweepIdentity sweep_from_json(const nlohmann::json& sweep);

}  // namespace ablate
