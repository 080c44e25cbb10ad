// One pass of SGD over a parameter stack on the CPU: weight decay, momentum
// (Nesterov or not) and the update, each member with its own numbers. The
// tensor form (three to five elementwise passes, each a trip to memory once a
// pack's state outgrows the caches) stays for other devices and layouts.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace ablate {

struct SgdMemberNumbers {
  double lr = 0, momentum = 0, weight_decay = 0;
};

// Whether fused_sgd_step can update `parameter` (a [K, ...] stack) from its
// gradient and momentum buffer: all on the CPU, of one floating type, laid out
// alike, dense, with member k's elements the k-th block of the storage.
bool can_fuse_sgd(const torch::Tensor& parameter, const torch::Tensor& grad, const torch::Tensor& buffer);

// torch::optim::SGD's step, per member k of the stack:
//   d = grad + weight_decay * p;  buffer = momentum * buffer + d;
//   p -= lr * (nesterov ? d + momentum * buffer : buffer)
// `use_buffer` false (no member has momentum): p -= lr * d, the buffer untouched.
void fused_sgd_step(torch::Tensor& parameter, const torch::Tensor& grad, torch::Tensor& buffer,
                    const std::vector<SgdMemberNumbers>& members, bool nesterov, bool use_buffer);

}  // namespace ablate
