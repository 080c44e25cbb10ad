// `ablate plan` and `ablate status`: thin layers over sweeps/ and the results summary.
#include "orchestrator/plan_command.hpp"

#include "orchestrator/exit_codes.hpp"
#include "orchestrator/results/pareto_front.hpp"
#include "orchestrator/results/results_summary.hpp"
#include "sweeps/sweep.hpp"

#include <cstdint>

namespace ablate {

int run_plan_command(const std::string& spec_path, const std::vector<std::string>& overrides, std::ostream& out) {
  out << sweeps::format_plan(sweeps::load_sweep(spec_path, overrides));
  out.flush();
  return kExitOk;
}

int run_status_command(const std::string& results_path, int top, std::ostream& out, bool json, bool pareto) {
  if (top < 0) throw OptionError("--top " + std::to_string(top) + ": use 0 or more");
  if (json && pareto) throw OptionError("--pareto prints text: leave out --json (or --pareto)");
  if (pareto)
    out << format_pareto_fronts(read_pareto_fronts(results_path));
  else if (json)  // every failed point's error: a script should not have to open the file for them
    out << results_summary_json(read_results_summary(results_path, static_cast<size_t>(top), SIZE_MAX)).dump(2)
        << "\n";
  else
    out << format_results_summary(read_results_summary(results_path, static_cast<size_t>(top)));
  out.flush();
  return kExitOk;
}

}  // namespace ablate
