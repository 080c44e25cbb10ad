// bench_ledger: the results ledger alone, the part of rank 0's work that grows
// with the sweep: plan N points, start/epoch/finish each, close (the final HDF5
// render and atomic replace), then reopen it in a child process as a resume does
// (its whole journal replayed; peak memory its own). No MPI. Prints one line:
//   bench=ledger points=10000 open_s=... plan_s=... events_s=... close_s=... us_per_point=...
//   reopen_s=... reopen_peak_mib=...
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "orchestrator/results/results_file.hpp"
#include "core/config.hpp"

using namespace ablate;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// N distinct linear-model configs (lr varies), as a sweep of one grid axis plans them.
std::vector<PlannedPoint> planned_points(int n) {
  std::vector<PlannedPoint> points;
  for (int i = 0; i < n; ++i) {
    const nlohmann::json canonical = canonicalize_config({{"model", "linear"}, {"lr", 0.001 + i * 1e-7}, {"epochs", 1}});
    points.push_back({config_id(canonical), canonical_text(canonical), "default", 0, -1, ""});
  }
  return points;
}

TrainResult one_epoch_result(const EpochMetrics& epoch) {
  TrainResult result;
  result.curves = {epoch};
  result.confusion_test.assign(kNumClasses * kNumClasses, 1);
  result.confusion_val.assign(kNumClasses * kNumClasses, 1);
  result.per_class_acc.assign(kNumClasses, 0.5);
  result.best_epoch = 1;
  return result;
}

// A resume's first step: opening the finished ledger replays its whole journal.
struct Reopened {
  double seconds = -1, peak_mib = 0;
};

Reopened reopen(const std::string& path) {
  Reopened r;
  const auto start = std::chrono::steady_clock::now();
  ResultsFile::Options options;
  options.on_warning = [](const std::string& w) { std::cerr << "bench_ledger (reopen): " << w << "\n"; };
  ResultsFile again(path, {"bench-ledger", "bench.toml", "bench"}, options);
  r.seconds = seconds_since(start);
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) r.peak_mib = std::stod(line.substr(6)) / 1024;
  again.close();
  return r;
}

// The same in a fresh process (this program with --reopen), so that the peak
// memory is the reopening's own, not this process's ledger's.
Reopened reopen_in_fresh_process(const std::string& path) {
  int pipe_ends[2];
  if (::pipe(pipe_ends) != 0) return {};
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(pipe_ends[1], STDOUT_FILENO);
    ::close(pipe_ends[0]);
    ::close(pipe_ends[1]);
    ::execl("/proc/self/exe", "bench_ledger", "--reopen", path.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_ends[1]);
  std::string out;
  char buffer[256];
  for (ssize_t n; (n = ::read(pipe_ends[0], buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<size_t>(n));
  ::close(pipe_ends[0]);
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
  Reopened r;
  if (std::sscanf(out.c_str(), "%lf %lf", &r.seconds, &r.peak_mib) != 2) return {};
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_ledger: the results ledger's cost per point (plan, events, final write)"};
  int points = 10000;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--points", points, "points planned and finished")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--dir", dir, "where the ledger is written")->capture_default_str();
  std::string reopen_path;
  app.add_option("--reopen", reopen_path, "only reopen this ledger and print its seconds and peak MiB (internal)");
  CLI11_PARSE(app, argc, argv);
  if (!reopen_path.empty()) {
    const Reopened r = reopen(reopen_path);
    std::cout << fmt::format("{} {}", r.seconds, r.peak_mib) << std::endl;
    return 0;
  }

  std::string scratch = dir + "/ablate-bench-ledger-XXXXXX";
  if (!::mkdtemp(scratch.data())) {
    std::cerr << "bench_ledger: cannot create a directory in " << dir << "\n";
    return 1;
  }
  const auto planned = planned_points(points);
  ResultsFile::Options options;
  options.flush_interval_seconds = 1e9;  // as in a short sweep: no rewrite between plan and close
  options.on_warning = [](const std::string& w) { std::cerr << "bench_ledger: " << w << "\n"; };

  auto start = std::chrono::steady_clock::now();
  ResultsFile ledger(scratch + "/bench.h5", {"bench-ledger", "bench.toml", "bench"}, options);
  const double open_s = seconds_since(start);
  start = std::chrono::steady_clock::now();
  ledger.plan(planned);
  const double plan_s = seconds_since(start);
  start = std::chrono::steady_clock::now();
  for (const auto& p : planned) {
    ledger.start_point(p.id, {"host", "cpu", "torch"});
    EpochMetrics epoch;
    epoch.epoch = 1;
    ledger.record_epoch(p.id, epoch);
    ledger.finish_point(p.id, one_epoch_result(epoch));
  }
  const double events_s = seconds_since(start);
  start = std::chrono::steady_clock::now();
  ledger.close();
  const double close_s = seconds_since(start);
  const Reopened reopened = reopen_in_fresh_process(scratch + "/bench.h5");
  std::filesystem::remove_all(scratch);

  std::cout << fmt::format(
                   "bench=ledger points={} open_s={:.3f} plan_s={:.3f} events_s={:.3f} close_s={:.3f} "
                   "us_per_point={:.1f} reopen_s={:.3f} reopen_peak_mib={:.0f} dir={}",
                   points, open_s, plan_s, events_s, close_s, 1e6 * (open_s + plan_s + events_s + close_s) / points,
                   reopened.seconds, reopened.peak_mib, dir)
            << std::endl;
  return reopened.seconds >= 0 ? 0 : 1;
}
