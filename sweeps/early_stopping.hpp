// [early_stopping]: how a sweep stops its weak points early. Plain values, read
// from the spec; the orchestrator's scheduling policies act on them.
#pragma once

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

}  // namespace ablate::sweeps
