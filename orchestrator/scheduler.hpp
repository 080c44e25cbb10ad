// Scheduler: rank 0's loop. A scheduling policy says which point a free worker
// trains next and for how long (most expensive first, or early stopping's
// rungs); with --pack, the worker gets a pack: that point and the next ones the
// policy would hand out whose pack keys equal its own. Every worker report goes
// to the results ledger (the only writer), point by point; failures, stalls and
// stop requests end the sweep in a state a rerun resumes.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "orchestrator/point_work.hpp"
#include "orchestrator/policy/scheduling_policy.hpp"
#include "orchestrator/progress.hpp"
#include "orchestrator/results/results_file.hpp"
#include "orchestrator/worker_channel.hpp"
#include "sweeps/sweep.hpp"

namespace ablate {

// A point that may be handed to a worker.
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

// The sweep's points that may still train in `results` (pending, or paused by
// early stopping), most expensive first; equal costs keep the sweep's order.
std::vector<QueuedPoint> build_queue(const sweeps::Sweep& sweep, const ResultsFile& results);
// Every point of the sweep for the scheduling policy, most expensive first.
std::vector<PolicyPoint> policy_points(const sweeps::Sweep& sweep);

struct SchedulerOptions {
  int max_consecutive_failures = 10;    // stop after this many failures in a row; 0 = never
  double stall_timeout_seconds = 1800;  // a busy worker silent this long stalls the sweep; 0 = never
  // Packs (--pack): how many points the pack led by a point with this canonical
  // config may hold; empty (or 1): one point per assignment. Its largest value
  // is `max_pack`, which sizes the progress reporter's slots.
  std::function<int(const std::string& config_text)> pack_size;
  int max_pack = 1;
  // A worker whose last pack took less than this is handed its next pack while
  // it still trains the current one (0: never), when the policy chooses ahead
  // (SchedulingPolicy::chooses_ahead): its next packs, while their time, judged by
  // the last pack's, stays under this (at most 4). For points of milliseconds the
  // round trip to rank 0 is most of a point's time; a long point is never held in
  // advance, or at a sweep's tail it could wait behind another while a worker idles.
  double hand_ahead_below_seconds = 0.05;
};

enum class StopReason {
  none,                  // the sweep ran to its end
  signal,                // SIGINT/SIGTERM to rank 0 (or the in-process equivalent)
  worker_interrupted,    // a worker left its point unfinished (a signal to it)
  consecutive_failures,  // --max-consecutive-failures reached
  stalled,               // --stall-timeout: returned at once, workers still busy
};

struct ScheduleOutcome {
  StopReason stop = StopReason::none;
  std::string stop_message;                   // for people; "" when stop == none
  int done = 0, failed = 0, interrupted = 0;  // points of this run
  int paused = 0, stopped = 0;                // early stopping's pauses and stops in this run
  int packs = 0;                              // assignments made (a lone point is a pack of one)
  int handed_ahead = 0;                       // of them, handed to a worker still training its previous pack
  int largest_pack = 0;                       // points in the largest of them
};

class Scheduler {
 public:
  // `queue`: every point the policy may hand out. Without a `policy`, the queue
  // is the order (every point to its last epoch).
  Scheduler(ResultsFile& results, std::vector<QueuedPoint> queue, SchedulerOptions options, ProgressReporter& progress,
            std::unique_ptr<SchedulingPolicy> policy = nullptr);

  // Hands out points over `channel` until the policy has none left and every
  // worker has reported, or a stop. `stop_signal` (polled; 0 = none) is a signal
  // number. After a stall it returns without waiting for the workers (they may hang).
  ScheduleOutcome run(WorkerChannel& channel, const std::function<int()>& stop_signal);

 private:
  struct Member {  // a point of the pack a worker trains
    const QueuedPoint* point = nullptr;
    WorkItem item;  // the point and how far it may train
    int epochs_reported = 0;
    bool ended = false;  // its last event came
  };
  struct WorkerState {
    bool busy = false;     // some member of its pack (or of the next) has not ended
    bool stopped = false;  // told to stop (or retired): gets nothing more
    std::vector<Member> members;  // the pack it trains
    // Packs it was handed in advance, trained in turn after `members`; empty: none.
    std::deque<std::vector<Member>> next;
    std::chrono::steady_clock::time_point last_report;
    std::chrono::steady_clock::time_point pack_started;
    bool pack_clean = true;         // no member of its pack has failed or been interrupted
    // How long its last pack took; -1 before its first, or when a member failed or
    // was interrupted (a worker failing in a streak is handed nothing ahead).
    double last_pack_seconds = -1;
  };

  void assign_idle_workers(WorkerChannel& channel);
  // Hands the next pack to busy workers with short packs (SchedulerOptions::hand_ahead_below_seconds).
  void hand_ahead(WorkerChannel& channel);
  // The policy's next pack for worker `index`, each member started in the
  // ledger (and so no longer pending) before the next is chosen; empty: none for now.
  std::vector<Member> choose_pack(WorkerChannel& channel, int index, bool others_busy);
  // The ledger's start of the policy's `assignment`, given to worker `index`.
  Member start_member(WorkerChannel& channel, int index, const Assignment& assignment);
  // Worker `index` begins training `members`: the progress lines and the stall watch start.
  void begin_pack(WorkerChannel& channel, int index);
  // The pack key of a queued or planned point (cached).
  const std::string& pack_key_of(const std::string& id);
  // The progress reporter's slot of a worker's member.
  int slot(int worker, size_t member) const { return worker * options_.max_pack + static_cast<int>(member); }
  // The queued point an assignment names; a point planned while the sweep runs
  // is queued from the assignment's config_text, label and epochs.
  std::unordered_map<std::string, QueuedPoint>::iterator queued_point(const Assignment& assignment);
  void stop_idle_workers(WorkerChannel& channel);
  void stop_all(WorkerChannel& channel, StopReason reason, const std::string& message);
  void handle(WorkerChannel& channel, const WorkerEvent& event);
  // Records a point that early stopping ended at a rung (paused or stopped).
  void record_early_end(const WorkerEvent& event, int progress_slot);
  bool any_busy() const;
  // The busy worker silent for longer than the stall timeout, or -1.
  int stalled_worker() const;

  ResultsFile& results_;
  std::unordered_map<std::string, QueuedPoint> points_;  // by ID
  SchedulerOptions options_;
  ProgressReporter& progress_;
  std::unique_ptr<SchedulingPolicy> policy_;
  std::vector<WorkerState> workers_;
  std::vector<int> idle_;  // workers ready for a point
  std::vector<int> ahead_;  // busy workers that may be handed their next pack (stale entries are skipped)
  // How many packs worker `index` may hold in advance: as many of its last pack's
  // length as fit in hand_ahead_below_seconds, at least 1 and at most
  // kMaxPacksAhead. One is not enough for points of a millisecond: on a node with
  // more ranks than cores a worker trains its held pack before rank 0 is even
  // scheduled to answer, then waits (10,000 zero-work points on 4 ranks here:
  // 6,400-7,500 points/s with 1, 9,400-12,000 with 4). The work a worker holds
  // stays under hand_ahead_below_seconds, so a sweep's tail never waits long.
  size_t packs_ahead(int index) const;
  static constexpr size_t kMaxPacksAhead = 4;
  std::unordered_map<std::string, std::string> pack_keys_;  // by point ID
  int consecutive_failures_ = 0;
  ScheduleOutcome outcome_;
};

}  // namespace ablate
