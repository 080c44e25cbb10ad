// TrainerWork: the PointWork of `ablate run`, over the LibTorch trainer. It
// loads Fashion-MNIST once per process, when the first point arrives.
#pragma once

#include <memory>
#include <string>

#include "orchestrator/point_work.hpp"
#include "trainer/trainer.hpp"

namespace ablate {

class TrainerWork : public PointWork {
 public:
  explicit TrainerWork(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  // Finds the data (DataError) and the device (std::invalid_argument) without loading anything big.
  std::string prepare(const WorkPlacement& placement) override;
  TrainResult train(const WorkItem& item, const EpochCallback& on_epoch) override;
  std::string software_version() const override;

 private:
  std::string data_dir_;
  DeviceRequest request_;
  std::unique_ptr<FashionMnist> data_;  // loaded by the first train()
};

}  // namespace ablate
