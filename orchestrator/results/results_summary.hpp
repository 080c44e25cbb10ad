// A read-only summary of a results file for `ablate status results.h5`: counts
// per status and the best points. Reads the HDF5 file only (never the journal),
// so it is safe while a sweep is writing.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace ablate {

struct SummaryPoint {
  std::string id, case_name;
  double best_val_acc = 0, test_acc_at_best_val = 0, final_test_acc = 0;
  int best_epoch = 0, epochs_done = 0;
  std::vector<std::pair<std::string, std::string>> swept;  // (key, value as text) of the hp.* columns
};

struct FailedPoint {
  std::string id, error;
};

struct ResultsSummary {
  std::string path, sweep_name, ablate_version, created, updated;
  std::map<std::string, size_t> counts;  // "pending", "running", "done", "failed" -> points
  size_t total = 0;
  std::vector<SummaryPoint> best;      // done points, highest best_val_acc first
  std::vector<FailedPoint> failed;     // the first few failed points with their errors
};

// Throws ResultsRefusedError for a file that is not an ablate results file,
// Hdf5Error for one that cannot be read.
ResultsSummary read_results_summary(const std::string& path, size_t top = 5, size_t failed_shown = 5);

std::string format_results_summary(const ResultsSummary& summary);

}  // namespace ablate
