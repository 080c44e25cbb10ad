// Which training images the clean train accuracy is measured on (train_eval_acc).
#pragma once

#include <cstdint>
#include <vector>

#include "core/metrics.hpp"  // kTrainEvalImages

namespace ablate {

// Positions in the training split (0 .. train_size - 1) of the images that
// train_eval_loss / train_eval_acc are measured on after every epoch:
// min(kTrainEvalImages, train_size) of them, drawn without replacement from a
// generator of its own seeded by `seed` (no Torch generator is touched, so the
// training run is the same with or without it), sorted. The same seed and size
// give the same subset with any compiler; every epoch of a point uses it.
std::vector<int64_t> train_eval_subset(uint64_t seed, int64_t train_size);

}  // namespace ablate
