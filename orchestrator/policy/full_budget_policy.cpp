// Most expensive first, every point to its last epoch.
#include "orchestrator/policy/full_budget_policy.hpp"

namespace ablate {

FullBudgetPolicy::FullBudgetPolicy(std::vector<PolicyPoint> points, const ResultsFile& results) : results_(results) {
  add_points(std::move(points));
}

void FullBudgetPolicy::add_points(std::vector<PolicyPoint> points) {
  for (auto& p : points)
    if (results_.status(p.id) == PointStatus::pending) pending_.push_back(std::move(p)), handed_out_.push_back(false);
}

std::optional<Assignment> FullBudgetPolicy::next(bool, const PointFilter& fits) {
  for (size_t i = next_; i < pending_.size(); ++i) {
    if (handed_out_[i] || !admits(fits, pending_[i].id)) continue;
    handed_out_[i] = true;
    while (next_ < pending_.size() && handed_out_[next_]) ++next_;
    Assignment assignment;
    assignment.id = pending_[i].id;
    return assignment;
  }
  return std::nullopt;
}

}  // namespace ablate
