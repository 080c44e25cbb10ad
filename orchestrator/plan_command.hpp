// `ablate plan` and `ablate status`: look at a sweep, or at its results, and train nothing.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ablate {

// Prints sweeps::format_plan of the spec with `overrides` (--set key=value)
// applied. Throws SpecError.
int run_plan_command(const std::string& spec_path, const std::vector<std::string>& overrides, std::ostream& out);

// Prints the counts per status and the best points of a results file (read-only,
// safe while a sweep writes it), as text or (json) one JSON object that also lists
// every point's status; with `pareto`, the Pareto fronts of best validation accuracy
// against training time and against parameter count instead. Throws ResultsError.
int run_status_command(const std::string& results_path, int top, std::ostream& out, bool json = false,
                       bool pareto = false);

}  // namespace ablate
