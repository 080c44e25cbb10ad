// A sweep's points as the results ledger plans them (ResultsFile::plan).
#pragma once

#include <vector>

#include "orchestrator/results/ledger_types.hpp"
#include "sweeps/sweep.hpp"

namespace ablate {

// One PlannedPoint per sweep point, in order. Each refers to its point's parsed
// config (planning copies it instead of parsing the text again), so `points`
// must outlive the plan call.
inline std::vector<PlannedPoint> planned_points(const std::vector<sweeps::SweepPoint>& points) {
  std::vector<PlannedPoint> planned;
  planned.reserve(points.size());
  for (const auto& p : points)
    planned.push_back({p.id, p.config_text, p.case_name, p.seed, p.trial, p.suggested_by, &p.config});
  return planned;
}

}  // namespace ablate
