// The plain values the results ledger takes in: which sweep, which points, where
// a point runs, and the status of a point.
#pragma once

#include <optional>
#include <string>
#include <string_view>

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
};

// Where an attempt at a point runs.
struct PointRunInfo {
  std::string host;
  std::string device;
  std::string torch_version;
};

enum class PointStatus { pending, running, done, failed };

inline const char* to_string(PointStatus status) {
  switch (status) {
    case PointStatus::pending: return "pending";
    case PointStatus::running: return "running";
    case PointStatus::done: return "done";
    case PointStatus::failed: return "failed";
  }
  return "?";
}

inline std::optional<PointStatus> parse_point_status(std::string_view text) {
  for (PointStatus s : {PointStatus::pending, PointStatus::running, PointStatus::done, PointStatus::failed})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

}  // namespace ablate
