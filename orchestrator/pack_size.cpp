// --pack auto's rule; see pack_size.hpp.
#include "orchestrator/pack_size.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sweeps/sweep.hpp"

namespace ablate {
namespace {

constexpr double kCudaPackBytes = 4.0 * (1ull << 30);
constexpr double kBytesPerParameter = 16;  // fp32 weight, gradient, two Adam moments
constexpr double kBytesPerActivation = 8;  // fp32 value kept for the backward pass, and its gradient

bool on_cuda(const std::string& device) { return device.rfind("cuda", 0) == 0; }

}  // namespace

int auto_pack_size(const nlohmann::json& config, const std::string& device) {
  const sweeps::ModelSize size = sweeps::estimate_model_size(config);
  if (size.forward_macs <= 0) return 1;
  if (on_cuda(device)) {
    const double batch = config.value("batch_size", 128);
    const double member_bytes =
        kBytesPerParameter * size.parameters + kBytesPerActivation * size.activations * batch;
    return static_cast<int>(std::clamp(std::floor(kCudaPackBytes / member_bytes), 1.0, double(kMaxAutoPack)));
  }
  // A grouped convolution of K members trains slower on the CPU than K lone
  // ones (the seed study's CNN at K = 2 and 4: 0.6x, docs/benchmarks.md).
  if (size.convolution_macs > 0) return 1;
  if (size.forward_macs <= 100e3) return 8;
  if (size.forward_macs <= 1e6) return 4;
  return 1;
}

int pack_size_for(int pack, const nlohmann::json& config, const std::string& device) {
  return pack == kPackAuto ? auto_pack_size(config, device) : pack;
}

std::string pack_option_text(int pack, const std::string& device) {
  return pack == kPackAuto ? fmt::format("auto ({})", device) : std::to_string(pack);
}

}  // namespace ablate
