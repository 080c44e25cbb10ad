// SearchPolicy: a [search] sweep's points, suggested while the sweep runs. It
// wraps the sweep's own policy (full budget, ASHA or the median rule), which
// hands out the points planned so far; when that has nothing for a free worker,
// the search suggests the next trial: the suggestion is journaled first, then its
// points (one per seed) are planned into the ledger and handed to the inner
// policy. A trial is observed as soon as every seed has a result at once: done,
// stopped, or paused at a rung (with early stopping the model learns from what
// the seeds reached by then, usually their first rung, and the observation
// stands when a seed is promoted later: TPE + ASHA, BOHB's recipe); a failed seed
// fails the trial. Its objective is the mean best validation accuracy over its
// seeds. A trial still unobserved when the sweep ends is observed by finish().
// Observations are journaled too, in the order they are made, so a resumed sweep
// replays the search exactly (sweeps/search/search.hpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "orchestrator/policy/scheduling_policy.hpp"
#include "sweeps/search/search.hpp"

namespace ablate {

class SearchPolicy : public SchedulingPolicy {
 public:
  // Replays the ledger's search records; plans a suggested trial whose points are
  // missing (killed between the two writes) and observes, in trial order, every
  // trial that finished without an observation. Throws sweeps::SearchError when
  // the journal's records do not fit this sweep's search.
  SearchPolicy(const sweeps::Sweep& sweep, std::unique_ptr<SchedulingPolicy> inner, ResultsFile& results);

  std::optional<Assignment> next(bool others_busy, const PointFilter& fits) override;
  void on_outcome(const std::string& id) override;
  EpochVerdict after_epoch(const std::string& id, const EpochMetrics& row) override {
    return inner_->after_epoch(id, row);
  }
  double judged_value(const EpochMetrics& row) const override { return inner_->judged_value(row); }
  void finish() override;  // the inner policy's end, then what it finished is observed
  std::string describe() const override;

  const sweeps::Search& search() const { return *search_; }

 private:
  // What the scheduler needs to queue a point planned here.
  struct TrialPoint {
    std::string config_text, label;
    int epochs = 0;
  };

  // Plans a suggestion's points (those the ledger lacks) and hands them to the inner policy.
  void plan_trial(const sweeps::Suggestion& suggestion);
  // Observes `trial` (and journals it) when every seed has a result and it has no observation yet.
  void observe_if_settled(int trial);
  // Fills in what the scheduler needs for a point it may not have queued.
  Assignment with_point(Assignment assignment) const;

  std::unique_ptr<sweeps::Search> search_;
  std::unique_ptr<SchedulingPolicy> inner_;
  ResultsFile& results_;
  int seeds_ = 0;
  std::vector<std::vector<std::string>> trial_ids_;  // index = trial: its points, one per seed
  std::vector<bool> observed_;                       // index = trial
  std::unordered_map<std::string, int> trial_of_;    // point ID -> trial
  std::unordered_map<std::string, TrialPoint> points_;
};

}  // namespace ablate
