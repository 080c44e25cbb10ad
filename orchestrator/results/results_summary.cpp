// Reads /index (and the error of failed points) into a ResultsSummary; prints it as text or JSON.
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

struct SweptColumn {
  std::string key;
  std::vector<std::string> text;      // as `ablate status` prints it
  std::vector<nlohmann::json> value;  // typed, for --json: lists stored as JSON text come back as lists
};

// Every hp.* column of /index.
std::vector<SweptColumn> swept_columns(const H5Reader& reader, hid_t index) {
  std::vector<SweptColumn> columns;
  for (const auto& name : reader.column_names(index)) {
    if (name.rfind(kHyperparameterPrefix, 0) != 0) continue;
    SweptColumn column{name.substr(kHyperparameterPrefix.size()), {}, {}};
    switch (reader.column_class(index, name)) {
      case H5T_INTEGER:
        for (int64_t v : reader.column_int64(index, name)) {
          column.text.push_back(std::to_string(v));
          column.value.emplace_back(v);
        }
        break;
      case H5T_FLOAT:
        for (double v : reader.column_float64(index, name)) {
          column.text.push_back(fmt::format("{}", v));
          column.value.emplace_back(v);
        }
        break;
      default:
        column.text = reader.column_strings(index, name);
        for (const auto& text : column.text) {
          const bool json_text = !text.empty() && (text.front() == '[' || text.front() == '{');
          nlohmann::json parsed = json_text ? nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false)
                                            : nlohmann::json(text);
          column.value.push_back(parsed.is_discarded() ? nlohmann::json(text) : std::move(parsed));
        }
    }
    columns.push_back(std::move(column));
  }
  return columns;
}

nlohmann::json number_or_null(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

}  // namespace

ResultsSummary read_summary(const std::string& path, size_t top, size_t failed_shown);

bool status_has_result(const std::string& status) { return status == "done" || status == "stopped"; }

ResultsSummary read_results_summary(const std::string& path, size_t top, size_t failed_shown) {
  silence_hdf5_error_printing();
  const ResultsProbe probe = probe_results_file_when_settled(path);
  if (probe.kind == ResultsProbe::Kind::missing)
    throw ResultsRefusedError(path, fmt::format("results file '{}' does not exist", path));
  if (probe.kind != ResultsProbe::Kind::ablate)
    throw ResultsRefusedError(path, fmt::format("'{}' is not an ablate results file: {}. Give the .h5 file that "
                                                "`ablate run -o` wrote",
                                                path, probe.detail));
  if (probe.format_version > kResultsFormatVersion)
    throw ResultsRefusedError(path, fmt::format("results file '{}' has format_version {}, newer than this ablate "
                                                "understands ({}): upgrade ablate",
                                                path, probe.format_version, kResultsFormatVersion));

  return read_when_unlocked(path, [&] { return read_summary(path, top, failed_shown); });
}

ResultsSummary read_summary(const std::string& path, size_t top, size_t failed_shown) {
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
    if (status_has_result(statuses[i]) && !std::isnan(best_val[i])) done.push_back(i);
    summary.points.push_back({ids[i], cases[i], statuses[i], static_cast<int>(epochs_done[i]), best_val[i],
                              test_at_best[i]});
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
    for (const auto& column : swept) {
      p.swept.emplace_back(column.key, column.text[i]);
      p.hyperparameters[column.key] = column.value[i];
    }
    summary.best.push_back(std::move(p));
  }

  // Format 4 has the error in /index; earlier formats in the point's group.
  const auto columns = reader.column_names(index);
  const bool index_has_errors = std::find(columns.begin(), columns.end(), "error") != columns.end();
  const auto errors = index_has_errors ? reader.column_strings(index, "error") : std::vector<std::string>{};
  for (size_t i = 0; i < ids.size() && summary.failed.size() < failed_shown; ++i) {
    if (statuses[i] != "failed") continue;
    if (index_has_errors) {
      summary.failed.push_back({ids[i], errors[i]});
      continue;
    }
    H5Id points = reader.open_group(file, "points");
    H5Id group = reader.open_group(points, ids[i]);
    summary.failed.push_back({ids[i], reader.attr_string(group, "error")});
  }
  return summary;
}

std::string format_results_summary(const ResultsSummary& s) {
  std::string out = fmt::format("{}: sweep '{}' (ablate {}), created {}, updated {}\n", s.path, s.sweep_name,
                                s.ablate_version, s.created, s.updated.empty() ? "?" : s.updated);
  const auto count = [&](const char* status) { return s.counts.count(status) ? s.counts.at(status) : 0; };
  std::string others;  // statuses beyond the four every file has (stopped, paused, ...), when present
  for (const auto& [status, n] : s.counts)
    if (n > 0 && status != "done" && status != "running" && status != "pending" && status != "failed")
      others += fmt::format(", {} {}", n, status);
  out += fmt::format("points: {} total: {} done, {} running, {} pending, {} failed{}\n", s.total, count("done"),
                     count("running"), count("pending"), count("failed"), others);
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

nlohmann::json results_summary_json(const ResultsSummary& s) {
  nlohmann::json out;
  out["path"] = s.path;
  out["sweep"] = {{"name", s.sweep_name}, {"ablate_version", s.ablate_version}, {"created", s.created},
                  {"updated", s.updated.empty() ? nlohmann::json() : nlohmann::json(s.updated)}};
  out["total"] = s.total;
  out["counts"] = s.counts;
  out["best"] = nlohmann::json::array();
  for (size_t r = 0; r < s.best.size(); ++r) {
    const SummaryPoint& p = s.best[r];
    out["best"].push_back({{"rank", r + 1},
                           {"id", p.id},
                           {"case", p.case_name},
                           {"best_val_acc", number_or_null(p.best_val_acc)},
                           {"test_acc_at_best_val", number_or_null(p.test_acc_at_best_val)},
                           {"final_test_acc", number_or_null(p.final_test_acc)},
                           {"best_epoch", p.best_epoch},
                           {"epochs_done", p.epochs_done},
                           {"hyperparameters", p.hyperparameters}});
  }
  out["failed"] = nlohmann::json::array();
  for (const auto& f : s.failed) out["failed"].push_back({{"id", f.id}, {"error", f.error}});
  out["points"] = nlohmann::json::array();
  for (const auto& p : s.points)
    out["points"].push_back({{"id", p.id},
                             {"case", p.case_name},
                             {"status", p.status},
                             {"epochs_done", p.epochs_done},
                             {"best_val_acc", number_or_null(p.best_val_acc)},
                             {"test_acc_at_best_val", number_or_null(p.test_acc_at_best_val)}});
  return out;
}

}  // namespace ablate
