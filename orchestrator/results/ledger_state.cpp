// The rules of the ledger: how each journal record changes a point.
#include "orchestrator/results/ledger_state.hpp"

#include "orchestrator/results/journal_records.hpp"
#include "orchestrator/results/results_error.hpp"
#include "core/config.hpp"

#include <ablate/version.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ablate {
namespace {

// Returns whether the row was appended at the end (the common case, which the
// HDF5 view writes as one new row; anything else rewrites the point's curve).
bool put_epoch(std::vector<EpochMetrics>& curves, const EpochMetrics& row) {
  if (row.epoch < 1) throw std::invalid_argument(fmt::format("epoch numbers start at 1, got {}", row.epoch));
  auto at = std::lower_bound(curves.begin(), curves.end(), row.epoch,
                             [](const EpochMetrics& m, int epoch) { return m.epoch < epoch; });
  if (at != curves.end() && at->epoch == row.epoch) {
    *at = row;  // a repeated report of the same epoch replaces it
    return false;
  }
  const bool appended = at == curves.end();
  curves.insert(at, row);
  return appended;
}

// A pause or stop record of a running point: the result of the epochs it
// trained, and the rung it was judged at.
void take_early_result(LedgerPoint& p, const nlohmann::json& record) {
  TrainResult result = result_from_json(record);
  if (!result.curves.empty()) {
    std::vector<EpochMetrics> curves;
    for (const auto& row : result.curves) put_epoch(curves, row);
    p.curves = std::move(curves);
    result.curves.clear();
    ++p.curve_generation;
  }
  if (!result.device.empty()) p.run.device = result.device;
  ++p.result_generation;
  p.rungs.push_back({record.at("epoch").get<int>(), number_from_json(record.at("value"))});
  p.finished = record.at("at").get<std::string>();
  p.result = std::move(result);
}

}  // namespace

size_t LedgerState::position(const std::string& id, const std::string& path) const {
  point(id, path);  // throws for an unknown ID
  return index_.at(id);
}

const LedgerPoint& LedgerState::point(const std::string& id, const std::string& path) const {
  auto it = index_.find(id);
  if (it == index_.end())
    throw ResultsUsageError(path, fmt::format("point '{}' is not in results file '{}': plan() it first", id, path));
  return points_[it->second];
}

LedgerPoint& LedgerState::point_to_change(const nlohmann::json& record, const std::string& path) {
  return point_to_change(record.at("id").get<std::string>(), path);
}

LedgerPoint& LedgerState::point_to_change(const std::string& id, const std::string& path) {
  auto it = index_.find(id);
  if (it == index_.end()) point(id, path);  // throws for an unknown ID
  return points_[it->second];
}

namespace {
ResultsUsageError refusal(const std::string& path, const LedgerPoint& p, const char* action, const char* allowed) {
  return ResultsUsageError(path, fmt::format("cannot {} point '{}': it is {} (allowed only when {})", action,
                                             p.planned.id, to_string(p.status), allowed));
}
}  // namespace

namespace {
const nlohmann::json& default_config() {
  static const nlohmann::json defaults = config_to_json(TrainConfig{});
  return defaults;
}
}  // namespace

nlohmann::json config_delta(const nlohmann::json& config) {
  if (!config.is_object()) throw std::invalid_argument("config_delta: the config is not a JSON object");
  const nlohmann::json& defaults = default_config();
  nlohmann::json delta = nlohmann::json::object();
  // Both sorted by key: walk them in step.
  auto c = config.begin(), d = defaults.begin();
  while (c != config.end() || d != defaults.end()) {
    if (d == defaults.end() || (c != config.end() && c.key() < d.key())) {  // a key the defaults lack
      delta[c.key()] = *c;
      ++c;
    } else if (c == config.end() || d.key() < c.key()) {  // a default key the config lacks
      delta[d.key()] = nullptr;
      ++d;
    } else {
      if (*c != *d) delta[c.key()] = *c;
      ++c, ++d;
    }
  }
  return delta;
}

const nlohmann::json* config_value(const LedgerPoint& point, const std::string& key) {
  if (const auto it = point.config_delta.find(key); it != point.config_delta.end())
    return it->is_null() ? nullptr : &*it;
  const nlohmann::json& defaults = default_config();
  const auto it = defaults.find(key);
  return it == defaults.end() ? nullptr : &*it;
}

bool LedgerState::plan(PlannedPoint planned, const std::string& path) {
  if (!has_header()) throw ResultsUsageError(path, "a plan record before the ledger header");
  if (contains(planned.id)) return false;  // planned before: never overwritten
  if (planned.id.empty()) throw ResultsUsageError(path, "a point to plan has an empty id");
  LedgerPoint p;
  if (planned.config) {
    p.config_delta = config_delta(*planned.config);
  } else {
    const auto config = nlohmann::json::parse(planned.config_text, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded() || !config.is_object())
      throw ResultsUsageError(path, fmt::format("the config of point '{}' is not a JSON object: {}", planned.id,
                                                planned.config_text.substr(0, 200)));
    p.config_delta = config_delta(config);
  }
  planned.config = nullptr;  // the caller's, valid only during this call
  p.planned = std::move(planned);
  index_.emplace(p.planned.id, points_.size());
  points_.push_back(std::move(p));
  return true;
}

void LedgerState::start(const std::string& id, const PointRunInfo& run, const std::string& at, int until,
                        const std::string& path) {
  if (!has_header()) throw ResultsUsageError(path, "a start record before the ledger header");
  LedgerPoint& p = point_to_change(id, path);
  if (p.status != PointStatus::pending && p.status != PointStatus::failed)
    throw refusal(path, p, "start", "pending or failed");
  p.status = PointStatus::running;
  ++p.attempts;
  p.error.clear();
  p.curves.clear();
  p.result.reset();
  ++p.curve_generation;
  ++p.result_generation;
  p.run = run;
  p.started = at;
  p.finished.clear();
  p.until = until;
}

void LedgerState::add_epoch(const std::string& id, const EpochMetrics& row, const std::string& path) {
  if (!has_header()) throw ResultsUsageError(path, "an epoch record before the ledger header");
  LedgerPoint& p = point_to_change(id, path);
  if (p.status != PointStatus::running) throw refusal(path, p, "record an epoch of", "running");
  try {
    if (!put_epoch(p.curves, row)) ++p.curve_generation;
  } catch (const std::invalid_argument& e) {
    throw ResultsUsageError(path, fmt::format("point '{}': {}", id, e.what()));
  }
}

void LedgerState::finish(const std::string& id, TrainResult result, const std::string& at, const std::string& path) {
  if (!has_header()) throw ResultsUsageError(path, "a done record before the ledger header");
  LedgerPoint& p = point_to_change(id, path);
  if (p.status != PointStatus::running) throw refusal(path, p, "finish", "running");
  if (!result.curves.empty()) {  // sent along when they differ from the streamed epochs
    std::vector<EpochMetrics> curves;
    try {
      for (const auto& row : result.curves) put_epoch(curves, row);
    } catch (const std::invalid_argument& e) {
      throw ResultsUsageError(path, fmt::format("point '{}': {}", id, e.what()));
    }
    p.curves = std::move(curves);
    result.curves.clear();
    ++p.curve_generation;
  }
  if (!result.device.empty()) p.run.device = result.device;
  ++p.result_generation;
  p.status = PointStatus::done;
  p.finished = at;
  p.result = std::move(result);
}

size_t LedgerState::end_session() {
  size_t changed = 0;
  for (auto& p : points_)
    if (p.status == PointStatus::running) p.status = PointStatus::pending, ++changed;
  return changed;
}

void LedgerState::apply(const nlohmann::json& record, const std::string& path) {
  try {
    apply_checked(record, path);
  } catch (const ResultsError&) {
    throw;
  } catch (const std::exception& e) {  // missing field, wrong type, wrong size
    throw ResultsUsageError(path, fmt::format("malformed results record {}: {}", record.dump().substr(0, 200),
                                              e.what()));
  }
}

void LedgerState::apply_checked(const nlohmann::json& record, const std::string& path) {
  const std::string type = record.at("t").get<std::string>();
  auto refuse = [&](const LedgerPoint& p, const char* action, const char* allowed) {
    return refusal(path, p, action, allowed);
  };

  if (type == "ledger") {
    if (has_header()) throw std::invalid_argument("a second ledger header");
    if (record.at("format") != kJournalFormat)
      throw std::invalid_argument(fmt::format("unsupported journal format {}", record.at("format").dump()));
    if (const int version = record.at("version").get<int>(); version > kJournalVersion)
      throw ResultsRefusedError(path, fmt::format("results journal '{}' is journal version {}, written by a newer "
                                                  "ablate ({}); this ablate {} reads versions up to {}: run the "
                                                  "newer ablate on it (the journal is left as it was)",
                                                  path, version, record.value("ablate_version", "version unknown"),
                                                  kVersion, kJournalVersion));
    ledger_id_ = record.at("ledger_id").get<std::string>();
    created_ = record.at("created").get<std::string>();
    sweeps_.push_back(sweep_from_json(record.at("sweep")));
    return;
  }
  if (!has_header()) throw std::invalid_argument("a record before the ledger header");

  if (type == "sweep") {
    sweeps_.push_back(sweep_from_json(record.at("sweep")));
  } else if (type == "plan") {
    plan({record.at("id").get<std::string>(), record.at("config").get<std::string>(),
          record.at("case").get<std::string>(), record.at("seed").get<int>(), record.value("trial", -1),
          record.value("suggested_by", "")},
         path);
  } else if (type == "start") {
    // A start of a point the journal left running: the run that started it ended
    // without an outcome (killed or stopped), and the open after it made the point
    // pending again without a record. This start is the next attempt.
    if (LedgerPoint& p = point_to_change(record, path); p.status == PointStatus::running)
      p.status = PointStatus::pending;
    start(record.at("id").get<std::string>(),
          {record.at("host").get<std::string>(), record.at("device").get<std::string>(),
           record.at("torch").get<std::string>(), record.value("threads", 0), record.value("ranks", 0)},
          record.at("at").get<std::string>(), record.value("until", 0), path);
  } else if (type == "epoch") {
    add_epoch(record.at("id").get<std::string>(), epoch_from_json(record.at("m")), path);
  } else if (type == "done") {
    finish(record.at("id").get<std::string>(), result_from_json(record), record.at("at").get<std::string>(), path);
  } else if (type == "pause") {
    LedgerPoint& p = point_to_change(record, path);
    if (p.status != PointStatus::running) throw refuse(p, "pause", "running");
    take_early_result(p, record);
    p.status = PointStatus::paused;
  } else if (type == "promote") {
    LedgerPoint& p = point_to_change(record, path);
    if (p.status != PointStatus::paused) throw refuse(p, "promote", "paused");
    p.status = PointStatus::pending;
    p.until = record.at("until").get<int>();
  } else if (type == "stop") {
    LedgerPoint& p = point_to_change(record, path);
    if (p.status == PointStatus::running) take_early_result(p, record);  // a verdict ended its run
    else if (p.status != PointStatus::paused) throw refuse(p, "stop", "running or paused");
    p.status = PointStatus::stopped;
    p.finished = record.at("at").get<std::string>();
  } else if (type == "fail") {
    LedgerPoint& p = point_to_change(record, path);
    if (p.status != PointStatus::running && p.status != PointStatus::pending)
      throw refuse(p, "fail", "running or pending");
    p.status = PointStatus::failed;
    p.error = record.at("error").get<std::string>();
    p.finished = record.at("at").get<std::string>();
  } else if (type == "search") {
    if (!record.at("r").is_object()) throw std::invalid_argument("a search record without its \"r\" object");
    search_records_.push_back(record.at("r"));
  } else if (type == "reset") {
    LedgerPoint& p = point_to_change(record, path);
    if (p.status != PointStatus::failed) throw refuse(p, "reset", "failed");
    p.status = PointStatus::pending;
    p.error.clear();
  } else {
    throw std::invalid_argument(fmt::format("unknown record type '{}'", type));
  }
}

}  // namespace ablate
