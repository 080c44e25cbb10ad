// The torch-free facade of the trainer (trainer.hpp), implemented over LibTorch.
#include "trainer/trainer.hpp"

#include <torch/torch.h>

#include <fmt/format.h>
#include <link.h>

#include <filesystem>
#include <memory>
#include <string_view>

#include "trainer/device.hpp"
#include "trainer/mpi_reducer.hpp"
#include "trainer/nccl_reducer.hpp"
#include "trainer/packed/train_packed.hpp"
#include "trainer/train.hpp"

namespace ablate {

namespace {

// The path of the loaded LibTorch (libtorch_cpu.so), which the run-time path of an
// installed ablate points at: the one answer to "which torch is this using?".
std::string loaded_torch_library() {
  std::string found;
  dl_iterate_phdr(
      [](dl_phdr_info* object, size_t, void* out) {
        const std::string_view name = object->dlpi_name ? object->dlpi_name : "";
        const auto slash = name.rfind('/');
        if (name.substr(slash == std::string_view::npos ? 0 : slash + 1).rfind("libtorch_cpu.", 0) != 0) return 0;
        *static_cast<std::string*>(out) = std::string(name);
        return 1;
      },
      &found);
  std::error_code error;
  const auto canonical = std::filesystem::canonical(found, error);
  return error ? found : canonical.string();
}

}  // namespace

TrainerInfo trainer_info() {
  TrainerInfo info;
  info.torch_version = TORCH_VERSION;
  info.torch_library = loaded_torch_library();
  info.cuda_compiled_in = cuda_compiled_in();
  info.cuda_available = cuda_available();
  info.cuda_devices = cuda_device_count();
  info.threads = torch::get_num_threads();
#ifdef ABLATE_NCCL
  // NCCL_VERSION_CODE scheme: major * 10000 + minor * 100 + patch (2.19 and later).
  const int nccl = NcclReducer::runtime_version();
  info.nccl_version = fmt::format("{}.{}.{}", nccl / 10000, nccl / 100 % 100, nccl % 100);
#endif
  return info;
}

std::string prepare_device(const DeviceRequest& request) {
  set_torch_threads(request.threads);
  return select_device(request.kind, request.gpu_index).str();
}

namespace {

// GPUs all-reduce with NCCL, CPUs with MPI (Open MPI is not assumed CUDA-aware).
std::unique_ptr<GradientReducer> make_group_reducer(MPI_Comm group, torch::Device device) {
  if (!device.is_cuda()) return std::make_unique<MpiReducer>(group);
#ifdef ABLATE_NCCL
  return std::make_unique<NcclReducer>(group, device);
#else
  throw std::invalid_argument(
      "--ranks-per-point > 1 on GPUs needs NCCL, and this ablate was built without it: install NCCL (the "
      "torch wheel's nvidia-nccl, or the CUDA toolkit's) and rebuild, or train on CPUs with --device cpu");
#endif
}

}  // namespace

TrainResult train_config(const TrainConfig& config, const FashionMnist& data, const DeviceRequest& request,
                         const EpochCallback& on_epoch, const CheckpointRequest& checkpoint, MPI_Comm group) {
  set_torch_threads(request.threads);
  TrainContext context;
  context.device = select_device(request.kind, request.gpu_index);
  std::unique_ptr<GradientReducer> group_reducer;
  if (group != MPI_COMM_NULL) {
    group_reducer = make_group_reducer(group, context.device);
    context.reducer = group_reducer.get();
  }
  context.checkpoint_path = checkpoint.path;
  context.on_warning = checkpoint.on_warning;
  return train(config, data, context, on_epoch);
}

void train_pack(const std::vector<PackMember>& members, const FashionMnist& data, const DeviceRequest& request,
                const PackMemberEnd& on_end) {
  if (members.size() > 1) {
    set_torch_threads(request.threads);
    train_packed(members, data, select_device(request.kind, request.gpu_index), on_end);
    return;
  }
  for (size_t i = 0; i < members.size(); ++i) {  // a pack of one is a lone point
    PackMemberOutcome outcome;
    try {
      outcome.result = train_config(members[i].config, data, request, members[i].on_epoch, members[i].checkpoint);
    } catch (const std::runtime_error& e) {  // DivergedError, DataError, ConfigError: this member fails
      outcome.failed = true;
      outcome.error = e.what();
    }
    on_end(i, std::move(outcome));
  }
}

}  // namespace ablate
