// The default policy: every point trains all its epochs, most expensive first,
// so the last points to start are the short ones and workers finish together.
#pragma once

#include "orchestrator/policy/scheduling_policy.hpp"

namespace ablate {

class FullBudgetPolicy : public SchedulingPolicy {
 public:
  FullBudgetPolicy(std::vector<PolicyPoint> points, const ResultsFile& results);
  std::optional<Assignment> next(bool others_busy, const PointFilter& fits) override;
  void add_points(std::vector<PolicyPoint> points) override;
  bool chooses_ahead() const override { return true; }  // the order is fixed up front

 private:
  const ResultsFile& results_;
  std::vector<PolicyPoint> pending_;  // in order
  std::vector<bool> handed_out_;      // index as pending_
  size_t next_ = 0;                   // pending_[.. next_) are all handed out
};

}  // namespace ablate
