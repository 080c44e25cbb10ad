// Most expensive first, every point to its last epoch.
#include "orchestrator/policy/full_budget_policy.hpp"

namespace ablate {

FullBudgetPolicy::FullBudgetPolicy(std::vector<PolicyPoint> points, const ResultsFile& results) {
  for (auto& p : points)
    if (results.status(p.id) == PointStatus::pending) pending_.push_back(std::move(p));
}

std::optional<Assignment> FullBudgetPolicy::next(bool) {
  if (next_ == pending_.size()) return std::nullopt;
  return Assignment{pending_[next_++].id};
}

}  // namespace ablate
