// What a training run reports: one row per epoch and a final summary. Plain
// C++ (no torch), so the orchestrator and the results file can carry it.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ablate {

// Images in the clean-train-accuracy subset (train_eval_*, below): enough for a
// ±0.3-point standard error, one extra evaluation pass a tenth the size of a
// 55k-image epoch. Fewer when the training split is smaller.
inline constexpr int64_t kTrainEvalImages = 10000;

// One row of a point's learning curve. The field order is the column order of
// the `curves` dataset in the results file (docs/results-format.md).
struct EpochMetrics {
  int epoch = 0;  // 1-based
  double train_loss = 0, train_acc = 0;
  double val_loss = 0, val_acc = 0;
  double test_loss = 0, test_acc = 0;
  double lr = 0;
  double epoch_seconds = 0;
  double images_per_second = 0;
  // The trained model in eval mode (no dropout, no augmentation) on a fixed,
  // seeded subset of the training split (trainer/train_eval_subset.hpp), after
  // the epoch: the train side of a real train - test gap, where train_acc is the
  // running mean over the epoch's batches. Last, so that rows journaled before
  // they existed (ten numbers) still read: their train_eval_* are NaN.
  double train_eval_loss = 0, train_eval_acc = 0;
  // Points trained together in this epoch (a pack, docs/packing.md; 1 alone):
  // the epoch's time was shared by that many points, so a point's own cost is
  // epoch_seconds / pack_members. NaN in rows journaled before it existed.
  double pack_members = 1;
};

inline constexpr int kNumClasses = 10;

struct TrainResult {
  std::vector<EpochMetrics> curves;
  std::vector<int64_t> confusion_test;  // kNumClasses x kNumClasses, row = true class, column = predicted
  std::vector<int64_t> confusion_val;
  std::vector<double> per_class_acc;    // test accuracy per true class
  int best_epoch = 0;                   // epoch with the highest validation accuracy (1-based)
  double best_val_acc = 0;
  double final_test_acc = 0;
  double test_acc_at_best_val = 0;      // test accuracy of the epoch chosen on validation
  int64_t parameter_count = 0;
  double train_seconds = 0;             // wall time of the whole run, evaluation included
  // Epochs this result covers: the config's `epochs`, or fewer for a point that
  // early stopping paused or stopped (its curves end there).
  int epochs_trained = 0;
  std::string device;                   // "cpu", "cuda:0", ...
  // Predicted class of every test image after the last epoch, in test-set order,
  // so error analysis can show the misclassified images themselves. Empty when
  // the work does not produce them (fake work in tests).
  std::vector<int8_t> test_predictions;
};

// Test accuracy per true class from a kNumClasses x kNumClasses confusion matrix
// (row = true class): a row's diagonal count over its total, 0 for an empty row.
inline std::vector<double> per_class_accuracy(const std::vector<int64_t>& confusion) {
  if (confusion.size() != static_cast<size_t>(kNumClasses * kNumClasses))
    throw std::invalid_argument("per_class_accuracy: a confusion matrix has " +
                                std::to_string(kNumClasses * kNumClasses) + " cells, this one " +
                                std::to_string(confusion.size()));
  std::vector<double> accuracy(kNumClasses, 0.0);
  for (size_t row = 0; row < static_cast<size_t>(kNumClasses); ++row) {
    int64_t total = 0;
    for (size_t col = 0; col < static_cast<size_t>(kNumClasses); ++col) total += confusion[row * kNumClasses + col];
    if (total > 0) accuracy[row] = static_cast<double>(confusion[row * kNumClasses + row]) / static_cast<double>(total);
  }
  return accuracy;
}

// Predictions travel (MPI messages, the journal) as one digit per image: a
// 10,000-image test set is a 10 kB string rather than a 40 kB number list.
inline std::string predictions_to_digits(const std::vector<int8_t>& predictions) {
  std::string digits(predictions.size(), '0');
  for (size_t i = 0; i < predictions.size(); ++i) {
    if (predictions[i] < 0 || predictions[i] >= kNumClasses)
      throw std::invalid_argument("test prediction " + std::to_string(predictions[i]) + " of image " +
                                  std::to_string(i) + " is not a class (0-9)");
    digits[i] = static_cast<char>('0' + predictions[i]);
  }
  return digits;
}

inline std::vector<int8_t> predictions_from_digits(std::string_view digits) {
  std::vector<int8_t> predictions(digits.size());
  for (size_t i = 0; i < digits.size(); ++i) {
    if (digits[i] < '0' || digits[i] >= '0' + kNumClasses)
      throw std::invalid_argument("test predictions: character " + std::to_string(i) + " is '" +
                                  std::string(1, digits[i]) + "', expected a class digit 0-9");
    predictions[i] = static_cast<int8_t>(digits[i] - '0');
  }
  return predictions;
}

// What the scheduler says after each epoch. Early stopping ends a run before its
// last epoch: paused (its checkpoint stays, so a promotion resumes it exactly
// where it ended) or stopped for good. To the trainer both mean "finish here".
enum class EpochVerdict { go_on, pause, stop };

inline const char* to_string(EpochVerdict verdict) {
  switch (verdict) {
    case EpochVerdict::go_on: return "go_on";
    case EpochVerdict::pause: return "pause";
    case EpochVerdict::stop: return "stop";
  }
  return "?";
}

// Called after every epoch; the orchestrator streams the row to the results file
// and answers with the verdict (go_on unless early stopping says otherwise).
using EpochCallback = std::function<EpochVerdict(const EpochMetrics&)>;

}  // namespace ablate
