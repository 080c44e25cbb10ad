// The loss of a pack's step: each member's own, as train() computes it alone.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace ablate {

// Member k's loss for a batch of n images: its cross-entropy summed over the
// batch with its label smoothing e[k] ((1 - e) * nll + e * mean over classes
// of -log p, PyTorch's definition), times 1/n, plus l1[k] * sum|w| + l2[k] *
// sum w^2 over its slices of `weights`. logits [K, n, 10], labels [K, n];
// returns [K]. `summed` receives each member's unscaled cross-entropy sum [K]
// (the epoch's running train loss).
struct PackedLossTerms {
  std::vector<double> label_smoothing, l1, l2;
};
torch::Tensor packed_loss(const torch::Tensor& logits, const torch::Tensor& labels, const PackedLossTerms& terms,
                          const std::vector<torch::Tensor>& weights, torch::Tensor* summed = nullptr);

}  // namespace ablate
