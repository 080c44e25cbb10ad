// The torch-free facade of the trainer (trainer.hpp), implemented over LibTorch.
#include "trainer/trainer.hpp"

#include <torch/torch.h>

#include <optional>

#include "trainer/device.hpp"
#include "trainer/mpi_reducer.hpp"
#include "trainer/train.hpp"

namespace ablate {

TrainerInfo trainer_info() {
  TrainerInfo info;
  info.torch_version = TORCH_VERSION;
  info.cuda_compiled_in = cuda_compiled_in();
  info.cuda_available = cuda_available();
  info.cuda_devices = cuda_device_count();
  info.threads = torch::get_num_threads();
  return info;
}

std::string prepare_device(const DeviceRequest& request) {
  set_torch_threads(request.threads);
  return select_device(request.kind, request.gpu_index).str();
}

TrainResult train_config(const TrainConfig& config, const FashionMnist& data, const DeviceRequest& request,
                         const EpochCallback& on_epoch, const CheckpointRequest& checkpoint, MPI_Comm group) {
  set_torch_threads(request.threads);
  std::optional<MpiReducer> group_reducer;
  TrainContext context;
  if (group != MPI_COMM_NULL) {
    group_reducer.emplace(group);
    context.reducer = &*group_reducer;
  }
  context.device = select_device(request.kind, request.gpu_index);
  context.checkpoint_path = checkpoint.path;
  context.on_warning = checkpoint.on_warning;
  return train(config, data, context, on_epoch);
}

}  // namespace ablate
