// ASHA (asynchronous successive halving, Li et al. 2020) with promotion: a point
// pauses at every rung; it is promoted as soon as it is in the top 1/eta of the
// points that reached that rung, and otherwise waits. New points start only when
// nothing can be promoted; when nothing is left to start and a worker would idle,
// it takes a paused point that is in the top 1/eta once the points still on their
// way to its rung are counted too ("idle" promotions). What is paused at the end
// is stopped.
#pragma once

#include "orchestrator/policy/early_stopping_policy.hpp"

namespace ablate {

class AshaPolicy : public EarlyStoppingPolicy {
 public:
  using EarlyStoppingPolicy::EarlyStoppingPolicy;
  std::optional<Assignment> next(bool others_busy, const PointFilter& fits) override;

 private:
  // The best point paused at `rung` that is in the top 1/eta of those that reached
  // it (`count_incoming`: and of those running or waiting to run up to it).
  // Only points `fits` lets in are returned (the top set is the same).
  std::optional<std::string> promotable_at(int rung, bool count_incoming, const PointFilter& fits) const;
};

}  // namespace ablate
