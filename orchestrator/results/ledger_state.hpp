// LedgerState: what the journal says, folded record by record. The replay at
// open goes through apply(); the live ledger too, except for the records every
// point has (plan, start, epoch, done), which it applies from their values rather
// than parse the text it just wrote: apply() decodes those records and calls the
// same transitions (plan, start, add_epoch, finish), so the paths cannot disagree.
#pragma once

#include "orchestrator/results/ledger_types.hpp"
#include "core/metrics.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ablate {

struct LedgerPoint {
  PlannedPoint planned;
  // planned.config_text, parsed once and kept as its difference from the default
  // config (config_delta()): a copy of every key would be most of rank 0's memory
  // allocations and frees for a big sweep. Read values with config_value().
  nlohmann::json config_delta;
  PointStatus status = PointStatus::pending;
  std::string error;      // "" unless failed
  int attempts = 0;       // start records seen, interrupted attempts included
  PointRunInfo run;       // of the latest attempt
  std::string started, finished;
  std::vector<EpochMetrics> curves;   // of the latest attempt, sorted by epoch
  // Done, stopped and paused points (a paused one's until it is promoted); its
  // curves are left empty (see `curves`).
  std::optional<TrainResult> result;
  // Early stopping: the last epoch its latest attempt may train (0: all of its
  // epochs), and every rung it was paused or stopped at, in journal order (kept
  // across attempts: the policy's record of what it decided).
  int until = 0;
  std::vector<RungMark> rungs;
  // Bumped whenever `curves` changes other than by a row appended at its end, and
  // whenever `result` is set or dropped: the HDF5 view rewrites only what changed.
  uint64_t curve_generation = 0, result_generation = 0;
};

// The keys where `config` differs from the default config: a value unlike the
// default's, a key the defaults lack, or null where `config` lacks a default key
// (a config written before the key existed). Both are sorted JSON objects.
nlohmann::json config_delta(const nlohmann::json& config);
// A point's value of `key`, nullptr when its config has no such key.
const nlohmann::json* config_value(const LedgerPoint& point, const std::string& key);

class LedgerState {
 public:
  // Folds one record into the state. Throws ResultsUsageError (naming `path`, the
  // journal) when the record is malformed or breaks the rules: unknown point,
  // epoch of a point that is not running, finishing a point twice, ...
  void apply(const nlohmann::json& record, const std::string& path);

  // The transitions of the plan, start, epoch and done records, with the same
  // checks (ResultsUsageError naming `path`).
  // A new point, pending; false (and nothing changes) for an ID planned before.
  bool plan(PlannedPoint planned, const std::string& path);
  // pending/failed -> running, attempts + 1.
  void start(const std::string& id, const PointRunInfo& run, const std::string& at, int until,
             const std::string& path);
  void add_epoch(const std::string& id, const EpochMetrics& row, const std::string& path);
  // running -> done; result.curves, when not empty, replace the streamed ones.
  void finish(const std::string& id, TrainResult result, const std::string& at, const std::string& path);

  // At open no attempt survives: running points become pending again.
  // Returns how many points changed.
  size_t end_session();

  bool contains(const std::string& id) const { return index_.count(id) > 0; }
  // The point's position in plan order (its /index row); throws for an unknown ID.
  size_t position(const std::string& id, const std::string& path) const;
  const LedgerPoint& point(const std::string& id, const std::string& path) const;
  const std::vector<LedgerPoint>& points() const { return points_; }  // in plan order
  // The search's records (the "r" of each search record), in journal order.
  const std::vector<nlohmann::json>& search_records() const { return search_records_; }

  bool has_header() const { return !ledger_id_.empty(); }
  const std::string& ledger_id() const { return ledger_id_; }
  const std::string& created() const { return created_; }
  // Every sweep that has written to this ledger; the first one created it.
  const std::vector<SweepIdentity>& sweeps() const { return sweeps_; }

 private:
  LedgerPoint& point_to_change(const nlohmann::json& record, const std::string& path);
  LedgerPoint& point_to_change(const std::string& id, const std::string& path);
  void apply_checked(const nlohmann::json& record, const std::string& path);

  std::string ledger_id_, created_;
  std::vector<SweepIdentity> sweeps_;
  std::vector<LedgerPoint> points_;
  std::vector<nlohmann::json> search_records_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace ablate
