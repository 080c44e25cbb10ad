// Packed evaluation: one forward per 1,000 images for all members, counts on the device.
#include "trainer/packed/packed_evaluation.hpp"

#include "core/metrics.hpp"

namespace ablate {
namespace {

constexpr int64_t kEvalBatch = 1000;
constexpr int64_t kCells = kNumClasses * kNumClasses;

}  // namespace

std::vector<MemberEvaluation> evaluate_members(PackedModel& model, const std::vector<const TensorSplit*>& splits,
                                               bool keep_predictions) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.train(false);
  const int64_t members = static_cast<int64_t>(splits.size());
  const int64_t size = splits.front()->size();
  const auto device = splits.front()->images.device();
  auto options = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  auto loss_sum = torch::zeros({members}, options);
  auto confusion = torch::zeros({members * kCells}, options);
  auto predictions = torch::zeros({members, keep_predictions ? size : 0}, options);
  // Member k's cells of the confusion counts start at k * 100.
  auto member_offset = torch::arange(members, torch::TensorOptions().dtype(torch::kInt64).device(device))
                           .mul_(kCells)
                           .unsqueeze(1);
  for (int64_t first = 0; first < size; first += kEvalBatch) {
    const int64_t last = std::min(first + kEvalBatch, size);
    std::vector<torch::Tensor> images, labels;
    for (const auto* split : splits) {
      images.push_back(split->images.slice(0, first, last));
      labels.push_back(split->labels.slice(0, first, last));
    }
    auto label = torch::stack(labels);                                 // [K, b]
    auto logits = model.forward(torch::stack(images));                 // [K, b, 10]
    auto log_probability = torch::log_softmax(logits.to(torch::kFloat32), 2);
    loss_sum -= log_probability.gather(2, label.unsqueeze(2)).squeeze(2).sum(1).to(torch::kFloat64);
    auto predicted = logits.argmax(2);
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

std::vector<double> per_class_accuracy_of(const std::vector<int64_t>& confusion) {
  std::vector<double> accuracy(kNumClasses, 0.0);
  for (int row = 0; row < kNumClasses; ++row) {
    int64_t total = 0;
    for (int col = 0; col < kNumClasses; ++col) total += confusion[static_cast<size_t>(row * kNumClasses + col)];
    if (total > 0) accuracy[static_cast<size_t>(row)] =
        static_cast<double>(confusion[static_cast<size_t>(row * kNumClasses + row)]) / static_cast<double>(total);
  }
  return accuracy;
}

}  // namespace ablate
