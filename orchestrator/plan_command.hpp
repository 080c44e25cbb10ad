// `ablate plan` and `ablate status`: look at a sweep, or at its results, and train nothing.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "sweeps/sweep.hpp"

namespace ablate {

// Prints sweeps::format_plan of the spec with `overrides` (--set key=value)
// applied; with `pack` (--pack K, or kPackAuto) other than 1, then how its
// points fall into packs on `device` (cpu | cuda; what --pack auto sizes for).
// Throws SpecError, OptionError.
int run_plan_command(const std::string& spec_path, const std::vector<std::string>& overrides, std::ostream& out,
                     int pack = 1, const std::string& device = "cpu");

// The packs `ablate run --pack` makes of the sweep's points when each trains to
// its last epoch: per shape (equal pack keys) its points in chunks of the pack
// size, in the run's order. Early stopping's rungs regroup them as points pause.
std::string format_pack_plan(const sweeps::Sweep& sweep, int pack, const std::string& device);

// Prints the counts per status and the best points of a results file (read-only,
// safe while a sweep writes it), as text or (json) one JSON object that also lists
// every point's status; with `pareto`, the Pareto fronts of best validation accuracy
// against training time and against parameter count instead. Throws ResultsError.
int run_status_command(const std::string& results_path, int top, std::ostream& out, bool json = false,
                       bool pareto = false);

}  // namespace ablate
