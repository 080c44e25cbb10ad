// VisibilityWatch: a reader process beside a sweep that measures how long a
// finished point takes to appear in the HDF5 file. Every `poll` it reads the new
// lines of the journal (a done record is written there the moment rank 0 has the
// outcome) and the /index statuses of the .h5 (as any reader would: read-only,
// retried while the writer holds it), and notes when each point was first seen
// done in each. Latency = seen in the .h5 - seen in the journal (resolution: the
// poll, 1 s by default: a reader reading every row of a 100,000-point /index much
// more often holds the file so much that the writer keeps replacing it whole).
#pragma once

#include <cstddef>
#include <string>

namespace ablate::bench {

struct VisibilityReport {
  size_t points = 0;          // seen done in both
  size_t missing = 0;         // seen done in the journal, never in the .h5
  double p50_s = 0, p99_s = 0, max_s = 0;
  size_t polls = 0, locked_polls = 0;  // polls of the .h5, and those that found it locked
};

// Runs until `expected_points` are done in the .h5 or `timeout_s` passes; writes the
// report as one JSON object to `report_path`.
int watch_visibility(const std::string& results_path, size_t expected_points, double poll_s, double timeout_s,
                     const std::string& report_path);

VisibilityReport read_visibility_report(const std::string& report_path);

}  // namespace ablate::bench
