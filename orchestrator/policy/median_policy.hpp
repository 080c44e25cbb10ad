// The median stopping rule: from min_epochs on, a point whose metric at epoch t
// is worse than the median of the other points at t stops. It is judged after
// every epoch (the worker waits for the verdict). With fewer than kMinPeers
// others at t to compare with, a point pauses there while new points can still
// start, and is judged when enough have caught up (early points are not let
// through for want of peers); when nothing else is left to run, the best such
// point goes on without them.
#pragma once

#include "orchestrator/policy/early_stopping_policy.hpp"

namespace ablate {

class MedianPolicy : public EarlyStoppingPolicy {
 public:
  static constexpr size_t kMinPeers = 3;

  using EarlyStoppingPolicy::EarlyStoppingPolicy;
  std::optional<Assignment> next(bool others_busy, const PointFilter& fits) override;
  EpochVerdict after_epoch(const std::string& id, const EpochMetrics& row) override;

 private:
  // The median of the other points' values at `epoch`, when at least kMinPeers have one.
  std::optional<double> median_of_others(const std::string& id, int epoch) const;
  bool has_fresh_point() const;
};

}  // namespace ablate
