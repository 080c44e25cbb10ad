// The plain values the results ledger takes in: which sweep, which points, where
// a point runs, and the status of a point.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ablate {

// The sweep a results file belongs to; the ledger refuses a different one.
struct SweepIdentity {
  std::string name;
  std::string path;       // where the spec was read from (informational: a moved spec is the same sweep)
  std::string spec_text;  // the spec file's text, compared byte for byte
};

// What the ledger needs of one sweep point. The orchestrator converts its
// sweep points into these, so the ledger does not depend on sweeps/.
struct PlannedPoint {
  std::string id;           // config_id() of the config
  std::string config_text;  // canonical JSON text (a JSON object)
  std::string case_name;    // the sweep case the point belongs to
  int seed = 0;
  int trial = -1;            // the search trial it belongs to; -1: planned from the spec
  std::string suggested_by;  // "random" or "tpe" for a search's points; "" otherwise
  // config_text already parsed, when the caller has it (the sweep's expansion does):
  // planning then copies it instead of parsing the text again (~15 us a point).
  // Only read during the plan call; it must be the parse of config_text.
  const nlohmann::json* config = nullptr;
};

// Where an attempt at a point runs.
struct PointRunInfo {
  std::string host;
  std::string device;
  std::string torch_version;
  // What the attempt's time was measured with: LibTorch threads per rank, and
  // the ranks training the point together (--ranks-per-point). 0: not recorded
  // (journals before version 5).
  int threads = 0;
  int ranks = 0;
};

// paused: early stopping ended it at a rung; its checkpoint is kept and a
// promotion makes it pending again, to resume from there. stopped: early
// stopping ended it for good; its curves and result so far are kept.
enum class PointStatus { pending, running, paused, done, stopped, failed };

inline constexpr PointStatus kAllPointStatuses[] = {PointStatus::pending, PointStatus::running, PointStatus::paused,
                                                    PointStatus::done,    PointStatus::stopped, PointStatus::failed};

inline const char* to_string(PointStatus status) {
  switch (status) {
    case PointStatus::pending: return "pending";
    case PointStatus::running: return "running";
    case PointStatus::paused: return "paused";
    case PointStatus::done: return "done";
    case PointStatus::stopped: return "stopped";
    case PointStatus::failed: return "failed";
  }
  return "?";
}

// Done or stopped: the point will not train again, and it has a result.
inline bool is_finished(PointStatus status) { return status == PointStatus::done || status == PointStatus::stopped; }

// A point paused or stopped at a rung: the epoch and the metric it was judged on.
struct RungMark {
  int epoch = 0;
  double value = 0;
};

inline std::optional<PointStatus> parse_point_status(std::string_view text) {
  for (PointStatus s : kAllPointStatuses)
    if (text == to_string(s)) return s;
  return std::nullopt;
}

}  // namespace ablate
