// Packed evaluation: one forward per batch for all members, counts on the device.
#include "trainer/packed/packed_evaluation.hpp"

#include <algorithm>

#include "core/metrics.hpp"
#include "trainer/eval_batch.hpp"
#include "trainer/test_time_flip.hpp"

namespace ablate {
namespace {

constexpr int64_t kCells = kNumClasses * kNumClasses;

}  // namespace

std::vector<MemberEvaluation> evaluate_members(PackedModel& model, const PackData& data, PackData::Split split,
                                               const std::vector<bool>& flip, bool keep_predictions) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.train(false);
  const int64_t members = model.members();
  const int64_t size = data.size(split);
  const auto device = model.parameters().front().device();
  auto options = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  auto loss_sum = torch::zeros({members}, options);
  auto confusion = torch::zeros({members * kCells}, options);
  auto predictions = torch::zeros({members, keep_predictions ? size : 0}, options);
  // Member k's cells of the confusion counts start at k * 100.
  auto member_offset = torch::arange(members, torch::TensorOptions().dtype(torch::kInt64).device(device))
                           .mul_(kCells)
                           .unsqueeze(1);
  TORCH_CHECK(static_cast<int64_t>(flip.size()) == members, "evaluate_members: ", flip.size(), " eval_flip flags for ",
              members, " members");
  const bool any_flip = std::find(flip.begin(), flip.end(), true) != flip.end();
  // [K, 1, 1]: which members' log-probabilities come from the flip average.
  auto flips = torch::tensor(std::vector<int64_t>(flip.begin(), flip.end()), torch::kInt64)
                   .to(torch::kBool)
                   .to(device)
                   .view({members, 1, 1});
  const int64_t eval_batch = eval_batch_images(members, model.convolutional() && device.is_cpu());
  for (int64_t first = 0; first < size; first += eval_batch) {
    const int64_t last = std::min(first + eval_batch, size);
    const PackBatch batch = data.eval_batch(split, first, last);
    const auto& label = batch.labels;                 // [K, b]
    auto logits = model.forward(batch.images);        // [K, b, 10]
    auto log_probability = torch::log_softmax(logits.to(torch::kFloat32), 2);
    auto predicted = logits.argmax(2);
    if (any_flip) {
      const auto averaged = flip_averaged_log_probabilities(logits, model.forward(mirrored(batch.images)));
      log_probability = torch::where(flips, averaged, log_probability);
      predicted = torch::where(flips.squeeze(2), averaged.argmax(2), predicted);
    }
    loss_sum -= log_probability.gather(2, label.unsqueeze(2)).squeeze(2).sum(1).to(torch::kFloat64);
    auto cell = (label * kNumClasses + predicted + member_offset).reshape({-1});
    confusion += torch::bincount(cell, /*weights=*/{}, members * kCells).to(torch::kFloat64);
    if (keep_predictions) predictions.slice(1, first, last).copy_(predicted);
  }
  auto host = torch::cat({loss_sum, confusion, predictions.reshape({-1})}).to(torch::kCPU);
  const double* values = host.data_ptr<double>();
  model.train(was_training);

  std::vector<MemberEvaluation> evaluations(static_cast<size_t>(members));
  for (int64_t k = 0; k < members; ++k) {
    MemberEvaluation& e = evaluations[static_cast<size_t>(k)];
    const double* cells = values + members + k * kCells;
    double correct = 0, total = 0;
    for (int64_t c = 0; c < kCells; ++c) {
      const auto count = static_cast<int64_t>(cells[c]);
      e.confusion.push_back(count);
      total += static_cast<double>(count);
      if (c / kNumClasses == c % kNumClasses) correct += static_cast<double>(count);
    }
    e.loss = total > 0 ? values[k] / total : 0;
    e.accuracy = total > 0 ? correct / total : 0;
    if (keep_predictions) {
      const double* predicted = values + members + members * kCells + k * size;
      e.predictions.reserve(static_cast<size_t>(size));
      for (int64_t i = 0; i < size; ++i) e.predictions.push_back(static_cast<int8_t>(predicted[i]));
    }
  }
  return evaluations;
}

}  // namespace ablate
