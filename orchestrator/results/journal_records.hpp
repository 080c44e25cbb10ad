// The records of the results journal, one builder per event, and the JSON form
// of numbers and metrics they share (docs/results-format.md, "Journal").
#pragma once

#include "orchestrator/results/ledger_types.hpp"
#include "core/metrics.hpp"
#include "core/result_codec.hpp"  // json_number, epoch_to_json and the result codec the records use

#include <nlohmann/json.hpp>

#include <string>

namespace ablate {

inline constexpr const char* kJournalFormat = "ablate-journal";
// 2: early stopping (pause, promote and stop records; start's "until").
// 3: model-based search (search records; plan's "trial" and "suggested_by").
// 4: epoch rows end with train_eval_loss and train_eval_acc (12 numbers; this
//    ablate still reads the 10 of older rows).
// 5: epoch rows end with pack_members (13 numbers; older rows read it NaN);
//    start records carry the worker's "threads" and "ranks" (absent: 0, unknown).
inline constexpr int kJournalVersion = 5;

// Current time, ISO 8601 UTC to the second: "2024-05-01T12:34:56Z".
std::string iso8601_utc_now();

nlohmann::json ledger_record(const std::string& ledger_id, const SweepIdentity& sweep, const std::string& created);
nlohmann::json sweep_record(const SweepIdentity& sweep, const std::string& at);
// The records every point has (plan, start, epoch, done) come as their JSON
// text, written without a JSON object: they are most of a sweep's journal.
std::string plan_record(const PlannedPoint& point);
// `until`: the last epoch early stopping lets this attempt train (0: all).
std::string start_record(const std::string& id, const PointRunInfo& info, const std::string& at, int until = 0);
std::string epoch_record(const std::string& id, const EpochMetrics& metrics);
// `with_curves`: carry result.curves too (when they differ from the streamed epochs).
std::string done_record(const std::string& id, const TrainResult& result, const std::string& at, bool with_curves);
// Early stopping. pause: a running point ended at a rung (`mark`), its result so
// far; promote: a paused point may train to `until` (`reason`: "top" of its rung,
// or "idle" worker); stop: a paused point ends for good, or a running one, with
// its result so far and the rung it ended at.
nlohmann::json pause_record(const std::string& id, const TrainResult& result, const RungMark& mark,
                            const std::string& at, bool with_curves);
nlohmann::json promote_record(const std::string& id, int until, const std::string& reason);
nlohmann::json stop_record(const std::string& id, const std::string& at, const std::string& reason);
nlohmann::json stop_running_record(const std::string& id, const TrainResult& result, const RungMark& mark,
                                   const std::string& at, const std::string& reason, bool with_curves);
nlohmann::json fail_record(const std::string& id, const std::string& error, const std::string& at);
nlohmann::json reset_record(const std::string& id);
// A search's suggestion or observation (sweeps/search/search.hpp's to_json form),
// kept in journal order: replaying them restores the search.
nlohmann::json search_record(const nlohmann::json& search);

nlohmann::json sweep_to_json(const SweepIdentity& sweep);
SweepIdentity sweep_from_json(const nlohmann::json& sweep);

}  // namespace ablate
