// WorkerChannel: how the scheduler reaches its workers, whatever they are:
// threads of this process (local mode, tests) or MPI ranks.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/point_work.hpp"
#include "core/metrics.hpp"

namespace ablate {

// Who a worker is, for the results file and for messages.
struct WorkerInfo {
  std::string name;  // "rank 3", "local"
  std::string host;
  std::string device;         // as PointWork::prepare() named it
  std::string software;       // training library version
  std::string device_detail;  // for people: "cpu, 2 threads"
  int threads = 0;            // LibTorch threads per rank (0: not known, fake work)
  int ranks = 1;              // ranks training one point together (--ranks-per-point)
};

// Something a worker reports about the point it was given.
struct WorkerEvent {
  // paused / stopped: early stopping ended the run before its last epoch (at
  // its `until`, or by a verdict), with the result of the epochs it trained.
  enum class Kind { epoch, done, paused, stopped, failed, interrupted };
  Kind kind = Kind::epoch;
  int worker = 0;
  std::string point_id;
  EpochMetrics epoch;  // Kind::epoch
  TrainResult result;  // Kind::done, paused, stopped
  std::string error;   // Kind::failed
};

class WorkerChannel {
 public:
  virtual ~WorkerChannel() = default;

  virtual int worker_count() const = 0;
  virtual const WorkerInfo& worker(int index) const = 0;

  // Gives an idle worker a pack: one point, or several with equal pack keys
  // (--pack). It answers, per point, with epochs, then exactly one of done /
  // paused / stopped / failed / interrupted; when every point has had its last
  // event, the worker is idle again.
  virtual void assign(int worker, const std::vector<WorkItem>& pack) = 0;
  // Answers the epoch a worker reported on point `id`, a verdict_each_epoch item; it waits for this.
  virtual void verdict(int worker, const std::string& id, EpochVerdict verdict) = 0;
  // Tells a worker to finish: a busy one interrupts its pack at the next epoch
  // (and still sends the last event of each point not ended); an idle one just leaves. Sent once per worker.
  virtual void stop(int worker) = 0;
  // The next event, or nothing after `timeout`.
  virtual std::optional<WorkerEvent> next_event(std::chrono::milliseconds timeout) = 0;
};

}  // namespace ablate
