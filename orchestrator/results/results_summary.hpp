// A read-only summary of a results file for `ablate status results.h5`: counts
// per status, the best points and every point's status, as text or JSON. Reads
// the HDF5 file only (never the journal), so it is safe while a sweep is writing.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace ablate {

struct SummaryPoint {
  std::string id, case_name;
  double best_val_acc = 0, test_acc_at_best_val = 0, final_test_acc = 0;
  int best_epoch = 0, epochs_done = 0;
  std::vector<std::pair<std::string, std::string>> swept;  // (key, value as text) of the hp.* columns
  nlohmann::json hyperparameters = nlohmann::json::object();  // the same, typed: {"lr": 0.1, "hidden": [128]}
};

// One row of /index as `status --json` lists it. Accuracies are NaN until the point has a result.
struct PointStatusRow {
  std::string id, case_name, status;
  int epochs_done = 0;
  double best_val_acc = 0, test_acc_at_best_val = 0;
};

struct FailedPoint {
  std::string id, error;
};

struct ResultsSummary {
  std::string path, sweep_name, ablate_version, created, updated;
  // Points per status: "pending", "running", "done", "failed" always (0 when none), and any
  // other status the file holds ("stopped", "paused", ...) as it is spelt there.
  std::map<std::string, size_t> counts;
  size_t total = 0;
  std::vector<SummaryPoint> best;      // points with a result (done, stopped), highest best_val_acc first
  std::vector<FailedPoint> failed;     // the first few failed points with their errors
  std::vector<PointStatusRow> points;     // every point, in /index order
};

// Statuses whose points have curves and best-on-validation numbers: done, and
// stopped (ended early by the scheduling policy). Every other status has none.
bool status_has_result(const std::string& status);

// Throws ResultsRefusedError for a file that is not an ablate results file,
// Hdf5Error for one that cannot be read.
ResultsSummary read_results_summary(const std::string& path, size_t top = 5, size_t failed_shown = 5);

std::string format_results_summary(const ResultsSummary& summary);

// The summary as one JSON object for scripts and dashboards (docs/results-format.md,
// "ablate status --json"): sweep, counts, best, failed, points; NaN as null.
nlohmann::json results_summary_json(const ResultsSummary& summary);

}  // namespace ablate
