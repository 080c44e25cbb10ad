// PointWork: "something that trains a sweep point". The scheduler hands points
// to it: the real trainer in `ablate`, a fake in tests and benchmarks.
#pragma once

#include <exception>
#include <string>

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

  // The training library's version for the results file ("2.3.1"; "" if none).
  virtual std::string software_version() const = 0;

  // Called once per worker before any point, under MPI: the ranks that train
  // each point together (--ranks-per-point; group rank 0 leads). A group of one
  // means this rank trains alone. Work that cannot train data-parallel ignores it.
  virtual void join_group(Communicator& group) { (void)group; }
};

}  // namespace ablate
