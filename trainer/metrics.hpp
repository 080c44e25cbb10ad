// What a training run reports: one row per epoch and a final summary. Plain
// C++ (no torch), so the orchestrator and the results file can carry it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ablate {

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
  std::string device;                   // "cpu", "cuda:0", ...
};

// Called after every epoch; the orchestrator streams the row to the results file.
using EpochCallback = std::function<void(const EpochMetrics&)>;

}  // namespace ablate
