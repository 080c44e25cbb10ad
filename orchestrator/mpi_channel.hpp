// MpiChannel: the scheduler's side of the worker ranks (rank 0 talking to group
// leaders over a Communicator); serve_points: the worker's side.
#pragma once

#include <functional>
#include <vector>

#include "orchestrator/communicator.hpp"
#include "orchestrator/worker_channel.hpp"

namespace ablate {

class MpiChannel : public WorkerChannel {
 public:
  // worker_ranks[i] is the rank of worker i (a group leader); infos[i] what its hello said.
  MpiChannel(Communicator& comm, std::vector<int> worker_ranks, std::vector<WorkerInfo> infos);

  int worker_count() const override { return static_cast<int>(ranks_.size()); }
  const WorkerInfo& worker(int index) const override { return infos_.at(index); }
  void assign(int worker, const std::vector<WorkItem>& pack) override;
  void stop(int worker) override;
  void verdict(int worker, const std::string& id, EpochVerdict verdict) override;
  std::optional<WorkerEvent> next_event(std::chrono::milliseconds timeout) override;

 private:
  Communicator& comm_;
  std::vector<int> ranks_;
  std::vector<WorkerInfo> infos_;
  std::vector<int> worker_of_rank_;  // -1 for ranks that are not workers
};

// A worker rank's loop: trains the packs rank 0 assigns, streams each epoch,
// reports each point's outcome as it ends, until rank 0 says stop. A pack that
// comes while it trains is held and trained next (rank 0 hands short points
// ahead); told to stop, it reports a held pack's points interrupted. Between
// epochs it looks for a stop from rank 0 and checks `stop_requested` (a signal
// to this process); either interrupts the pack. With a `group` of more than one rank (--ranks-per-point),
// this rank is the group's leader: it hands every point to its followers, tells
// them after each epoch whether to go on, and tells them to quit at the end.
// Throws MpiError / MessageError (the job must then end).
void serve_points(Communicator& comm, PointWork& work, const std::function<bool()>& stop_requested,
                  Communicator* group = nullptr);

// A follower's loop in a data-parallel group: trains each point its leader
// (group rank 0) hands over, together with it, until the leader says quit.
// Outcomes are the leader's to report; a point that fails, fails on every rank
// of the group alike (the loss and metrics are reduced over the group).
void follow_leader(Communicator& group, PointWork& work);

}  // namespace ablate
