// [early_stopping]: how a sweep stops its weak points early. Plain values, read
// from the spec; the orchestrator's scheduling policies act on them.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "sweeps/spec_error.hpp"

namespace ablate::sweeps {

struct EarlyStopping {
  SourcePos pos;               // the [early_stopping] table
  std::string method;          // asha | successive_halving | hyperband | median
  std::string metric = "val_acc";  // a curve column (core/curve_fields.hpp)
  bool maximize = true;        // follows the metric: a *_loss is minimised
  int min_epochs = 1;          // the first rung (grace period)
  int reduction_factor = 3;    // eta: the top 1/eta of a rung goes on
};

inline const std::vector<std::string> kEarlyStoppingMethods = {"asha", "successive_halving", "hyperband", "median"};

// The rung epochs for a budget of `epochs`: min_epochs * eta^k below it, then the budget itself.
inline std::vector<int> rung_epochs(const EarlyStopping& early, int epochs) {
  std::vector<int> rungs;
  for (long long rung = early.min_epochs; rung < epochs; rung *= early.reduction_factor)
    rungs.push_back(static_cast<int>(rung));
  rungs.push_back(epochs);
  return rungs;
}

// Epochs `points` points train under synchronous successive halving from the
// first rung: n at the first rung, then the top 1/eta (at least one) at each next.
inline long long halving_epochs(const EarlyStopping& early, int epochs, long long points) {
  long long total = 0, alive = points;
  int previous = 0;
  for (int rung : rung_epochs(early, epochs)) {
    total += alive * (rung - previous);
    previous = rung;
    alive = std::max(1LL, alive / early.reduction_factor);
  }
  return total;
}

}  // namespace ablate::sweeps
