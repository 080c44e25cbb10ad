// Expansion: a checked SweepSpec becomes the list of canonical, de-duplicated points.
#pragma once

#include "sweeps/spec.hpp"
#include "sweeps/sweep.hpp"

namespace ablate::sweeps {

// Throws SpecError when the sweep is too large or a merged point is invalid
// (cross-key problems such as dropout on a model without hidden layers).
Sweep expand_spec(const SweepSpec& spec);

}  // namespace ablate::sweeps
