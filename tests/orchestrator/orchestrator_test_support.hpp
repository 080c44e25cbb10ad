// Shared fixtures of the scheduler and `ablate run` tests: a scratch directory,
// the fixture sweeps, and readers of the ledger that count what it recorded.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "orchestrator/communicator.hpp"
#include "orchestrator/results/journal.hpp"
#include "orchestrator/results/results_file.hpp"
#include "sweeps/sweep.hpp"

namespace ablate::test {

// A fresh directory under $TMPDIR (or /tmp), removed with its content.
class Scratch {
 public:
  Scratch() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/ablate-orch-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~Scratch() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream out(file(name));
    out << text;
    if (!out) throw std::runtime_error("cannot write " + file(name));
    return file(name);
  }

 private:
  std::string path_;
};

// tests/orchestrator/data/<name>, found through ABLATE_SOURCE_DIR (set by CMake)
// or relative to the working directory.
inline std::string fixture(const std::string& name) {
  const char* root = std::getenv("ABLATE_SOURCE_DIR");
  const std::string base = root && *root ? std::string(root) : std::string(".");
  return base + "/tests/orchestrator/data/" + name;
}

// The fixture sweep fake.toml as text: 3 widths x 2 learning rates x 2 seeds, 3 epochs.
inline std::string fake_sweep_text(const std::string& widths = "[[64], [256], [128]]") {
  return "name = \"fake\"\nseeds = [0, 1]\n\n[base]\nmodel = \"mlp\"\nepochs = 3\n\n[grid]\nhidden = " + widths +
         "\nlr = [0.1, 0.5]\n";
}

// (first hidden width, lr, seed) of a point of a fake sweep: how the tests name points.
using PointKey = std::tuple<int, double, int>;
inline PointKey key_of(const sweeps::SweepPoint& p) {
  return {p.config.at("hidden").at(0).get<int>(), p.config.at("lr").get<double>(), p.seed};
}
inline std::map<std::string, PointKey> keys_by_id(const sweeps::Sweep& sweep) {
  std::map<std::string, PointKey> keys;
  for (const auto& p : sweep.points) keys[p.id] = key_of(p);
  return keys;
}

// How many records of type `type` ("done", "start", "fail", "epoch") the journal holds per point.
// Each point's status in the ledger at `results_path` (opened as a reader would
// after the run; any sweep accepted), by point ID.
inline std::map<std::string, PointStatus> ledger_statuses(const std::string& results_path,
                                                          const sweeps::Sweep& sweep) {
  ResultsFile results(results_path, SweepIdentity{sweep.name, sweep.source_path, sweep.spec_text},
                      ResultsFileOptions{true, 0, [](const std::string&) {}});
  std::map<std::string, PointStatus> out;
  for (const auto& p : sweep.points) out[p.id] = results.status(p.id);
  return out;
}

inline int count_status(const std::map<std::string, PointStatus>& statuses, PointStatus wanted) {
  return static_cast<int>(
      std::count_if(statuses.begin(), statuses.end(), [&](const auto& s) { return s.second == wanted; }));
}

inline std::map<std::string, int> journal_counts(const std::string& journal_path, const std::string& type) {
  std::ifstream in(journal_path);
  if (!in) throw std::runtime_error("cannot read " + journal_path);
  std::map<std::string, int> counts;
  std::string line;
  while (std::getline(in, line)) {
    const auto record = decode_journal_line(line);
    if (record && record->value("t", "") == type) ++counts[record->at("id").get<std::string>()];
  }
  return counts;
}

// A single rank whose abort() throws instead of ending the test process.
struct AbortCalled {
  int exit_code;
};
class TestCommunicator : public SingleRankCommunicator {
 public:
  [[noreturn]] void abort(int exit_code) override { throw AbortCalled{exit_code}; }
};

}  // namespace ablate::test
