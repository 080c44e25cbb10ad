// Evaluation of every member of a pack on its own copy of a split, at once.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "trainer/dataset.hpp"
#include "trainer/packed/packed_model.hpp"

namespace ablate {

// One member's loss, accuracy, confusion matrix (10x10, row = true class) and,
// when asked for, every image's predicted class in split order.
struct MemberEvaluation {
  double loss = 0, accuracy = 0;
  std::vector<int64_t> confusion;
  std::vector<int8_t> predictions;
};

// Evaluates member k on splits[k] (equal sizes: the images differ by member in
// normalisation and, for validation, choice) in eval mode, 1,000 images a
// batch, with one device-to-host copy at the end.
std::vector<MemberEvaluation> evaluate_members(PackedModel& model, const std::vector<const TensorSplit*>& splits,
                                               bool keep_predictions);

// Per-class accuracy from a 10x10 confusion matrix (row = true class).
std::vector<double> per_class_accuracy_of(const std::vector<int64_t>& confusion);

}  // namespace ablate
