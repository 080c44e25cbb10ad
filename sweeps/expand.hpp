// Expansion: a checked SweepSpec becomes the list of canonical, de-duplicated points.
#pragma once

#include "sweeps/spec.hpp"
#include "sweeps/sweep.hpp"

namespace ablate::sweeps {

// Throws SpecError when the sweep is too large or a merged point is invalid
// (cross-key problems such as dropout on a model without hidden layers).
Sweep expand_spec(const SweepSpec& spec);

// The points of one canonical configuration, one per seed, in the order of `seeds`:
// config with the seed set, ID and canonical text. Every point of every sweep is
// made here, planned or suggested by a search. `costs`, when given, is shared by
// many calls (a sweep's expansion) and works out each model's size once.
std::vector<SweepPoint> seeded_points(nlohmann::json canonical, const std::vector<int>& seeds,
                                      PointCostEstimator* costs = nullptr);

}  // namespace ablate::sweeps
