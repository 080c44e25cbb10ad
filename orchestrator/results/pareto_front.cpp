// Non-dominated points by accuracy against training time and against size.
#include "orchestrator/results/pareto_front.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "orchestrator/results/hdf5_read.hpp"
#include "orchestrator/results/results_probe.hpp"
#include "orchestrator/results/results_summary.hpp"

namespace ablate {

std::vector<size_t> non_dominated(const std::vector<double>& score, const std::vector<double>& cost) {
  std::vector<size_t> order;
  for (size_t i = 0; i < score.size(); ++i)
    if (!std::isnan(score[i]) && !std::isnan(cost[i])) order.push_back(i);
  // Cheapest first; at equal cost the best first, so the others at that cost are dominated.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return cost[a] != cost[b] ? cost[a] < cost[b] : score[a] > score[b];
  });
  std::vector<size_t> front;
  for (size_t i : order)
    if (front.empty() || score[i] > score[front.back()]) front.push_back(i);
  return front;
}

ParetoFronts read_fronts(const std::string& path, ParetoFronts fronts);

ParetoFronts read_pareto_fronts(const std::string& path) {
  ParetoFronts fronts;
  fronts.path = path;
  fronts.sweep_name = read_results_summary(path, 0, 0).sweep_name;  // refuses what is not a results file
  return read_when_unlocked(path, [&] { return read_fronts(path, fronts); });
}

ParetoFronts read_fronts(const std::string& path, ParetoFronts fronts) {
  const H5Reader reader(path);
  H5Id file = reader.open_file();
  H5Id index = reader.open_dataset(file, "index");
  const auto ids = reader.column_strings(index, "id");
  const auto cases = reader.column_strings(index, "case");
  const auto statuses = reader.column_strings(index, "status");
  const auto best_val = reader.column_float64(index, "best_val_acc");
  auto seconds = reader.column_float64(index, "train_seconds");
  const auto parameters = reader.column_int64(index, "parameter_count");
  const auto names = reader.column_names(index);
  // A packed point's time is its share of its pack's: the pack's wall time over
  // the points that trained in it (files before pack_members: as recorded).
  if (std::find(names.begin(), names.end(), "pack_members") != names.end()) {
    const auto members = reader.column_float64(index, "pack_members");
    for (size_t i = 0; i < seconds.size(); ++i)
      if (std::isfinite(members[i]) && members[i] > 0) seconds[i] /= members[i];
  }
  std::vector<int64_t> trials(ids.size(), -1);
  if (std::find(names.begin(), names.end(), "trial") != names.end()) trials = reader.column_int64(index, "trial");

  std::vector<size_t> rows;  // the candidates
  for (size_t i = 0; i < ids.size(); ++i)
    if (statuses[i] == "done" && std::isfinite(best_val[i])) rows.push_back(i);
  fronts.candidates = rows.size();
  std::vector<double> score, time, size;
  for (size_t i : rows)
    score.push_back(best_val[i]), time.push_back(seconds[i]), size.push_back(static_cast<double>(parameters[i]));
  const auto point = [&](size_t k) {
    const size_t i = rows[k];
    return ParetoPoint{ids[i], cases[i], static_cast<int>(trials[i]), best_val[i], seconds[i], parameters[i]};
  };
  for (size_t k : non_dominated(score, time)) fronts.by_time.push_back(point(k));
  for (size_t k : non_dominated(score, size)) fronts.by_size.push_back(point(k));
  return fronts;
}

std::string format_pareto_fronts(const ParetoFronts& f) {
  std::string out = fmt::format("{}: sweep '{}': Pareto fronts over the {} points trained to the end\n", f.path,
                                f.sweep_name, f.candidates);
  const auto table = [&](const char* title, const std::vector<ParetoPoint>& front) {
    out += fmt::format("{} ({} points):\n", title, front.size());
    out += fmt::format("  {:<16}  {:>7}  {:>10}  {:>10}  {}\n", "id", "val_acc", "train_s", "parameters", "case / trial");
    for (const auto& p : front)
      out += fmt::format("  {:<16}  {:>7.4f}  {:>10.1f}  {:>10}  {}{}\n", p.id, p.best_val_acc, p.train_seconds,
                         p.parameter_count, p.case_name, p.trial >= 0 ? fmt::format("trial {}", p.trial) : "");
  };
  table("best validation accuracy vs training time (each point: no faster point is as accurate; a packed "
        "point's time is its share of its pack's)",
        f.by_time);
  table("best validation accuracy vs parameter count (each point: no smaller point is as accurate)", f.by_size);
  return out;
}

}  // namespace ablate
