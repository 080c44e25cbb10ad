// Reads /index (and the error of failed points) into a ResultsSummary; prints it.
#include "orchestrator/results/results_summary.hpp"

#include "orchestrator/results/hdf5_check.hpp"
#include "orchestrator/results/hdf5_read.hpp"
#include "orchestrator/results/results_layout.hpp"
#include "orchestrator/results/results_probe.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ablate {
namespace {

constexpr std::string_view kHyperparameterPrefix = "hp.";

// Every hp.* column of /index as text, one vector per column.
std::vector<std::pair<std::string, std::vector<std::string>>> swept_columns(const H5Reader& reader, hid_t index) {
  std::vector<std::pair<std::string, std::vector<std::string>>> columns;
  for (const auto& name : reader.column_names(index)) {
    if (name.rfind(kHyperparameterPrefix, 0) != 0) continue;
    std::vector<std::string> text;
    switch (reader.column_class(index, name)) {
      case H5T_INTEGER:
        for (int64_t v : reader.column_int64(index, name)) text.push_back(std::to_string(v));
        break;
      case H5T_FLOAT:
        for (double v : reader.column_float64(index, name)) text.push_back(fmt::format("{}", v));
        break;
      default: text = reader.column_strings(index, name);
    }
    columns.emplace_back(name.substr(kHyperparameterPrefix.size()), std::move(text));
  }
  return columns;
}

}  // namespace

ResultsSummary read_results_summary(const std::string& path, size_t top, size_t failed_shown) {
  silence_hdf5_error_printing();
  const ResultsProbe probe = probe_results_file(path);
  if (probe.kind == ResultsProbe::Kind::missing)
    throw ResultsRefusedError(path, fmt::format("results file '{}' does not exist", path));
  if (probe.kind != ResultsProbe::Kind::ablate)
    throw ResultsRefusedError(path, fmt::format("'{}' is not an ablate results file ({})", path, probe.detail));
  if (probe.format_version > kResultsFormatVersion)
    throw ResultsRefusedError(path, fmt::format("results file '{}' has format_version {}, newer than this ablate "
                                                "understands ({}): upgrade ablate",
                                                path, probe.format_version, kResultsFormatVersion));

  const H5Reader reader(path);
  H5Id file = reader.open_file();
  H5Id root = reader.open_group(file, "/");
  ResultsSummary summary;
  summary.path = path;
  summary.sweep_name = reader.attr_string(root, "sweep_name");
  summary.ablate_version = reader.attr_string(root, "ablate_version");
  summary.created = reader.attr_string(root, "created");
  if (reader.has_attr(root, "updated")) summary.updated = reader.attr_string(root, "updated");

  H5Id index = reader.open_dataset(file, "index");
  const auto ids = reader.column_strings(index, "id");
  const auto cases = reader.column_strings(index, "case");
  const auto statuses = reader.column_strings(index, "status");
  const auto best_val = reader.column_float64(index, "best_val_acc");
  const auto test_at_best = reader.column_float64(index, "test_acc_at_best_val");
  const auto final_test = reader.column_float64(index, "final_test_acc");
  const auto best_epoch = reader.column_int64(index, "best_epoch");
  const auto epochs_done = reader.column_int64(index, "epochs_done");
  const auto swept = swept_columns(reader, index);

  summary.total = ids.size();
  for (const char* s : {"done", "running", "pending", "failed"}) summary.counts[s] = 0;
  std::vector<size_t> done;
  for (size_t i = 0; i < ids.size(); ++i) {
    ++summary.counts[statuses[i]];
    if (statuses[i] == "done" && !std::isnan(best_val[i])) done.push_back(i);
  }
  std::stable_sort(done.begin(), done.end(), [&](size_t a, size_t b) { return best_val[a] > best_val[b]; });
  for (size_t rank = 0; rank < std::min(top, done.size()); ++rank) {
    const size_t i = done[rank];
    SummaryPoint p;
    p.id = ids[i];
    p.case_name = cases[i];
    p.best_val_acc = best_val[i];
    p.test_acc_at_best_val = test_at_best[i];
    p.final_test_acc = final_test[i];
    p.best_epoch = static_cast<int>(best_epoch[i]);
    p.epochs_done = static_cast<int>(epochs_done[i]);
    for (const auto& [key, values] : swept) p.swept.emplace_back(key, values[i]);
    summary.best.push_back(std::move(p));
  }

  H5Id points = reader.open_group(file, "points");
  for (size_t i = 0; i < ids.size() && summary.failed.size() < failed_shown; ++i) {
    if (statuses[i] != "failed") continue;
    H5Id group = reader.open_group(points, ids[i]);
    summary.failed.push_back({ids[i], reader.attr_string(group, "error")});
  }
  return summary;
}

std::string format_results_summary(const ResultsSummary& s) {
  std::string out = fmt::format("{}: sweep '{}' (ablate {}), created {}, updated {}\n", s.path, s.sweep_name,
                                s.ablate_version, s.created, s.updated.empty() ? "?" : s.updated);
  const auto count = [&](const char* status) { return s.counts.count(status) ? s.counts.at(status) : 0; };
  out += fmt::format("points: {} total: {} done, {} running, {} pending, {} failed\n", s.total, count("done"),
                     count("running"), count("pending"), count("failed"));
  if (!s.best.empty()) {
    out += "best by validation accuracy:\n";
    out += fmt::format("  {:>4}  {:<16}  {:>7}  {:>9}  {:>10}  {:>5}  {}\n", "rank", "id", "val_acc", "test@best",
                       "final_test", "epoch", "case / swept hyperparameters");
    for (size_t r = 0; r < s.best.size(); ++r) {
      const SummaryPoint& p = s.best[r];
      std::string swept;
      for (const auto& [key, value] : p.swept) swept += fmt::format(" {}={}", key, value);
      out += fmt::format("  {:>4}  {:<16}  {:>7.4f}  {:>9.4f}  {:>10.4f}  {:>5}  {}{}\n", r + 1, p.id,
                         p.best_val_acc, p.test_acc_at_best_val, p.final_test_acc, p.best_epoch, p.case_name, swept);
    }
  }
  if (!s.failed.empty()) {
    out += "failed:\n";
    for (const auto& f : s.failed) {
      std::string error = f.error.substr(0, f.error.find('\n'));
      if (error.size() > 160) error = error.substr(0, 157) + "...";
      out += fmt::format("  {}  {}\n", f.id, error);
    }
  }
  return out;
}

}  // namespace ablate
