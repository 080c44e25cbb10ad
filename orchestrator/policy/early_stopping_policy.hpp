// What every early-stopping policy shares: the rung ladder, the metric and its
// direction, and the ledger queries the decisions are made from. The policies
// keep no state of their own: each call reads the ledger, which holds every
// pause, promotion and stop, so a sweep resumed after a kill sees exactly the
// rungs an uninterrupted one would.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "orchestrator/policy/scheduling_policy.hpp"
#include "sweeps/early_stopping.hpp"

namespace ablate {

class EarlyStoppingPolicy : public SchedulingPolicy {
 public:
  EarlyStoppingPolicy(const sweeps::EarlyStopping& settings, std::vector<PolicyPoint> points, ResultsFile& results);

  double judged_value(const EpochMetrics& row) const override { return row.*metric_; }
  void finish() override;  // every point still paused: stopped at its rung
  // A search's points; the first ones set the budget and rungs when there were none.
  void add_points(std::vector<PolicyPoint> points) override;
  std::string describe() const override;

  // Rung epochs: min_epochs * eta^k below the budget, then the budget itself.
  const std::vector<int>& rungs() const { return rungs_; }

 protected:
  // True when `a` is better than `b`; NaN (a diverged point) is worse than anything.
  bool better(double a, double b) const;
  // The value `point` was judged on at rung `epoch`, if it was paused or stopped there.
  std::optional<double> mark_at(const LedgerPoint& point, int epoch) const;
  // The point's value at epoch `epoch` of its curve, if it has that row.
  std::optional<double> value_at(const LedgerPoint& point, int epoch) const;
  // The `k` best of `ids` by their value at rung `epoch` (ties: sweep order).
  std::vector<std::string> best_at_rung(std::vector<std::string> ids, int epoch, size_t k) const;
  // The first rung after `epoch` (the budget at most).
  int next_rung(int epoch) const;
  // The epoch a point paused at (its last rung mark); 0 when it has none.
  static int paused_epoch(const LedgerPoint& point);

  // A pending point's assignment: it resumes to the `until` it was given, or,
  // never started, trains to `first_until`. Per-epoch verdicts when `each_epoch`.
  Assignment assignment_for(const LedgerPoint& point, int first_until, bool each_epoch = false) const;
  // Records the promotion and returns its assignment.
  Assignment promote(const std::string& id, int until, const std::string& reason, bool each_epoch = false);

  const LedgerPoint& ledger(const std::string& id) const { return results_.point(id); }
  bool never_started(const LedgerPoint& point) const { return point.until == 0 && point.rungs.empty(); }

  sweeps::EarlyStopping settings_;
  std::vector<PolicyPoint> points_;  // the sweep's, most expensive first
  ResultsFile& results_;
  double EpochMetrics::*metric_;
  int budget_ = 0;  // every point's epochs
  std::vector<int> rungs_;
};

}  // namespace ablate
