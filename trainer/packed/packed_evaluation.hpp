// Evaluation of every member of a pack on its own copy of a split, at once.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "trainer/packed/pack_data.hpp"
#include "trainer/packed/packed_model.hpp"

namespace ablate {

// One member's loss, accuracy, confusion matrix (10x10, row = true class) and,
// when asked for, every image's predicted class in split order.
struct MemberEvaluation {
  double loss = 0, accuracy = 0;
  std::vector<int64_t> confusion;
  std::vector<int8_t> predictions;
};

// Evaluates every member on its own `split` of `data` (the images differ by
// member in normalisation and, but for test, choice) in eval mode, up to 1,000
// images a batch, with one device-to-host copy at the end. `flip[k]` is member
// k's eval_flip: its images' and their mirrors' probabilities are averaged (the
// mirrored forward pass runs once for the pack when any member flips).
std::vector<MemberEvaluation> evaluate_members(PackedModel& model, const PackData& data, PackData::Split split,
                                               const std::vector<bool>& flip, bool keep_predictions);

}  // namespace ablate
