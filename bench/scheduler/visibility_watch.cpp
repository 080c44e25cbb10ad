// The reader beside the sweep: journal tail and .h5 polls, timestamps per point.
#include "bench/scheduler/visibility_watch.hpp"

#include "orchestrator/results/hdf5_check.hpp"
#include "orchestrator/results/hdf5_read.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>
#include <unordered_map>
#include <vector>

namespace ablate::bench {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// New done records since `offset`: the IDs, by a substring search (a full JSON parse
// of every record would compete with the sweep for the CPU).
void tail_journal(const std::string& path, std::streamoff& offset, double t,
                  std::unordered_map<std::string, double>& seen) {
  std::ifstream in(path, std::ios::binary);
  if (!in || !in.seekg(offset)) return;
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written: read it next time
    offset += static_cast<std::streamoff>(line.size() + 1);
    if (line.find("\"t\":\"done\"") == std::string::npos) continue;
    const auto at = line.find("\"id\":\"");
    if (at == std::string::npos) continue;
    const std::string id = line.substr(at + 6, line.find('"', at + 6) - at - 6);
    seen.try_emplace(id, t);
  }
}

// The points done in the .h5 now; false when it could not be read (locked by the writer).
bool done_in_file(const std::string& path, std::vector<std::string>& ids, std::vector<std::string>& statuses) {
  try {
    const H5Reader reader(path);
    H5Id file = reader.open_file();
    H5Id index = reader.open_dataset(file, "index");
    ids = reader.column_strings(index, "id");
    statuses = reader.column_strings(index, "status");
    return true;
  } catch (const ResultsError&) {
    return false;
  }
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())))];
}

}  // namespace

int watch_visibility(const std::string& results_path, size_t expected_points, double poll_s, double timeout_s,
                     const std::string& report_path) {
  silence_hdf5_error_printing();
  std::unordered_map<std::string, double> in_journal, in_file;
  std::streamoff offset = 0;
  VisibilityReport report;
  const double give_up = now_s() + timeout_s;
  std::vector<std::string> ids, statuses;
  while (in_file.size() < expected_points && now_s() < give_up) {
    const double t = now_s();
    tail_journal(results_path + ".journal", offset, t, in_journal);
    ++report.polls;
    if (done_in_file(results_path, ids, statuses)) {
      for (size_t i = 0; i < ids.size(); ++i)
        if (statuses[i] == "done") in_file.try_emplace(ids[i], t);
    } else {
      ++report.locked_polls;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(poll_s));
  }
  std::vector<double> latency;
  for (const auto& [id, t] : in_journal) {
    const auto it = in_file.find(id);
    if (it == in_file.end()) ++report.missing;
    else latency.push_back(std::max(0.0, it->second - t));
  }
  report.points = latency.size();
  nlohmann::json out = {{"points", report.points},
                        {"missing", report.missing},
                        {"p50_s", quantile(latency, 0.5)},
                        {"p99_s", quantile(latency, 0.99)},
                        {"max_s", latency.empty() ? 0 : *std::max_element(latency.begin(), latency.end())},
                        {"polls", report.polls},
                        {"locked_polls", report.locked_polls}};
  std::ofstream(report_path) << out.dump() << "\n";
  return 0;
}

VisibilityReport read_visibility_report(const std::string& report_path) {
  std::ifstream in(report_path);
  VisibilityReport report;
  nlohmann::json json;
  try {
    in >> json;
  } catch (const nlohmann::json::exception&) {
    report.missing = static_cast<size_t>(-1);
    return report;
  }
  report.points = json.at("points");
  report.missing = json.at("missing");
  report.p50_s = json.at("p50_s");
  report.p99_s = json.at("p99_s");
  report.max_s = json.at("max_s");
  report.polls = json.at("polls");
  report.locked_polls = json.at("locked_polls");
  return report;
}

}  // namespace ablate::bench
