// The production PointWork: canonical config text -> TrainConfig -> train_config.
#include "orchestrator/trainer_work.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "orchestrator/checkpoint_files.hpp"
#include "orchestrator/mpi_communicator.hpp"

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
  // Every rank of a data-parallel group gets the point's path: the trainer
  // appends ".rank<r>" and the ranks agree on the epoch to resume from.
  return train_config(config, *data_, request_, on_epoch, checkpoint_request(item.id), group_);
}

void TrainerWork::train_pack(const std::vector<WorkItem>& items, const ItemEpochCallback& on_epoch,
                             const ItemEndCallback& on_end) {
  if (items.size() == 1) {  // a lone point: train() (data-parallel groups included)
    PointWork::train_pack(items, on_epoch, on_end);
    return;
  }
  if (!data_) data_ = std::make_unique<FashionMnist>(load_fashion_mnist(data_dir_));
  std::vector<PackMember> members;
  std::vector<size_t> item_of;  // member -> item
  for (size_t i = 0; i < items.size(); ++i) {
    try {
      members.push_back({config_from_json(nlohmann::json::parse(items[i].config_text)),
                         [&on_epoch, i](const EpochMetrics& row) { return on_epoch(i, row); },
                         checkpoint_request(items[i].id)});
      item_of.push_back(i);
    } catch (const std::exception& e) {  // a config the trainer refuses fails that point alone
      on_end(i, ItemOutcome{true, e.what(), {}});
    }
  }
  if (members.empty()) return;
  ablate::train_pack(members, *data_, request_, [&](size_t member, PackMemberOutcome outcome) {
    on_end(item_of.at(member), ItemOutcome{outcome.failed, std::move(outcome.error), std::move(outcome.result)});
  });
}

CheckpointRequest TrainerWork::checkpoint_request(const std::string& id) {
  return CheckpointRequest{checkpoint_for(id), [id](const std::string& why) {
                             std::cerr << fmt::format("ablate: point {}: {}; it starts from epoch 1\n", id, why);
                           }};
}

void TrainerWork::join_group(Communicator& group) {
  const auto* mpi = dynamic_cast<const MpiCommunicator*>(&group);
  group_ = mpi && mpi->size() > 1 ? mpi->handle() : MPI_COMM_NULL;
}

std::string TrainerWork::checkpoint_for(const std::string& id) {
  if (results_path_.empty() || checkpoints_unavailable_) return "";
  // mkdir(2), not std::filesystem: see checkpoint_files.cpp. The results file's
  // directory exists already (rank 0 checked it), so one level is enough.
  const std::string directory = checkpoint_directory(results_path_);
  if (::mkdir(directory.c_str(), 0755) != 0 && errno != EEXIST) {
    checkpoints_unavailable_ = true;
    std::cerr << fmt::format("ablate: warning: cannot create the checkpoint directory {} ({}): points train without "
                             "checkpoints, so an interrupted point restarts from epoch 1\n",
                             directory, std::strerror(errno));
    return "";
  }
  return point_checkpoint_path(results_path_, id);
}

std::string TrainerWork::software_version() const { return trainer_info().torch_version; }

}  // namespace ablate
