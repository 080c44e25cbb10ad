// Most expensive first, every point to its last epoch.
#include "orchestrator/policy/full_budget_policy.hpp"

namespace ablate {

FullBudgetPolicy::FullBudgetPolicy(std::vector<PolicyPoint> points, const ResultsFile& results) : results_(results) {
  add_points(std::move(points));
}

void FullBudgetPolicy::add_points(std::vector<PolicyPoint> points) {
  for (auto& p : points)
    if (results_.status(p.id) == PointStatus::pending) pending_.push_back(std::move(p));
}

std::optional<Assignment> FullBudgetPolicy::next(bool) {
  if (next_ == pending_.size()) return std::nullopt;
  Assignment assignment;
  assignment.id = pending_[next_++].id;
  return assignment;
}

}  // namespace ablate
