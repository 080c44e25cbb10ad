// Device choice, threads and generators; the only CUDA-specific calls of the trainer.
#include "trainer/device.hpp"

#include <ATen/Parallel.h>
#include <fmt/format.h>

#include <mutex>
#include <stdexcept>

#ifdef ABLATE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace ablate {

bool cuda_compiled_in() {
#ifdef ABLATE_CUDA
  return true;
#else
  return false;
#endif
}

bool cuda_available() { return torch::cuda::is_available(); }

int cuda_device_count() { return cuda_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

torch::Device select_device(const std::string& request, int gpu_index) {
  if (request == "cpu") return torch::kCPU;
  if (request != "auto" && request != "cuda")
    throw std::invalid_argument(fmt::format("unknown device '{}': use auto, cpu or cuda", request));
  const int count = cuda_device_count();
  if (count == 0) {
    if (request == "auto") return torch::kCPU;
    throw std::invalid_argument(cuda_compiled_in()
                                    ? "--device cuda: no usable CUDA device here (check nvidia-smi and "
                                      "CUDA_VISIBLE_DEVICES), or use --device cpu"
                                    : "--device cuda: this ablate was built against a CPU-only LibTorch; "
                                      "rebuild with a CUDA torch, or use --device cpu");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(gpu_index % count));
}

void set_torch_threads(int threads) {
  static std::once_flag interop_once;
  // Inter-op threads can be set only once per process, before any parallel work.
  std::call_once(interop_once, [] {
    try {
      at::set_num_interop_threads(1);
    } catch (const c10::Error&) {
    }
  });
  if (threads > 0) torch::set_num_threads(threads);
}

torch::Generator make_generator(torch::Device device, uint64_t seed) {
#ifdef ABLATE_CUDA
  if (device.is_cuda()) {
    auto generator = at::cuda::detail::createCUDAGenerator(device.index());
    generator.set_current_seed(seed);
    return generator;
  }
#endif
  (void)device;
  return at::detail::createCPUGenerator(seed);
}

void seed_everything(uint64_t seed) { torch::manual_seed(seed); }

std::vector<torch::Generator> global_generators(torch::Device device) {
  std::vector<torch::Generator> generators{at::detail::getDefaultCPUGenerator()};
#ifdef ABLATE_CUDA
  if (device.is_cuda()) generators.push_back(at::cuda::detail::getDefaultCUDAGenerator(device.index()));
#endif
  (void)device;
  return generators;
}

std::string describe_device(torch::Device device) {
#ifdef ABLATE_CUDA
  if (device.is_cuda()) {
    const auto* props = at::cuda::getDeviceProperties(device.index());
    return fmt::format("cuda:{} ({})", device.index(), props->name);
  }
#endif
  return device.str();
}

HostSyncCheck::HostSyncCheck(const torch::Device& device, bool forbid) {
#ifdef ABLATE_CUDA
  if (!forbid || !device.is_cuda()) return;
  auto& state = c10::cuda::warning_state();
  previous_mode_ = static_cast<int>(state.get_sync_debug_mode());
  state.set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
  active_ = true;
#else
  (void)device, (void)forbid;
#endif
}

void HostSyncCheck::end() {
#ifdef ABLATE_CUDA
  if (active_) c10::cuda::warning_state().set_sync_debug_mode(static_cast<c10::cuda::SyncDebugMode>(previous_mode_));
#endif
  active_ = false;
}

}  // namespace ablate
