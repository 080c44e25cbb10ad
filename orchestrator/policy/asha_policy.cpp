// ASHA: promote from the highest rung first, else start a new point.
#include "orchestrator/policy/asha_policy.hpp"

namespace ablate {

std::optional<std::string> AshaPolicy::promotable_at(int rung, bool count_incoming, const PointFilter& fits) const {
  std::vector<std::string> reached;
  size_t incoming = 0;  // running or waiting to run up to this rung
  for (const auto& p : points_) {
    const LedgerPoint& point = ledger(p.id);
    if (mark_at(point, rung))
      reached.push_back(p.id);
    else if (point.until == rung && (point.status == PointStatus::running || point.status == PointStatus::pending))
      ++incoming;
  }
  const size_t members = reached.size() + (count_incoming ? incoming : 0);
  const size_t top = members / static_cast<size_t>(settings_.reduction_factor);
  for (const auto& id : best_at_rung(reached, rung, top)) {
    const LedgerPoint& point = ledger(id);
    if (point.status == PointStatus::paused && paused_epoch(point) == rung && admits(fits, id)) return id;
  }
  return std::nullopt;
}

std::optional<Assignment> AshaPolicy::next(bool others_busy, const PointFilter& fits) {
  // 1. Promoted points (or interrupted ones) go on to the rung they were given.
  for (const auto& p : points_) {
    const LedgerPoint& point = ledger(p.id);
    if (point.status == PointStatus::pending && !never_started(point) && admits(fits, p.id))
      return assignment_for(point, 0);
  }
  // 2. The top 1/eta of a rung goes on, the highest rung first.
  for (size_t r = rungs_.size() - 1; r-- > 0;)
    if (auto id = promotable_at(rungs_[r], /*count_incoming=*/false, fits))
      return promote(*id, next_rung(rungs_[r]), "top");
  // 3. A new point, to the first rung.
  for (const auto& p : points_) {
    const LedgerPoint& point = ledger(p.id);
    if (point.status == PointStatus::pending && admits(fits, p.id)) return assignment_for(point, rungs_.front());
  }
  // 4. Nothing else to run while others still train: rather than idle, a worker
  //    takes the best paused point that is in the top 1/eta of its rung once the
  //    points still on their way to that rung are counted in. (Promoting any
  //    paused point would, with a long tail, train every point to the end.)
  if (!others_busy) return std::nullopt;
  for (size_t r = rungs_.size() - 1; r-- > 0;)
    if (auto id = promotable_at(rungs_[r], /*count_incoming=*/true, fits))
      return promote(*id, next_rung(rungs_[r]), "idle");
  return std::nullopt;
}

}  // namespace ablate
