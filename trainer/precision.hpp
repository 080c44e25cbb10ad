// Arithmetic precision of a training run: fp32, tf32 (tensor-core matmuls on CUDA), bf16 autocast.
#pragma once

#include <torch/torch.h>

#include <string>

namespace ablate {

// Sets the process-wide float32 matmul and convolution precision on CUDA for
// `precision` ("tf32": TF32 tensor cores; "fp32" and "bf16": IEEE float32 for
// what runs in float32). The CPU has no TF32 path, so there "tf32" trains as
// "fp32". Call once per run, before its first step: the setting is global.
void apply_float32_precision(const std::string& precision, const torch::Device& device);

// While alive, the forward pass on `device` autocasts to bfloat16 when
// `precision` is "bf16" (weights, gradients and optimizer state stay float32);
// otherwise it does nothing. The loss is computed after the scope ends, in
// float32. `cache_casts = false` for CUDA graph capture, where the weight-cast
// cache would keep tensors from before the capture.
class AutocastScope {
 public:
  AutocastScope(const std::string& precision, const torch::Device& device, bool cache_casts = true);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_type_ = c10::DeviceType::CPU;
  bool was_enabled_ = false;
  bool cache_was_enabled_ = true;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Float;
};

}  // namespace ablate
