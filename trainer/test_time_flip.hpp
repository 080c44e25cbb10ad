// Test-time flip averaging (the eval_flip key): an evaluation that reads each
// image and its horizontal mirror, and averages their class probabilities.
#pragma once

#include <torch/torch.h>

namespace ablate {

// The horizontal mirror of images [..., H, W] (lone [n, 1, H, W] or packed [K, n, 1, H, W]).
torch::Tensor mirrored(const torch::Tensor& images);

// log((softmax(logits) + softmax(mirrored_logits)) / 2) over the last dimension, in
// float32: the log-probabilities that an evaluation with eval_flip takes its loss,
// accuracy and predictions from. Probabilities, not logits, are averaged, so the
// loss stays the cross-entropy of a distribution the model states.
torch::Tensor flip_averaged_log_probabilities(const torch::Tensor& logits, const torch::Tensor& mirrored_logits);

}  // namespace ablate
