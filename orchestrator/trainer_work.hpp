// TrainerWork: the PointWork of `ablate run`, over the LibTorch trainer. It
// loads Fashion-MNIST once per process, when the first point arrives, and gives
// every point a checkpoint file beside the results file (checkpoint_files.hpp).
#pragma once

#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "orchestrator/point_work.hpp"
#include "trainer/trainer.hpp"

namespace ablate {

class TrainerWork : public PointWork {
 public:
  // `results_path` places the checkpoints; empty: no checkpoints.
  TrainerWork(std::string data_dir, std::string results_path)
      : data_dir_(std::move(data_dir)), results_path_(std::move(results_path)) {}

  // Finds the data (DataError) and the device (std::invalid_argument) without loading anything big.
  std::string prepare(const WorkPlacement& placement) override;
  TrainResult train(const WorkItem& item, const EpochCallback& on_epoch) override;
  // A pack of more than one point: the trainer's packed model (train_pack), each
  // member with its own checkpoint, as train() gives a lone point.
  void train_pack(const std::vector<WorkItem>& items, const ItemEpochCallback& on_epoch,
                  const ItemEndCallback& on_end) override;
  std::string software_version() const override;
  // Remembers the group's MPI communicator when it has more than one rank.
  void join_group(Communicator& group) override;

 private:
  std::string checkpoint_for(const std::string& id);
  CheckpointRequest checkpoint_request(const std::string& id);

  std::string data_dir_;
  std::string results_path_;
  bool checkpoints_unavailable_ = false;  // the directory could not be made: said once, then none
  MPI_Comm group_ = MPI_COMM_NULL;        // data-parallel group of more than one rank, else null
  DeviceRequest request_;
  std::unique_ptr<FashionMnist> data_;  // loaded by the first train()
};

}  // namespace ablate
