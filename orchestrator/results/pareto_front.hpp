// The Pareto fronts of a results file for `ablate status --pareto`: the points
// no other point beats on best validation accuracy at no more training time (or
// no more parameters). Read-only, from /index, like the status summary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ablate {

struct ParetoPoint {
  std::string id, case_name;
  int trial = -1;  // a search's trial, -1 otherwise
  double best_val_acc = 0, train_seconds = 0;  // a packed point: its share of its pack's time
  int64_t parameter_count = 0;
};

struct ParetoFronts {
  std::string path, sweep_name;
  size_t candidates = 0;             // points trained to the end (status done) with a finite accuracy
  std::vector<ParetoPoint> by_time;  // cheapest first
  std::vector<ParetoPoint> by_size;  // smallest first
};

// The indices of the non-dominated points, cheapest first: no other point has a
// higher `score` at a `cost` no higher (of equal points, the first). NaN scores are out.
std::vector<size_t> non_dominated(const std::vector<double>& score, const std::vector<double>& cost);

// Over the points that trained to the end (a stopped point's time is that of a
// cut run). Throws ResultsRefusedError / Hdf5Error like read_results_summary.
ParetoFronts read_pareto_fronts(const std::string& path);
std::string format_pareto_fronts(const ParetoFronts& fronts);

}  // namespace ablate
