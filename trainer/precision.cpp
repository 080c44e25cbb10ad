// Precision settings of a run: TF32 switches and the bf16 autocast scope.
#include "trainer/precision.hpp"

#include <ATen/autocast_mode.h>

namespace ablate {

void apply_float32_precision(const std::string& precision, const torch::Device& device) {
  if (!device.is_cuda()) return;
  // Set both ways on every run: a worker process trains many points, and one
  // point's "tf32" must not leak into the next point's "fp32". PyTorch's own
  // default (TF32 convolutions, IEEE matmuls) is neither, so it is replaced.
  const auto mode = precision == "tf32" ? at::Float32Precision::TF32 : at::Float32Precision::IEEE;
  auto& context = at::globalContext();
  context.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL, mode);
  context.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV, mode);
}

AutocastScope::AutocastScope(const std::string& precision, const torch::Device& device, bool cache_casts)
    : active_(precision == "bf16"), device_type_(device.type()) {
  if (!active_) return;
  was_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  previous_dtype_ = at::autocast::get_autocast_dtype(device_type_);
  cache_was_enabled_ = at::autocast::is_autocast_cache_enabled();
  at::autocast::set_autocast_enabled(device_type_, true);
  at::autocast::set_autocast_dtype(device_type_, at::kBFloat16);
  at::autocast::set_autocast_cache_enabled(cache_casts && cache_was_enabled_);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // As torch.autocast's exit: the cast cache lives until the outermost scope ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_type_, was_enabled_);
  at::autocast::set_autocast_dtype(device_type_, previous_dtype_);
  at::autocast::set_autocast_cache_enabled(cache_was_enabled_);
}

}  // namespace ablate
