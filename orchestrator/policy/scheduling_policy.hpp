// SchedulingPolicy: which point a free worker trains next, and for how long.
// The scheduler asks it for work whenever a worker is idle and for a verdict
// after every epoch; the policy decides from the results ledger alone and
// records every decision there (promote, stop), so a resumed sweep replays what
// was decided instead of deciding again. One small file per policy beside this.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "orchestrator/results/results_file.hpp"
#include "sweeps/sweep.hpp"

namespace ablate {

// A point handed to a worker: train it up to epoch `until` (0: to its last
// epoch), pausing there; with `verdict_each_epoch`, wait after every epoch
// for the policy's verdict instead.
struct Assignment {
  std::string id;
  int until = 0;
  bool verdict_each_epoch = false;
  // A point planned while the sweep runs (a search's suggestion), which the
  // scheduler has not queued: what it needs to queue it. Empty config_text: a
  // point the scheduler knows.
  std::string config_text;
  std::string label;
  int epochs = 0;
};

// A point of the sweep as the policies see it: its ID, its place in the
// default order (most expensive first) and its budget.
struct PolicyPoint {
  std::string id;
  int epochs = 0;
  std::string config_text;  // canonical; Hyperband draws the bracket from it
};

// Which points may join a pack being filled (--pack), by ID: those whose pack
// key equals the pack's. An empty filter lets every point in.
using PointFilter = std::function<bool(const std::string& id)>;

// True when `fits` lets point `id` in.
inline bool admits(const PointFilter& fits, const std::string& id) { return !fits || fits(id); }

class SchedulingPolicy {
 public:
  virtual ~SchedulingPolicy() = default;

  // The next point for an idle worker, or nothing for now. `others_busy`: some
  // other worker is training (more results will come). Promotions and stops it
  // decides on the way are recorded in the ledger before it returns. With a
  // filter (filling a pack after its first point), the point the policy would
  // choose first among those the filter lets in: its decisions are the same
  // as without one, only the choice of what to hand out is narrowed.
  virtual std::optional<Assignment> next(bool others_busy, const PointFilter& fits) = 0;

  // True when its choices do not wait for outcomes still to come (a fixed
  // order): the scheduler may then choose a worker's next pack while the worker
  // still trains its current one, and hand it over in advance.
  virtual bool chooses_ahead() const { return false; }

  // The verdict on a running point after it reported `row` (recorded in the
  // ledger already). Only asked for assignments with verdict_each_epoch.
  virtual EpochVerdict after_epoch(const std::string& id, const EpochMetrics& row) {
    (void)id, (void)row;
    return EpochVerdict::go_on;
  }

  // Points planned while the sweep runs (a search's trial, one per seed), after
  // those it has, in this order. Policies that need a fixed set of points refuse.
  virtual void add_points(std::vector<PolicyPoint> points) {
    (void)points;
    throw std::logic_error("this scheduling policy needs every point of the sweep up front");
  }

  // The scheduler recorded an outcome of point `id` (done, paused, stopped or failed).
  virtual void on_outcome(const std::string& id) { (void)id; }

  // The value a paused or stopped point is judged on at `row`'s epoch.
  virtual double judged_value(const EpochMetrics& row) const { return row.val_acc; }

  // The sweep ran to its end (no signal, no stall): what is still paused stops for good.
  virtual void finish() {}

  // One line for people ("early stopping: asha on val_acc, rungs at epochs 1, 3, 9"); "" for the default.
  virtual std::string describe() const { return ""; }
};

// The policy a sweep asks for: most expensive first with no [early_stopping],
// else its method; a [search] sweep's wraps it in a SearchPolicy (its points are
// suggested while it runs). `points` are every planned point of the sweep, most
// expensive first. A [search] sweep with successive halving or Hyperband is
// refused (std::invalid_argument): their synchronous rungs need every point up front.
std::unique_ptr<SchedulingPolicy> make_policy(const sweeps::Sweep& sweep, std::vector<PolicyPoint> points,
                                              ResultsFile& results);

}  // namespace ablate
