// The production PointWork: canonical config text -> TrainConfig -> train_config.
#include "orchestrator/trainer_work.hpp"

#include <nlohmann/json.hpp>

namespace ablate {

std::string TrainerWork::prepare(const WorkPlacement& placement) {
  locate_fashion_mnist(data_dir_);  // throws DataError now rather than at the first point
  request_.kind = placement.device;
  request_.gpu_index = placement.gpu_index;
  request_.threads = placement.threads;
  return prepare_device(request_);
}

TrainResult TrainerWork::train(const WorkItem& item, const EpochCallback& on_epoch) {
  if (!data_) data_ = std::make_unique<FashionMnist>(load_fashion_mnist(data_dir_));
  const TrainConfig config = config_from_json(nlohmann::json::parse(item.config_text));
  return train_config(config, *data_, request_, on_epoch);
}

std::string TrainerWork::software_version() const { return trainer_info().torch_version; }

}  // namespace ablate
