// Where a training runs: device choice, per-process threads, seeded generators.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace ablate {

// True when this build has Torch's CUDA path compiled in (ABLATE_CUDA), GPU or not.
bool cuda_compiled_in();
// True when a CUDA device is usable right now.
bool cuda_available();
int cuda_device_count();

// "auto" (a GPU when present, else the CPU), "cpu", or "cuda". With CUDA, the
// process takes GPU `gpu_index % device_count` (ranks spread round-robin).
// Throws std::invalid_argument for "cuda" on a machine without one.
torch::Device select_device(const std::string& request, int gpu_index = 0);

// Sets LibTorch's intra-op threads (and a single inter-op thread, set once):
// several ranks on one node must split its cores, not fight over them.
void set_torch_threads(int threads);

// A generator on `device` seeded with `seed`: shuffling and augmentation draw
// from it, so one seed fixes them and nothing else perturbs them.
torch::Generator make_generator(torch::Device device, uint64_t seed);

// Seeds Torch's global generators (initialisation, dropout) on every device.
void seed_everything(uint64_t seed);

// The global generators a training on `device` draws from (the CPU's, and the
// GPU's when it runs on one): a checkpoint saves and restores their states.
std::vector<torch::Generator> global_generators(torch::Device device);

// Human-readable name for the results file, e.g. "cpu" or "cuda:0 (NVIDIA H100)".
std::string describe_device(torch::Device device);

// While alive (until end()), with `forbid` on a CUDA device, anything that makes
// the host wait for the GPU (.item(), a copy to the host, a synchronize) throws:
// Torch's sync debug mode, as an error. Does nothing on the CPU, where there is
// no device to wait for.
class HostSyncCheck {
 public:
  HostSyncCheck(const torch::Device& device, bool forbid);
  ~HostSyncCheck() { end(); }
  HostSyncCheck(const HostSyncCheck&) = delete;
  HostSyncCheck& operator=(const HostSyncCheck&) = delete;
  void end();

 private:
  bool active_ = false;
  int previous_mode_ = 0;
};

}  // namespace ablate
