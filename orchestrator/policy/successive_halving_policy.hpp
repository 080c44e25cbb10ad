// Successive halving (synchronous): every point of a bracket trains to the
// bracket's first rung; when the whole rung is in, its top 1/eta (at least one)
// goes on to the next rung and the rest stop. Each rung waits until it is full,
// so the outcome is a pure function of the sweep and its seeds, not of timing.
// Hyperband runs several such brackets side by side, each starting at another
// rung; a point's bracket is drawn from its configuration (not the seed), so
// every run and every process puts it in the same one.
#pragma once

#include "orchestrator/policy/early_stopping_policy.hpp"

namespace ablate {

class SuccessiveHalvingPolicy : public EarlyStoppingPolicy {
 public:
  // `hyperband`: several brackets; otherwise one bracket from the first rung.
  SuccessiveHalvingPolicy(const sweeps::EarlyStopping& settings, std::vector<PolicyPoint> points,
                          ResultsFile& results, bool hyperband);
  std::optional<Assignment> next(bool others_busy, const PointFilter& fits) override;
  // Synchronous rungs (and Hyperband's brackets) are cut from a fixed set of points.
  void add_points(std::vector<PolicyPoint> points) override { SchedulingPolicy::add_points(std::move(points)); }

  struct Bracket {
    size_t first_rung = 0;         // index into rungs()
    std::vector<std::string> ids;  // its points, in sweep order
  };
  const std::vector<Bracket>& brackets() const { return brackets_; }

 private:
  std::optional<Assignment> next_in(const Bracket& bracket, const PointFilter& fits);
  std::vector<Bracket> brackets_;  // most aggressive (first rung lowest) first
};

// Hyperband's bracket for a configuration: bracket s (0 = no early stopping,
// s_max = starts at the first rung) with weight ceil((s_max+1)/(s+1) * eta^s),
// drawn by a hash of the canonical config without its seed. Returns s.
int hyperband_bracket(const std::string& config_text, int s_max, int eta);

}  // namespace ablate
