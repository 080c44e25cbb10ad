// PointWork: "something that trains a sweep point". The scheduler hands points
// to it: the real trainer in `ablate`, a fake in tests and benchmarks.
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "orchestrator/communicator.hpp"
#include "core/metrics.hpp"

namespace ablate {

// One point as it travels to a worker: its ID and its canonical config text.
struct WorkItem {
  std::string id;
  std::string config_text;
  // Early stopping: pause after epoch `until` (0: train to the last epoch), or,
  // with `verdict_each_epoch`, ask rank 0 for a verdict after every epoch.
  int until = 0;
  bool verdict_each_epoch = false;
};

// Where a worker trains (see device_placement.hpp).
struct WorkPlacement {
  std::string device = "auto";  // auto | cpu | cuda (--device)
  int gpu_index = 0;            // the GPU of the node this worker takes (modulo the GPU count)
  int threads = 1;              // LibTorch intra-op threads
};

// Thrown from an EpochCallback when the sweep is stopping (a signal, or rank 0
// said so); train() lets it through. The point is left unfinished, not failed.
// Not a std::runtime_error, so that code catching training failures lets it pass.
class Interrupted : public std::exception {
 public:
  const char* what() const noexcept override { return "interrupted: the sweep is stopping"; }
};

// How one item of a pack ended: its result, or why it failed (`error`).
struct ItemOutcome {
  bool failed = false;
  std::string error;
  TrainResult result;
};

// A pack's callbacks: after each epoch of item `item` (its verdict, as a lone
// point's EpochCallback gives), and once when the item's run has ended.
using ItemEpochCallback = std::function<EpochVerdict(size_t item, const EpochMetrics& row)>;
using ItemEndCallback = std::function<void(size_t item, ItemOutcome outcome)>;

class PointWork {
 public:
  virtual ~PointWork() = default;

  // Called once per process before any point: checks the data and the device
  // and returns the device's name for the results file ("cpu", "cuda:0").
  // Throws (DataError, std::invalid_argument) with a message a person can act on.
  virtual std::string prepare(const WorkPlacement& placement) = 0;

  // Trains one point, calling on_epoch after every epoch. Any exception but
  // Interrupted means the point failed (its what() is recorded).
  virtual TrainResult train(const WorkItem& item, const EpochCallback& on_epoch) = 0;

  // Trains a pack: points whose configs have the same pack key (core/config.hpp),
  // each reported as a lone point is: on_epoch after each of its epochs, on_end
  // once when its run ends (done, paused or stopped by its verdict, or failed),
  // while the others may go on. An exception thrown by a callback (Interrupted:
  // the sweep is stopping) ends the whole pack: the items not ended yet stay
  // unfinished. This default trains the items one after another with train();
  // a work that can fuse them (TrainerWork) overrides it.
  virtual void train_pack(const std::vector<WorkItem>& items, const ItemEpochCallback& on_epoch,
                          const ItemEndCallback& on_end);

  // The training library's version for the results file ("2.3.1"; "" if none).
  virtual std::string software_version() const = 0;

  // Called once per worker before any point, under MPI: the ranks that train
  // each point together (--ranks-per-point; group rank 0 leads). A group of one
  // means this rank trains alone. Work that cannot train data-parallel ignores it.
  virtual void join_group(Communicator& group) { (void)group; }
};

}  // namespace ablate
