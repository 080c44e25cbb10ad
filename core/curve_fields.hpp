// The columns of a learning curve: EpochMetrics' fields in declaration order,
// named once for the journal, the HDF5 `curves` table and the docs.
#pragma once

#include "core/metrics.hpp"

#include <array>

namespace ablate {

struct CurveField {
  const char* name;
  double EpochMetrics::*member;
};

// `epoch` (int32) comes first and is not in this table; these are the float64 columns.
inline constexpr std::array<CurveField, 12> kCurveFields = {{
    {"train_loss", &EpochMetrics::train_loss},
    {"train_acc", &EpochMetrics::train_acc},
    {"val_loss", &EpochMetrics::val_loss},
    {"val_acc", &EpochMetrics::val_acc},
    {"test_loss", &EpochMetrics::test_loss},
    {"test_acc", &EpochMetrics::test_acc},
    {"lr", &EpochMetrics::lr},
    {"epoch_seconds", &EpochMetrics::epoch_seconds},
    {"images_per_second", &EpochMetrics::images_per_second},
    {"train_eval_loss", &EpochMetrics::train_eval_loss},
    {"train_eval_acc", &EpochMetrics::train_eval_acc},
    {"pack_members", &EpochMetrics::pack_members},
}};
// The shortest row a reader accepts: one written before train_eval_* existed
// (journal version 3 and older). A shorter row than kCurveFields (also journal
// version 4, before pack_members) reads with the later columns NaN.
inline constexpr size_t kCurveFieldsBeforeTrainEval = 9;

// Fails to compile when someone adds a field to EpochMetrics without adding it here.
static_assert(sizeof(EpochMetrics) == sizeof(double) * (1 + kCurveFields.size()),
              "EpochMetrics changed: update kCurveFields (and docs/results-format.md)");

}  // namespace ablate
