// The policy a sweep's spec asks for.
#include <fmt/format.h>

#include <stdexcept>

#include "orchestrator/policy/asha_policy.hpp"
#include "orchestrator/policy/full_budget_policy.hpp"
#include "orchestrator/policy/median_policy.hpp"
#include "orchestrator/policy/search_policy.hpp"
#include "orchestrator/policy/successive_halving_policy.hpp"

namespace ablate {

namespace {

std::unique_ptr<SchedulingPolicy> make_fixed_policy(const sweeps::Sweep& sweep, std::vector<PolicyPoint> points,
                                                    ResultsFile& results) {
  if (!sweep.early_stopping) return std::make_unique<FullBudgetPolicy>(std::move(points), results);
  const sweeps::EarlyStopping& settings = *sweep.early_stopping;
  if (settings.method == "asha") return std::make_unique<AshaPolicy>(settings, std::move(points), results);
  if (settings.method == "successive_halving")
    return std::make_unique<SuccessiveHalvingPolicy>(settings, std::move(points), results, /*hyperband=*/false);
  if (settings.method == "hyperband")
    return std::make_unique<SuccessiveHalvingPolicy>(settings, std::move(points), results, /*hyperband=*/true);
  if (settings.method == "median") return std::make_unique<MedianPolicy>(settings, std::move(points), results);
  throw std::invalid_argument(fmt::format("unknown early-stopping method '{}'", settings.method));
}

}  // namespace

std::unique_ptr<SchedulingPolicy> make_policy(const sweeps::Sweep& sweep, std::vector<PolicyPoint> points,
                                              ResultsFile& results) {
  if (sweep.search && sweep.early_stopping &&
      (sweep.early_stopping->method == "successive_halving" || sweep.early_stopping->method == "hyperband"))
    throw std::invalid_argument(fmt::format(
        "sweep '{}': [search] cannot run with [early_stopping] method = \"{}\": its synchronous rungs need every "
        "point up front, and a search suggests them one trial at a time; use method = \"asha\" (the BOHB recipe) "
        "or \"median\"",
        sweep.name, sweep.early_stopping->method));
  std::unique_ptr<SchedulingPolicy> policy = make_fixed_policy(sweep, std::move(points), results);
  if (!sweep.search) return policy;
  return std::make_unique<SearchPolicy>(sweep, std::move(policy), results);
}

}  // namespace ablate
