// bench_scheduler: the scheduler's overhead per point, with points that train
// nothing (FakeWork, one epoch, no sleep).
//   mpirun -np 4 bench_scheduler [--points N]: rank 0 schedules and keeps the real
//     results ledger, the other ranks "train"; times one whole `ablate run` (ledger
//     open, plan, every point, close).
//   bench_scheduler --in-process-workers 1000 [--points N]: the same scheduler and
//     ledger with 1,000 simulated workers, threads of this process (ThreadChannel).
// Both warm up, check that every point was done exactly once, measure rank 0's peak
// memory (VmHWM) and, with a reader process polling the journal and the .h5 (the
// same program with --watch), how long a finished point takes to appear in the
// .h5; and print one JSON line:
//   {"bench":"scheduler","mode":"mpi","points":100000,"ranks":4,"points_per_s":...,
//    "rank0_peak_mib":...,"visible_p50_s":...,"visible_max_s":...,"ok":true}
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/scheduler/visibility_watch.hpp"
#include "orchestrator/exit_codes.hpp"
#include "orchestrator/fake_work.hpp"
#include "orchestrator/mpi_communicator.hpp"
#include "orchestrator/planned_points.hpp"
#include "orchestrator/policy/scheduling_policy.hpp"
#include "orchestrator/progress.hpp"
#include "orchestrator/results/journal.hpp"
#include "orchestrator/run_command.hpp"
#include "orchestrator/scheduler.hpp"
#include "orchestrator/thread_channel.hpp"
#include "sweeps/sweep.hpp"

#include <nlohmann/json.hpp>

extern char** environ;

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

// Rank 0's peak resident memory so far (VmHWM), in MiB.
double peak_rss_mib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  return -1;
}

// Starts this program as the visibility watcher of `results` (a reader process beside the sweep).
pid_t start_watcher(const char* self, const std::string& results, int points, const std::string& report) {
  const std::string expect = std::to_string(points);
  std::vector<std::string> args = {self, "--watch", results, "--expect", expect, "--report", report};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

struct Timed {
  double seconds = 0;           // the whole run: ledger open and plan, scheduling, close
  double schedule_seconds = 0;  // the scheduling loop alone
  RunSummary phases;            // rank 0's other phases (mpi mode)
  int exit_code = -1;
  size_t trained_by_workers = 0;  // rank 0: sum over the workers
};

Timed run_once(Communicator& world, Communicator& side, const std::string& spec, const std::string& results,
               double hand_ahead) {
  RunOptions options;
  options.hand_ahead_below_seconds = hand_ahead;
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
  t.phases = summary;
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  // Every worker reports how many points it trained (on a communicator of its own).
  if (world.rank() != 0) {
    side.send(0, kTagFinished, std::to_string(work.finished().size()));
  } else {
    for (int rank = 1; rank < world.size(); ++rank) t.trained_by_workers += std::stoul(side.receive(rank).payload);
  }
  return t;
}

// 1,000 simulated workers: the scheduler and the ledger of `ablate run`, the
// workers threads of this process, each with a FakeWork.
Timed run_in_process(int workers, const std::string& spec, const std::string& results_path, double hand_ahead) {
  const sweeps::Sweep sweep = sweeps::load_sweep(spec);
  Timed t;
  const auto begin = std::chrono::steady_clock::now();
  {
    ResultsFile results(results_path, SweepIdentity{sweep.name, sweep.source_path, sweep.spec_text},
                        ResultsFileOptions{});
    results.plan(planned_points(sweep.points));
    std::vector<std::unique_ptr<FakeWork>> works;
    std::vector<PointWork*> pointers;
    std::vector<WorkerInfo> infos;
    for (int i = 0; i < workers; ++i) {
      works.push_back(std::make_unique<FakeWork>());
      pointers.push_back(works.back().get());
      infos.push_back({"thread " + std::to_string(i), "host", "fake", "fake", "fake"});
    }
    std::ostringstream out;
    ProgressReporter progress(out, ProgressStyle::quiet, workers);
    SchedulerOptions options;
    options.stall_timeout_seconds = 0;
    options.hand_ahead_below_seconds = hand_ahead;
    ThreadChannel channel(pointers, infos);
    Scheduler scheduler(results, build_queue(sweep, results), options, progress,
                        make_policy(sweep, policy_points(sweep), results));
    const auto loop = std::chrono::steady_clock::now();
    const ScheduleOutcome outcome = scheduler.run(channel, [] { return 0; });
    t.schedule_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - loop).count();
    t.exit_code = outcome.stop == StopReason::none ? kExitOk : 1;
    t.phases.handed_ahead = outcome.handed_ahead;
    for (const auto& work : works) t.trained_by_workers += work->finished().size();
    results.close();
  }
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  return t;
}

// Every point done exactly once, in the ledger and by the workers' count.
bool check(const Timed& timed, const std::string& journal, int points) {
  const auto done = done_counts(journal);
  const bool ok = timed.exit_code == kExitOk && done.size() == static_cast<size_t>(points) &&
                  std::all_of(done.begin(), done.end(), [](const auto& d) { return d.second == 1; }) &&
                  timed.trained_by_workers == static_cast<size_t>(points);
  if (!ok)
    std::cerr << fmt::format(
        "bench_scheduler: CHECK FAILED: exit {}, {} points done in the ledger, {} trained by the workers, "
        "expected {} each once\n",
        timed.exit_code, done.size(), timed.trained_by_workers, points);
  return ok;
}

void print_result(const char* mode, int points, int ranks, int workers, const Timed& timed, double peak_mib,
                  const bench::VisibilityReport& seen, const std::string& dir, bool ok) {
  const nlohmann::json line = {{"bench", "scheduler"},
                               {"mode", mode},
                               {"points", points},
                               {"ranks", ranks},
                               {"workers", workers},
                               {"seconds", timed.seconds},
                               {"points_per_s", points / timed.seconds},
                               {"us_per_point", 1e6 * timed.seconds / points},
                               {"schedule_seconds", timed.schedule_seconds},
                               {"schedule_points_per_s", points / timed.schedule_seconds},
                               {"expand_seconds", timed.phases.expand_seconds},
                               {"ledger_seconds", timed.phases.ledger_seconds},
                               {"queue_seconds", timed.phases.queue_seconds},
                               {"close_seconds", timed.phases.close_seconds},
                               {"handed_ahead", timed.phases.handed_ahead},
                               {"rank0_peak_mib", peak_mib},
                               {"visible_points", seen.points},
                               {"visible_missing", seen.missing},
                               {"visible_p50_s", seen.p50_s},
                               {"visible_p99_s", seen.p99_s},
                               {"visible_max_s", seen.max_s},
                               {"reader_polls", seen.polls},
                               {"reader_polls_locked", seen.locked_polls},
                               {"ledger_dir", dir},
                               {"ok", ok}};
  std::cout << line.dump() << std::endl;
}

std::string make_scratch(const std::string& dir) {
  std::string pattern = dir + "/ablate-bench-scheduler-XXXXXX";
  if (!::mkdtemp(pattern.data())) return "";
  return pattern;
}

// The watcher's verdict: every point done in the journal seen in the .h5 too.
bench::VisibilityReport finish_watcher(pid_t watcher, const std::string& report) {
  int status = 0;
  if (watcher > 0) ::waitpid(watcher, &status, 0);
  return bench::read_visibility_report(report);
}

}  // namespace

int main(int argc, char** argv) {
  // The reader beside the sweep: no MPI.
  if (argc > 1 && std::string(argv[1]) == "--watch") {
    CLI::App watch{"bench_scheduler --watch: the reader process beside a sweep"};
    std::string results, report;
    size_t expect = 0;
    double poll = 1.0, timeout = 900;
    watch.add_option("--watch", results)->required();
    watch.add_option("--expect", expect)->required();
    watch.add_option("--report", report)->required();
    watch.add_option("--poll", poll);
    watch.add_option("--timeout", timeout);
    CLI11_PARSE(watch, argc, argv);
    return bench::watch_visibility(results, expect, poll, timeout, report);
  }

  CLI::App app{"bench_scheduler: scheduler and results-ledger overhead with zero-work points"};
  int points = 10000, warmup = 500, in_process_workers = 0;
  bool watch = true;
  double hand_ahead = RunOptions{}.hand_ahead_below_seconds;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--points", points, "points in the timed sweep")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "points in the untimed warm-up sweep")->capture_default_str();
  app.add_option("--dir", dir, "where the results ledger is written (its fsyncs are part of the cost)")
      ->capture_default_str();
  app.add_option("--in-process-workers", in_process_workers,
                 "simulate this many workers as threads of one process instead of MPI ranks (e.g. 1000)");
  app.add_option("--hand-ahead", hand_ahead, "as ablate run --hand-ahead (0: every assignment waits for a report)")
      ->capture_default_str();
  app.add_flag("!--no-watch", watch, "no reader process measuring when points appear in the .h5");

  if (std::find_if(argv, argv + argc, [](const char* a) { return std::string(a) == "--in-process-workers"; }) !=
      argv + argc) {
    CLI11_PARSE(app, argc, argv);
    const std::string scratch = make_scratch(dir);
    if (scratch.empty()) {
      std::cerr << "bench_scheduler: cannot create a directory in " << dir << "\n";
      return 1;
    }
    std::ofstream(scratch + "/warmup.toml") << sweep_text(warmup);
    std::ofstream(scratch + "/bench.toml") << sweep_text(points);
    bool ok = warmup <= 0 ||
              run_in_process(in_process_workers, scratch + "/warmup.toml", scratch + "/warmup.h5", hand_ahead)
                      .exit_code == kExitOk;
    const std::string report = scratch + "/visibility.json";
    const pid_t watcher = watch ? start_watcher(argv[0], scratch + "/bench.h5", points, report) : -1;
    const Timed timed =
        run_in_process(in_process_workers, scratch + "/bench.toml", scratch + "/bench.h5", hand_ahead);
    const auto seen = watch ? finish_watcher(watcher, report) : bench::VisibilityReport{};
    ok = ok && check(timed, scratch + "/bench.h5.journal", points) && (!watch || seen.missing == 0);
    print_result("in_process", points, 1, in_process_workers, timed, peak_rss_mib(), seen, dir, ok);
    std::filesystem::remove_all(scratch);
    return ok ? 0 : 1;
  }

  MpiSession session(&argc, &argv);
  MpiCommunicator world(MPI_COMM_WORLD);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return world.rank() == 0 ? app.exit(e) : 2;
  }
  if (world.size() < 2) {
    std::cerr << "bench_scheduler: run it under mpirun with 2 or more ranks (e.g. -np 4), or with "
                 "--in-process-workers N\n";
    return 2;
  }
  const auto side = world.split(0, world.rank());

  std::string scratch;
  if (world.rank() == 0) {
    scratch = make_scratch(dir);
    if (scratch.empty()) {
      std::cerr << "bench_scheduler: cannot create a directory in " << dir << "\n";
      world.abort(1);
    }
    std::ofstream(scratch + "/warmup.toml") << sweep_text(warmup);
    std::ofstream(scratch + "/bench.toml") << sweep_text(points);
  }
  scratch = world.broadcast(scratch, 0);

  bool ok = true;
  if (warmup > 0)
    ok = run_once(world, *side, scratch + "/warmup.toml", scratch + "/warmup.h5", hand_ahead).exit_code == kExitOk;
  const std::string report = scratch + "/visibility.json";
  const pid_t watcher =
      world.rank() == 0 && watch ? start_watcher(argv[0], scratch + "/bench.h5", points, report) : -1;
  const Timed timed = run_once(world, *side, scratch + "/bench.toml", scratch + "/bench.h5", hand_ahead);

  if (world.rank() == 0) {
    const auto seen = watch ? finish_watcher(watcher, report) : bench::VisibilityReport{};
    ok = ok && check(timed, scratch + "/bench.h5.journal", points) && (!watch || seen.missing == 0);
    print_result("mpi", points, world.size(), world.size() - 1, timed, peak_rss_mib(), seen, dir, ok);
    std::filesystem::remove_all(scratch);
  }
  return std::stoi(world.broadcast(ok ? "0" : "1", 0));
}
