// Scheduler: rank 0's loop. A dynamic queue, most expensive points first; every
// worker report goes to the results ledger (the only writer); failures, stalls
// and stop requests end the sweep in a state that a rerun resumes.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "orchestrator/point_work.hpp"
#include "orchestrator/progress.hpp"
#include "orchestrator/results/results_file.hpp"
#include "orchestrator/worker_channel.hpp"
#include "sweeps/sweep.hpp"

namespace ablate {

// A point waiting for a worker.
struct QueuedPoint {
  WorkItem item;
  std::string label;  // "2x256 seed=0", "lr=0.1 hidden=[256] seed=1": what a person recognises
  int epochs = 0;
  double cost = 0;  // sweeps::estimate_point_cost
};

// "case key=value ... seed=N" for a point of a sweep, with the `keys` of
// Sweep::varied_keys worth showing (see label_keys).
std::string point_label(const sweeps::SweepPoint& point, const std::set<std::string>& keys);
// For each case name, the varied keys its labels show: in a grid (no case name)
// every varied key; in a case, only the keys that vary within it (the case name
// already says what sets it apart: "dropout lr=0.1 seed=0", not its 8 keys).
std::map<std::string, std::set<std::string>> label_keys(const sweeps::Sweep& sweep);

// The sweep's points that are pending in `results` (done and failed ones are
// skipped), most expensive first; equal costs keep the sweep's order.
std::vector<QueuedPoint> build_queue(const sweeps::Sweep& sweep, const ResultsFile& results);

struct SchedulerOptions {
  int max_consecutive_failures = 10;    // stop after this many failures in a row; 0 = never
  double stall_timeout_seconds = 1800;  // a busy worker silent this long stalls the sweep; 0 = never
};

enum class StopReason {
  none,                  // the queue ran dry
  signal,                // SIGINT/SIGTERM to rank 0 (or the in-process equivalent)
  worker_interrupted,    // a worker left its point unfinished (a signal to it)
  consecutive_failures,  // --max-consecutive-failures reached
  stalled,               // --stall-timeout: returned at once, workers still busy
};

struct ScheduleOutcome {
  StopReason stop = StopReason::none;
  std::string stop_message;                   // for people; "" when stop == none
  int done = 0, failed = 0, interrupted = 0;  // points of this run
};

class Scheduler {
 public:
  Scheduler(ResultsFile& results, std::vector<QueuedPoint> queue, SchedulerOptions options, ProgressReporter& progress);

  // Hands out the queue over `channel` until it is empty and every worker has
  // reported, or a stop. `stop_signal` (polled; 0 = none) is a signal number.
  // After a stall it returns without waiting for the workers (they may hang).
  ScheduleOutcome run(WorkerChannel& channel, const std::function<int()>& stop_signal);

 private:
  struct WorkerState {
    bool busy = false;
    bool stopped = false;  // told to stop (or retired): gets nothing more
    QueuedPoint point;
    int epochs_reported = 0;
    std::chrono::steady_clock::time_point last_report;
  };

  void assign_idle_workers(WorkerChannel& channel);
  void stop_all(WorkerChannel& channel, StopReason reason, const std::string& message);
  void handle(WorkerChannel& channel, const WorkerEvent& event);
  // The busy worker silent for longer than the stall timeout, or -1.
  int stalled_worker() const;

  ResultsFile& results_;
  std::vector<QueuedPoint> queue_;  // next point at next_
  size_t next_ = 0;
  SchedulerOptions options_;
  ProgressReporter& progress_;
  std::vector<WorkerState> workers_;
  std::vector<int> idle_;  // workers ready for a point
  int consecutive_failures_ = 0;
  ScheduleOutcome outcome_;
};

}  // namespace ablate
