// bench_scheduler: the scheduler's overhead per point, with points that train
// nothing (FakeWork, one epoch, no sleep). Run under `mpirun -np 4`: rank 0
// schedules and keeps the real results ledger, the other ranks "train". Warms
// up, times one whole `ablate run` (ledger open, plan, every point, close),
// checks that every point was done exactly once, and prints one line:
//   bench=scheduler points=10000 ranks=4 seconds=... points_per_s=... us_per_point=... ok=1
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "orchestrator/exit_codes.hpp"
#include "orchestrator/fake_work.hpp"
#include "orchestrator/mpi_communicator.hpp"
#include "orchestrator/results/journal.hpp"
#include "orchestrator/run_command.hpp"

using namespace ablate;

namespace {

constexpr int kTagFinished = 100;

// A grid of `points` distinct configs: lr takes `points` values, one seed.
std::string sweep_text(int points) {
  std::string lrs;
  for (int i = 0; i < points; ++i) lrs += fmt::format("{}{}", i ? ", " : "", 0.001 + i * 1e-7);
  return fmt::format(
      "name = \"bench-scheduler\"\nseeds = [0]\n\n[base]\nmodel = \"linear\"\nhidden = []\n"
      "epochs = 1\n\n[grid]\nlr = [{}]\n",
      lrs);
}

// How many done records each point has in the journal.
std::map<std::string, int> done_counts(const std::string& journal_path) {
  std::ifstream in(journal_path);
  std::map<std::string, int> counts;
  for (std::string line; std::getline(in, line);) {
    const auto record = decode_journal_line(line);
    if (record && record->value("t", "") == "done") ++counts[record->at("id").get<std::string>()];
  }
  return counts;
}

struct Timed {
  double seconds = 0;           // the whole run: ledger open and plan, scheduling, close
  double schedule_seconds = 0;  // the scheduling loop alone
  int exit_code = -1;
  size_t trained_by_workers = 0;  // rank 0: sum over the workers
};

Timed run_once(Communicator& world, Communicator& side, const std::string& spec, const std::string& results) {
  RunOptions options;
  options.spec_path = spec;
  options.results_path = results;
  options.progress = ProgressStyle::quiet;
  options.stall_timeout_seconds = 0;
  FakeWork work;
  std::ostringstream out;
  Timed t;
  world.broadcast("", 0);  // start together
  const auto begin = std::chrono::steady_clock::now();
  RunSummary summary;
  t.exit_code = run_sweep(options, world, work, out, &summary);
  t.schedule_seconds = summary.schedule_seconds;
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  // Every worker reports how many points it trained (on a communicator of its own).
  if (world.rank() != 0) {
    side.send(0, kTagFinished, std::to_string(work.finished().size()));
  } else {
    for (int rank = 1; rank < world.size(); ++rank) t.trained_by_workers += std::stoul(side.receive(rank).payload);
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession session(&argc, &argv);
  MpiCommunicator world(MPI_COMM_WORLD);
  CLI::App app{"bench_scheduler: scheduler overhead with zero-work points (run under mpirun -np 4)"};
  int points = 10000, warmup = 500;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--points", points, "points in the timed sweep")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "points in the untimed warm-up sweep")->capture_default_str();
  app.add_option("--dir", dir, "where the results ledger is written (its fsyncs are part of the cost)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return world.rank() == 0 ? app.exit(e) : 2;
  }
  if (world.size() < 2) {
    std::cerr << "bench_scheduler: run it under mpirun with 2 or more ranks (e.g. -np 4)\n";
    return 2;
  }
  const auto side = world.split(0, world.rank());

  std::string scratch;
  if (world.rank() == 0) {
    std::string pattern = dir + "/ablate-bench-scheduler-XXXXXX";
    if (!::mkdtemp(pattern.data())) {
      std::cerr << "bench_scheduler: cannot create a directory in " << dir << "\n";
      world.abort(1);
    }
    scratch = pattern;
    std::ofstream(scratch + "/warmup.toml") << sweep_text(warmup);
    std::ofstream(scratch + "/bench.toml") << sweep_text(points);
  }
  scratch = world.broadcast(scratch, 0);

  bool ok = true;
  if (warmup > 0) ok = run_once(world, *side, scratch + "/warmup.toml", scratch + "/warmup.h5").exit_code == kExitOk;
  const Timed timed = run_once(world, *side, scratch + "/bench.toml", scratch + "/bench.h5");

  if (world.rank() == 0) {
    // The check: every point done exactly once, in the ledger and by the workers' count.
    const auto done = done_counts(scratch + "/bench.h5.journal");
    ok = ok && timed.exit_code == kExitOk && done.size() == static_cast<size_t>(points) &&
         std::all_of(done.begin(), done.end(), [](const auto& d) { return d.second == 1; }) &&
         timed.trained_by_workers == static_cast<size_t>(points);
    if (!ok)
      std::cerr << fmt::format(
          "bench_scheduler: CHECK FAILED: exit {}, {} points done in the ledger, {} trained by "
          "the workers, expected {} each once\n",
          timed.exit_code, done.size(), timed.trained_by_workers, points);
    std::cout << fmt::format(
                     "bench=scheduler points={} ranks={} workers={} seconds={:.3f} points_per_s={:.0f} "
                     "us_per_point={:.1f} schedule_seconds={:.3f} schedule_points_per_s={:.0f} ledger_dir={} ok={}",
                     points, world.size(), world.size() - 1, timed.seconds, points / timed.seconds,
                     1e6 * timed.seconds / points, timed.schedule_seconds, points / timed.schedule_seconds, dir,
                     ok ? 1 : 0)
              << std::endl;
    std::filesystem::remove_all(scratch);
  }
  return std::stoi(world.broadcast(ok ? "0" : "1", 0));
}
