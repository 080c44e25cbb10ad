// The policy a sweep's spec asks for.
#include <fmt/format.h>

#include <stdexcept>

#include "orchestrator/policy/asha_policy.hpp"
#include "orchestrator/policy/full_budget_policy.hpp"
#include "orchestrator/policy/median_policy.hpp"
#include "orchestrator/policy/successive_halving_policy.hpp"

namespace ablate {

std::unique_ptr<SchedulingPolicy> make_policy(const sweeps::Sweep& sweep, std::vector<PolicyPoint> points,
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

}  // namespace ablate
