// The median stopping rule over the ledger's curves.
#include "orchestrator/policy/median_policy.hpp"

#include <algorithm>

namespace ablate {

std::optional<double> MedianPolicy::median_of_others(const std::string& id, int epoch) const {
  std::vector<double> values;
  for (const auto& p : points_)
    if (p.id != id)
      if (auto value = value_at(ledger(p.id), epoch)) values.push_back(*value);
  if (values.size() < kMinPeers) return std::nullopt;
  // The median in the metric's direction: NaN sorts as the worst.
  std::sort(values.begin(), values.end(), [&](double a, double b) { return better(a, b); });
  const size_t half = values.size() / 2;
  return values.size() % 2 ? values[half] : (values[half - 1] + values[half]) / 2;
}

bool MedianPolicy::has_fresh_point() const {
  return std::any_of(points_.begin(), points_.end(), [&](const PolicyPoint& p) {
    const LedgerPoint& point = ledger(p.id);
    return point.status == PointStatus::pending && point.attempts == 0;
  });
}

EpochVerdict MedianPolicy::after_epoch(const std::string& id, const EpochMetrics& row) {
  if (row.epoch < settings_.min_epochs || row.epoch >= budget_) return EpochVerdict::go_on;
  // A row replayed from a checkpoint, at or before the epoch it was paused and
  // judged at: that judgement (a promotion) stands.
  if (row.epoch <= paused_epoch(ledger(id))) return EpochVerdict::go_on;
  const auto median = median_of_others(id, row.epoch);
  if (!median) return has_fresh_point() ? EpochVerdict::pause : EpochVerdict::go_on;
  return better(*median, row.*metric_) ? EpochVerdict::stop : EpochVerdict::go_on;
}

std::optional<Assignment> MedianPolicy::next(bool others_busy, const PointFilter& fits) {
  constexpr bool kEachEpoch = true;
  // 1. Promoted or interrupted points go on.
  for (const auto& p : points_) {
    const LedgerPoint& point = ledger(p.id);
    if (point.status == PointStatus::pending && point.attempts > 0 && admits(fits, p.id))
      return assignment_for(point, 0, kEachEpoch);
  }
  // 2. Paused points whose peers have caught up are judged now.
  std::optional<Assignment> first;
  for (const auto& p : points_) {
    const LedgerPoint& point = ledger(p.id);
    if (point.status != PointStatus::paused) continue;
    const int epoch = paused_epoch(point);
    const auto median = median_of_others(p.id, epoch);
    if (!median) continue;
    if (better(*median, *mark_at(point, epoch)))
      results_.stop_point(p.id, "median");
    else if (auto promoted = promote(p.id, budget_, "median", kEachEpoch); !first && admits(fits, p.id))
      first = promoted;
  }
  if (first) return first;
  // 3. A new point.
  for (const auto& p : points_) {
    const LedgerPoint& point = ledger(p.id);
    if (point.status == PointStatus::pending && admits(fits, p.id)) return assignment_for(point, 0, kEachEpoch);
  }
  // 4. Nothing else to run: the best point paused for want of peers goes on
  //    without them (even with no other worker busy: no peers will come).
  (void)others_busy;
  std::optional<std::string> best;
  for (const auto& p : points_) {
    const LedgerPoint& point = ledger(p.id);
    if (point.status != PointStatus::paused) continue;
    if (!best || better(point.rungs.back().value, ledger(*best).rungs.back().value)) best = p.id;
  }
  // A pack takes it only when it fits: the choice of the best stands either way.
  if (best && admits(fits, *best)) return promote(*best, budget_, "idle", kEachEpoch);
  return std::nullopt;
}

}  // namespace ablate
