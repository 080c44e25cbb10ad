// `ablate run`: validate on every rank, agree, schedule on rank 0, train elsewhere.
#include "orchestrator/run_command.hpp"

#include "orchestrator/checkpoint_files.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "ablate/version.hpp"
#include "core/config.hpp"
#include "orchestrator/device_placement.hpp"
#include "orchestrator/exit_codes.hpp"
#include "orchestrator/messages.hpp"
#include "orchestrator/mpi_channel.hpp"
#include "orchestrator/pack_size.hpp"
#include "orchestrator/planned_points.hpp"
#include "orchestrator/results/results_file.hpp"
#include "orchestrator/scheduler.hpp"
#include "orchestrator/stop_signals.hpp"
#include "orchestrator/thread_channel.hpp"
#include "sweeps/sweep.hpp"

namespace ablate {
namespace {

constexpr int kScheduler = 0;

double seconds_since(std::chrono::steady_clock::time_point begin) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

// What one rank prepared before the ranks compare notes.
struct Startup {
  std::exception_ptr error;
  std::string fingerprint;
  std::optional<sweeps::Sweep> sweep;
  std::unique_ptr<ResultsFile> results;
  std::vector<int> worker_ranks;
  int ranks_per_point = 1;  // the ranks of each worker group
  WorkPlacement placement;
  std::string device;
  std::map<std::string, std::vector<int>> ranks_by_host;  // rank 0's, from every rank's hello
};

// A worker as the scheduler records it; device_detail, for people, from its device and threads.
WorkerInfo worker_info(std::string name, std::string host, std::string device, std::string software, int threads,
                       int ranks) {
  std::string detail = fmt::format("{}, {}", device, threads == 1 ? "1 thread" : fmt::format("{} threads", threads));
  return {std::move(name), std::move(host), std::move(device), std::move(software), std::move(detail), threads, ranks};
}

int exit_code_for(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const OptionError&) {
    return kExitUsage;
  } catch (...) {
    return kExitError;
  }
}

std::string message_of(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an unknown error";
  }
}

uint64_t fnv1a(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

struct StatusCounts {
  int done = 0, failed = 0, pending = 0;  // running and paused count as pending: unfinished
  int stopped = 0;                        // stopped early (finished; not in done)
};

// How many points the sweep runs: its planned points, or a search's budget
// (trials x seeds), most of which are not planned yet.
int sweep_budget(const sweeps::Sweep& sweep) {
  if (!sweep.search) return static_cast<int>(sweep.points.size());
  return sweep.search->settings.trials * static_cast<int>(sweep.seeds.size());
}

StatusCounts count_statuses(const sweeps::Sweep& sweep, const ResultsFile& results) {
  std::vector<PointStatus> statuses;
  if (sweep.search) {  // the trials suggested so far
    for (const auto& p : results.points())
      if (p.planned.trial >= 0) statuses.push_back(p.status);
  } else {
    for (const auto& point : sweep.points) statuses.push_back(results.status(point.id));
  }
  StatusCounts counts;
  for (const PointStatus status : statuses) {
    if (status == PointStatus::done) ++counts.done;
    else if (status == PointStatus::stopped) ++counts.stopped;
    else if (status == PointStatus::failed) ++counts.failed;
  }
  counts.pending = sweep_budget(sweep) - counts.done - counts.stopped - counts.failed;  // unsuggested trials too
  return counts;
}

// "2 points" or, for a search, "search tpe: 64 trials x 2 seeds = 128 points (10 random first)".
std::string budget_text(const sweeps::Sweep& sweep) {
  const int points = sweep_budget(sweep);
  if (!sweep.search) return fmt::format("{} point{}", points, points == 1 ? "" : "s");
  const sweeps::SearchSettings& search = sweep.search->settings;
  return fmt::format("search {} (seed {}): {} trials x {} seeds = {} points{}", search.method, search.seed,
                     search.trials, sweep.seeds.size(), points,
                     search.method == "tpe" ? fmt::format(" ({} random first)", search.startup_trials) : "");
}

// Rank 0's part after the handshake: the sweep's ledger, planned and ready.
void open_ledger(Startup& s, const RunOptions& options, ProgressReporter& progress) {
  ResultsFileOptions results_options;
  results_options.allow_different_sweep = options.allow_different_sweep;
  results_options.flush_interval_seconds = options.flush_interval_seconds;
  results_options.on_warning = [&progress](const std::string& text) { progress.note("warning: " + text); };
  const sweeps::Sweep& sweep = *s.sweep;
  s.results = std::make_unique<ResultsFile>(
      options.results_path, SweepIdentity{sweep.name, sweep.source_path, sweep.spec_text}, results_options);
  s.results->plan(planned_points(sweep.points));
  if (options.retry_failed) s.results->reset_failed();
}

// A worker's part before the handshake: where it trains, and whether it can.
void prepare_worker(Startup& s, const RunOptions& options, PointWork& work, Communicator& node_workers) {
  s.placement = place_worker(options.device, node_workers.rank(), node_workers.size(), cores_on_this_node(),
                             cores_usable_by_this_process(), options.threads, options.workers_per_gpu);
  s.device = work.prepare(s.placement);
}

// Every worker says hello to rank 0, which checks them all and sends each a
// verdict: "" to go, else "exit_code\nmessage". Returns rank 0's view of the workers.
std::vector<WorkerInfo> handshake(Communicator& comm, Startup& s, PointWork& work, std::string& verdict) {
  std::vector<WorkerInfo> infos;
  if (comm.rank() != kScheduler) {
    Hello hello{s.fingerprint, comm.host(), s.device, work.software_version(), s.placement.threads, "", 0};
    if (s.error) hello.error = message_of(s.error), hello.exit_code = exit_code_for(s.error);
    comm.send(kScheduler, static_cast<int>(MessageTag::hello), encode_hello(hello));
  } else {
    std::string problem;
    int problem_code = 0;
    s.ranks_by_host[comm.host()].push_back(kScheduler);
    for (int rank = 1; rank < comm.size(); ++rank) {
      const Message message = comm.receive(rank);
      if (message.tag != static_cast<int>(MessageTag::hello))
        throw MessageError(fmt::format("rank 0 expected a hello from rank {}, got tag {}", rank, message.tag));
      const Hello hello = decode_hello(message.payload);
      s.ranks_by_host[hello.host].push_back(rank);
      if (problem.empty() && !hello.error.empty()) {
        problem = fmt::format("rank {} (host {}) cannot start: {}", rank, hello.host, hello.error);
        problem_code = hello.exit_code;
      } else if (problem.empty() && !s.error && hello.fingerprint != s.fingerprint) {
        problem = fmt::format(
            "rank {} (host {}) runs '{}' but rank 0 ({}) runs '{}': every rank must run the same "
            "ablate build on the same sweep file; install one build on a shared path and "
            "make sure every node reads the same spec",
            rank, hello.host, hello.fingerprint, comm.host(), s.fingerprint);
        problem_code = kExitError;
      }
      if (std::find(s.worker_ranks.begin(), s.worker_ranks.end(), rank) != s.worker_ranks.end())
        infos.push_back(worker_info(fmt::format("rank {}", rank), hello.host, hello.device, hello.software,
                                    hello.threads, s.ranks_per_point));
    }
    if (s.error)
      verdict = fmt::format("{}\n{}", exit_code_for(s.error), message_of(s.error));
    else if (!problem.empty())
      verdict = fmt::format("{}\n{}", problem_code, problem);
  }
  // Point to point, not a broadcast: a worker waits here while rank 0 expands the
  // sweep, and a sleeping poll leaves it the CPU.
  if (comm.rank() == kScheduler) {
    for (int rank = 1; rank < comm.size(); ++rank) comm.send(rank, static_cast<int>(MessageTag::start), verdict);
  } else {
    const Message message = comm.receive(kScheduler);
    if (message.tag != static_cast<int>(MessageTag::start))
      throw MessageError(fmt::format("rank {} expected rank 0's verdict on the start, got tag {}", comm.rank(),
                                     message.tag));
    verdict = message.payload;
  }
  return infos;
}

std::string plural(int n, const char* noun) { return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s"); }

// "packs: up to 4 points of one shape per worker (--pack 4); 36 points to run in 3 shapes", or with
// --pack auto the size picked for each shape: "packs: --pack auto (cpu): 8 points per pack for 12 points, ...".
// A [search] sweep's points come as it runs: the line says so instead of counting them.
std::string pack_line(int pack, const std::string& device, const std::vector<QueuedPoint>& queue, bool search) {
  std::map<std::string, std::pair<int, int>> shapes;  // pack key -> (points, K)
  for (const auto& q : queue) {
    const nlohmann::json config = nlohmann::json::parse(q.item.config_text);
    auto& [points, k] = shapes[pack_key(config)];
    ++points;
    k = pack_size_for(pack, config, device);
  }
  const std::string where =
      search ? "a search's points join packs as they are suggested"
             : fmt::format("{} to run in {}", plural(static_cast<int>(queue.size()), "point"),
                           plural(static_cast<int>(shapes.size()), "shape"));
  if (pack != kPackAuto)
    return fmt::format("packs: up to {} of one shape per worker (--pack {}); {}", plural(pack, "point"), pack, where);
  std::map<int, int> points_by_k;
  for (const auto& [key, counts] : shapes) points_by_k[counts.second] += counts.first;
  std::vector<std::string> parts;
  for (auto it = points_by_k.rbegin(); it != points_by_k.rend(); ++it)
    parts.push_back(fmt::format("{} per pack for {}", plural(it->first, "point"), plural(it->second, "point")));
  return fmt::format("packs: --pack {}: {}{}{}", pack_option_text(pack, device), fmt::join(parts, ", "),
                     parts.empty() ? "" : "; ", where);
}

// Rank 0, once the results file is closed: every other rank may end.
void release_ranks(Communicator& comm) {
  for (int rank = 0; rank < comm.size(); ++rank)
    if (rank != kScheduler) comm.send(rank, static_cast<int>(MessageTag::closed), "");
}

// A worker or follower with nothing left to do waits for rank 0 to finish writing.
void wait_until_released(Communicator& comm) {
  while (comm.receive(kScheduler).tag != static_cast<int>(MessageTag::closed)) {
  }
}

// Rank 0, after the handshake: the sweep, scheduled to the end (or a stop).
int schedule(const RunOptions& options, Communicator& comm, PointWork& work, Startup& s, std::vector<WorkerInfo> infos,
             ProgressReporter& progress, std::ostream& out, RunSummary* summary) {
  const sweeps::Sweep& sweep = *s.sweep;
  ResultsFile& results = *s.results;
  const auto queue_begin = std::chrono::steady_clock::now();
  std::vector<QueuedPoint> queue = build_queue(sweep, results);
  const StatusCounts before = count_statuses(sweep, results);
  // Checkpoints are kept for unfinished points only.
  const auto unfinished = [&results](const std::string& id) {
    try {
      const PointStatus status = results.status(id);
      return status == PointStatus::pending || status == PointStatus::running || status == PointStatus::paused;
    } catch (const ResultsError&) {  // not a point of this ledger
      return false;
    }
  };
  prune_checkpoints(results.path(), unfinished);

  out << fmt::format("ablate run: sweep '{}' ({}): {}; {} done, {} failed, {} to run\n", sweep.name, sweep.source_path,
                     budget_text(sweep), before.done, before.failed,
                     sweep.search ? before.pending : static_cast<int>(queue.size()));
  if (before.failed > 0 && !options.retry_failed)
    out << fmt::format("  {} skipped: --retry-failed runs them again\n", plural(before.failed, "failed point"));
  out << fmt::format("results: {} (journal {})\n", results.path(), results.journal_path());
  std::unique_ptr<SchedulingPolicy> policy = make_policy(sweep, policy_points(sweep), results);
  if (const std::string how = policy->describe(); !how.empty()) out << how << "\n";
  if (comm.size() == 1) {
    out << fmt::format("workers: 1, in this process on {} ({})\n", comm.host(), infos.front().device_detail);
  } else {
    std::set<std::string> hosts;
    std::map<std::string, int> devices;  // "cpu, 1 thread" -> workers
    for (const auto& info : infos) hosts.insert(info.host), ++devices[info.device_detail];
    std::vector<std::string> device_counts;
    for (const auto& [detail, n] : devices) device_counts.push_back(fmt::format("{} x {}", n, detail));
    const int workers = static_cast<int>(infos.size());
    const std::string worker_count =
        options.ranks_per_point > 1
            ? fmt::format("{} of {} ranks (data-parallel)", plural(workers, "group"), options.ranks_per_point)
            : plural(workers, "rank");
    out << fmt::format("workers: {} on {} ({}; rank 0 schedules): {}\n", worker_count,
                       plural(static_cast<int>(hosts.size()), "host"), fmt::join(hosts, ", "),
                       fmt::join(device_counts, "; "));
    // Every rank, group followers included: "ranks by host: node1 0-3; node2 4-7".
    std::vector<std::string> by_host;
    for (const auto& [host, ranks] : s.ranks_by_host) {
      std::vector<std::string> runs;  // consecutive ranks as one range
      for (size_t i = 0; i < ranks.size();) {
        size_t j = i + 1;
        while (j < ranks.size() && ranks[j] == ranks[j - 1] + 1) ++j;
        runs.push_back(j - i == 1 ? std::to_string(ranks[i]) : fmt::format("{}-{}", ranks[i], ranks[j - 1]));
        i = j;
      }
      by_host.push_back(fmt::format("{} {}", host, fmt::join(runs, ",")));
    }
    out << fmt::format("ranks by host: {}\n", fmt::join(by_host, "; "));
  }
  SchedulerOptions scheduler_options;
  scheduler_options.max_consecutive_failures = options.max_consecutive_failures;
  scheduler_options.stall_timeout_seconds = options.stall_timeout_seconds;
  scheduler_options.hand_ahead_below_seconds = options.hand_ahead_below_seconds;
  if (options.pack != 1) {
    const std::string device = infos.front().device;  // --pack auto sizes packs for the first worker's device
    scheduler_options.pack_size = [pack = options.pack, device](const std::string& config_text) {
      return pack_size_for(pack, nlohmann::json::parse(config_text), device);
    };
    out << pack_line(options.pack, device, queue, sweep.search.has_value()) << "\n";
    scheduler_options.max_pack = options.pack != kPackAuto ? options.pack : kMaxAutoPack;
    if (options.pack == kPackAuto && !queue.empty()) {
      scheduler_options.max_pack = 1;
      for (const auto& q : queue)
        scheduler_options.max_pack = std::max(scheduler_options.max_pack,
                                              auto_pack_size(nlohmann::json::parse(q.item.config_text), device));
    }
  }
  out.flush();

  if (summary) summary->queue_seconds = seconds_since(queue_begin);
  progress.begin(sweep_budget(sweep), before.done + before.stopped, before.failed,
                 sweep.search ? before.pending : static_cast<int>(queue.size()));
  Scheduler scheduler(results, std::move(queue), scheduler_options, progress, std::move(policy));
  const auto stop_signal = [] { return StopSignals::received(); };

  // After a stall the worker may hang for good: close the ledger and end the job
  // without waiting for it (a local training thread could not even be joined).
  const auto abort_after_stall = [&](const ScheduleOutcome& stalled) {
    progress.end();
    results.close();
    out << fmt::format("ablate run: aborted: {}\nresults so far are in {}; rerun the same command to resume\n",
                       stalled.stop_message, results.path());
    comm.abort(kExitIncomplete);
  };
  ScheduleOutcome outcome;
  const auto begin = std::chrono::steady_clock::now();
  if (comm.size() == 1) {
    ThreadChannel channel({&work}, infos, [] { return StopSignals::received() != 0; });
    outcome = scheduler.run(channel, stop_signal);
    if (outcome.stop == StopReason::stalled) abort_after_stall(outcome);
  } else {
    MpiChannel channel(comm, s.worker_ranks, infos);
    outcome = scheduler.run(channel, stop_signal);
    if (outcome.stop == StopReason::stalled) abort_after_stall(outcome);
  }
  if (summary) {
    summary->schedule_seconds = seconds_since(begin);
    summary->done = outcome.done, summary->failed = outcome.failed, summary->interrupted = outcome.interrupted;
    summary->packs = outcome.packs, summary->largest_pack = outcome.largest_pack;
    summary->handed_ahead = outcome.handed_ahead;
  }
  progress.end();
  const auto close_begin = std::chrono::steady_clock::now();
  results.close();
  if (summary) summary->close_seconds = seconds_since(close_begin);
  prune_checkpoints(results.path(), unfinished);

  const StatusCounts after = count_statuses(sweep, results);
  out << fmt::format("ablate run: {} done, {}{} failed, {} unfinished of {} ({} trained to the end, {}{} failed "
                     "in this run)\n",
                     after.done,
                     sweep.early_stopping ? fmt::format("{} stopped early ({}), ", after.stopped,
                                                        sweep.early_stopping->method)
                                          : "",
                     after.failed, after.pending, plural(sweep_budget(sweep), "point"),
                     outcome.done,
                     sweep.early_stopping ? fmt::format("{} paused at a rung, ", outcome.paused) : "",
                     outcome.failed);
  out << fmt::format("results: {}; `ablate status {}` shows the best points\n", results.path(), results.path());
  if (after.pending > 0) {  // a stop that came after the last point finished leaves nothing undone
    out << "incomplete: rerun the same command to resume (done points are kept, unfinished ones restart)\n";
    return kExitIncomplete;
  }
  if (after.failed > 0) {
    out << "some points failed: `ablate status` lists their errors; --retry-failed runs them again\n";
    return kExitFailures;
  }
  return kExitOk;
}

}  // namespace

void validate_run_options(const RunOptions& o) {
  if (o.spec_path.empty()) throw OptionError("no sweep file given: ablate run SWEEP.toml -o RESULTS.h5");
  if (o.results_path.empty())
    throw OptionError("no results file given: add -o RESULTS.h5 (a new file, or one to resume)");
  if (o.device != "auto" && o.device != "cpu" && o.device != "cuda")
    throw OptionError(fmt::format("--device {}: use auto, cpu or cuda", o.device));
  if (o.threads < 0) throw OptionError(fmt::format("--threads {}: use 0 (automatic) or a positive count", o.threads));
  if (o.max_consecutive_failures < 0)
    throw OptionError(fmt::format("--max-consecutive-failures {}: use 0 (never stop) or a positive count",
                                  o.max_consecutive_failures));
  if (!(o.stall_timeout_seconds >= 0) || !std::isfinite(o.stall_timeout_seconds))
    throw OptionError(
        fmt::format("--stall-timeout {}: use seconds >= 0 (0 turns the watch off)", o.stall_timeout_seconds));
  if (!(o.hand_ahead_below_seconds >= 0) || !std::isfinite(o.hand_ahead_below_seconds))
    throw OptionError(fmt::format("--hand-ahead {}: use seconds >= 0 (0: a worker gets its next point only when it "
                                  "reports the last one's end)",
                                  o.hand_ahead_below_seconds));
  if (o.ranks_per_point < 1) throw OptionError(fmt::format("--ranks-per-point {}: use 1 or more", o.ranks_per_point));
  if (o.workers_per_gpu < 1) throw OptionError(fmt::format("--workers-per-gpu {}: use 1 or more", o.workers_per_gpu));
  if (o.pack != kPackAuto && (o.pack < 1 || o.pack > kMaxPack))
    throw OptionError(fmt::format("--pack {}: use 1 to {} points per pack, or auto", o.pack, kMaxPack));
  check_pack_with_ranks_per_point(o.pack, o.ranks_per_point);
  if (!(o.flush_interval_seconds >= 0))
    throw OptionError(fmt::format("flush interval {}: use seconds >= 0", o.flush_interval_seconds));
}

std::string run_fingerprint(const std::string& spec_text) {
  return fmt::format("ablate {} (commit {}), spec {:016x}", kVersion, kGitCommit, fnv1a(spec_text));
}

int run_sweep(const RunOptions& options, Communicator& comm, PointWork& work, std::ostream& out, RunSummary* summary) {
  const StopSignals signals;
  const bool is_scheduler = comm.rank() == kScheduler;
  const bool is_worker = comm.size() == 1 || !is_scheduler;
  ProgressReporter progress(out, options.progress, std::max(1, comm.size() - 1));

  // Collective, and first: rank 0 then expands the sweep while the others wait for its
  // verdict in a sleeping poll (in a collective they would spin and, with more ranks
  // than cores, take the CPU the expansion needs).
  const auto node = comm.split_node();
  const auto node_workers = node->split(is_worker ? 1 : 0, node->rank());

  // 1. Everything that can be wrong is checked on every rank before any point trains
  //    (and before the results file is touched).
  Startup s;
  try {
    validate_run_options(options);
    s.worker_ranks = group_leaders(comm.size(), options.ranks_per_point);
    s.ranks_per_point = options.ranks_per_point;
    // Rank 0 expands the sweep; a worker only reads and parses the spec: the
    // handshake's fingerprint (same build, same spec text) makes its expansion
    // rank 0's, and 10,000 points cost ~0.4 s of CPU that ranks sharing cores
    // would take from rank 0.
    if (is_scheduler) {
      const auto expand_begin = std::chrono::steady_clock::now();
      s.sweep = sweeps::load_sweep(options.spec_path, options.overrides);
      s.fingerprint = run_fingerprint(s.sweep->spec_text);
      if (summary) summary->expand_seconds = seconds_since(expand_begin);
    } else {
      s.fingerprint = run_fingerprint(sweeps::load_spec_text(options.spec_path, options.overrides));
    }
  } catch (...) {
    s.error = std::current_exception();
  }
  if (!s.error && is_worker) {
    try {
      prepare_worker(s, options, work, *node_workers);
    } catch (...) {
      s.error = std::current_exception();
    }
  }

  // 2. The ranks agree to go, or all stop.
  std::vector<WorkerInfo> infos;
  if (comm.size() == 1) {
    if (s.error) std::rethrow_exception(s.error);
    infos.push_back(worker_info("local", comm.host(), s.device, work.software_version(), s.placement.threads, 1));
  } else {
    std::string verdict;
    infos = handshake(comm, s, work, verdict);
    if (is_scheduler) {
      if (s.error) std::rethrow_exception(s.error);
      if (!verdict.empty()) {
        const size_t newline = verdict.find('\n');
        const std::string message = verdict.substr(newline + 1);
        if (std::stoi(verdict.substr(0, newline)) == kExitUsage) throw OptionError(message);
        throw std::runtime_error(message);
      }
    } else if (!verdict.empty()) {
      return std::stoi(verdict.substr(0, verdict.find('\n')));  // rank 0 says why
    }
  }

  // 3. Data-parallel groups: rank 0 alone, the workers in groups of --ranks-per-point
  //    consecutive ranks, the first of each its leader (the rank rank 0 assigns to).
  std::unique_ptr<Communicator> group;
  if (comm.size() > 1) {
    const int group_index = is_scheduler ? -1 : group_of_rank(comm.rank(), comm.size(), options.ranks_per_point);
    group = comm.split(group_index + 1, comm.rank());
    if (is_worker) work.join_group(*group);
  }

  // 4. Work. The ledger is opened last, so that a run refused above leaves no file behind.
  if (is_scheduler) {
    try {
      const auto ledger_begin = std::chrono::steady_clock::now();
      open_ledger(s, options, progress);
      if (summary) summary->ledger_seconds = seconds_since(ledger_begin);
    } catch (...) {
      for (int rank : s.worker_ranks)
        if (rank != kScheduler) comm.send(rank, static_cast<int>(MessageTag::stop), "");  // they wait for points
      release_ranks(comm);
      throw;
    }
    if (comm.size() == 1) return schedule(options, comm, work, s, std::move(infos), progress, out, summary);
    try {
      const int exit_code = schedule(options, comm, work, s, std::move(infos), progress, out, summary);
      release_ranks(comm);
      return exit_code;
    } catch (const std::exception& e) {
      // The workers wait for rank 0: save what is saved, then end the whole job.
      progress.end();
      std::cerr << "ablate: error on rank 0 (host " << comm.host() << "): " << e.what() << "\n";
      try {
        s.results->close();
      } catch (const std::exception& close_error) {
        std::cerr << "ablate: closing the results file failed too: " << close_error.what() << "\n";
      }
      comm.abort(kExitError);
    }
  }
  try {
    if (group && group->rank() != 0)
      follow_leader(*group, work);
    else
      serve_points(comm, work, [] { return StopSignals::received() != 0; }, group.get());
    wait_until_released(comm);
  } catch (const std::exception& e) {
    std::cerr << "ablate: error on rank " << comm.rank() << " (host " << comm.host() << "): " << e.what() << "\n";
    comm.abort(kExitError);
  }
  return kExitOk;
}

}  // namespace ablate
