// The scheduler over real MPI ranks, with FakeWork: run by ctest under
// `mpirun -np N` (N >= 2). Every rank runs the same scenarios; rank 0 checks
// the ledger by hand-known answers and all ranks exit with its verdict.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "orchestrator/exit_codes.hpp"
#include "orchestrator/fake_work.hpp"
#include "orchestrator/mpi_communicator.hpp"
#include "orchestrator/results/results_file.hpp"
#include "orchestrator/results/results_summary.hpp"
#include "orchestrator/run_command.hpp"
#include "early_stopping_support.hpp"
#include "test_search_support.hpp"
#include "orchestrator_test_support.hpp"

using namespace ablate;

namespace {

constexpr int kTagFinished = 100;  // after a run: a worker's list of trained points

// Collects failed expectations on rank 0.
class Checks {
 public:
  void expect(bool ok, const std::string& what) {
    if (ok) return;
    ++failures_;
    std::cerr << "  FAILED: " << what << "\n";
  }
  int failures() const { return failures_; }

 private:
  int failures_ = 0;
};

struct Setup {
  Communicator& world;
  Communicator& side;  // the tests' own messages: never mixed with the scheduler's
  std::string dir;
  Checks& checks;
};

RunOptions options_for(const Setup& s, const std::string& results_name) {
  RunOptions options;
  options.spec_path = s.dir + "/fake.toml";
  options.results_path = s.dir + "/" + results_name;
  options.progress = ProgressStyle::lines;
  options.flush_interval_seconds = 0;
  return options;
}

// Runs the sweep; rank 0 returns its exit code (or -1 when it threw, message in `error`).
int run(const Setup& s, const RunOptions& options, FakeWork& work, std::string& log, std::string& error,
        RunSummary* summary = nullptr) {
  std::ostringstream out;
  int code = -1;
  try {
    code = run_sweep(options, s.world, work, out, summary);
  } catch (const std::exception& e) {
    error = e.what();
  }
  log = out.str();
  return code;
}

// Each rank's list (e.g. FakeWork::started()), gathered on rank 0 by rank (empty elsewhere).
std::vector<std::vector<std::string>> gather_by_rank(const Setup& s, const std::vector<std::string>& mine) {
  std::vector<std::vector<std::string>> all(s.world.size());
  if (s.world.rank() != 0) {
    std::string joined;
    for (const auto& id : mine) joined += id + "\n";
    s.side.send(0, kTagFinished, joined);
    return all;
  }
  for (int rank = 1; rank < s.world.size(); ++rank) {
    std::istringstream lines(s.side.receive(rank).payload);
    for (std::string id; std::getline(lines, id);) all[rank].push_back(id);
  }
  return all;
}

// Every worker's finished() list, gathered on rank 0 (empty elsewhere).
std::vector<std::string> gather_finished(const Setup& s, const FakeWork& work) {
  std::vector<std::string> all;
  for (const auto& ids : gather_by_rank(s, work.finished())) all.insert(all.end(), ids.begin(), ids.end());
  return all;
}

std::map<std::string, PointStatus> ledger_statuses(const RunOptions& options) {
  return test::ledger_statuses(options.results_path, sweeps::load_sweep(options.spec_path));
}

using test::count_status;

// Each point's done record appears exactly once, for all 12 points.
void expect_each_done_once(const Setup& s, const RunOptions& options, const char* scenario) {
  const auto done = test::journal_counts(options.results_path + ".journal", "done");
  s.checks.expect(done.size() == 12, fmt::format("{}: {} points done, expected 12", scenario, done.size()));
  for (const auto& [id, n] : done)
    s.checks.expect(n == 1, fmt::format("{}: point {} has {} done records", scenario, id, n));
}

void scenario_failures_recorded(const Setup& s) {
  const RunOptions options = options_for(s, "basic.h5");
  FakeWork::Options fake;
  fake.epoch_time = std::chrono::milliseconds(1);
  fake.rules.push_back({"lr", 0.5, FakeWork::Action::diverge, 2, "", {}});
  FakeWork work(fake);
  std::string log, error;
  const int code = run(s, options, work, log, error);
  const std::vector<std::string> finished = gather_finished(s, work);
  if (s.world.rank() != 0) return;

  s.checks.expect(code == kExitFailures, fmt::format("basic: exit code {} (expected 3) {}\n{}", code, error, log));
  const auto statuses = ledger_statuses(options);
  const sweeps::Sweep sweep = sweeps::load_sweep(options.spec_path);
  const auto keys = test::keys_by_id(sweep);
  for (const auto& [id, key] : keys) {
    const PointStatus expected = std::get<1>(key) == 0.5 ? PointStatus::failed : PointStatus::done;
    s.checks.expect(statuses.at(id) == expected, fmt::format("basic: point {} is {}", id, to_string(statuses.at(id))));
  }
  // Each done point trained by exactly one rank.
  std::vector<std::string> sorted = finished;
  std::sort(sorted.begin(), sorted.end());
  s.checks.expect(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(), "basic: a point trained twice");
  s.checks.expect(sorted.size() == 6, fmt::format("basic: workers finished {} points, expected 6", sorted.size()));
  const ResultsSummary summary = read_results_summary(options.results_path, 12, 12);
  s.checks.expect(summary.failed.size() == 6, "basic: 6 failed points in the summary");
  for (const auto& f : summary.failed)
    s.checks.expect(f.error == "diverged at epoch 2, step 1: the loss is NaN or infinite",
                    "basic: failure message " + f.error);
  for (const auto& p : summary.best) {
    const auto [width, lr, seed] = keys.at(p.id);
    s.checks.expect(
        p.best_val_acc == 1 - lr && p.final_test_acc == 1 - lr - 0.01 * seed && p.epochs_done == 3,
        fmt::format("basic: metrics of {}: {} {} {}", p.id, p.best_val_acc, p.final_test_acc, p.epochs_done));
  }
  const auto done = test::journal_counts(options.results_path + ".journal", "done");
  s.checks.expect(done.size() == 6, "basic: 6 done records");
  for (const auto& [id, n] : done) s.checks.expect(n == 1, "basic: one done record per point");
}

// A signal to one process (a worker itself, or rank 0) stops the sweep; the rerun finishes it.
void scenario_interrupt_and_resume(const Setup& s, const char* name, bool signal_rank0, int pack = 1) {
  RunOptions options = options_for(s, std::string(name) + ".h5");
  options.pack = pack;
  const int rank0_pid = std::stoi(s.world.broadcast(std::to_string(::getpid()), 0));
  FakeWork::Options fake;
  fake.epoch_time = std::chrono::milliseconds(5);
  if (s.world.rank() == 1) {
    fake.raise_after_epochs = 4;  // in its second point
    fake.signal_target = signal_rank0 ? rank0_pid : 0;
  }
  FakeWork first(fake);
  std::string log, error;
  const int code = run(s, options, first, log, error);
  gather_finished(s, first);
  int left_for_rerun = 0;  // rank 0's count
  if (s.world.rank() == 0) {
    s.checks.expect(code == kExitIncomplete,
                    fmt::format("{}: first run exit code {} (expected 4) {}\n{}", name, code, error, log));
    const std::string reason = signal_rank0 ? "SIGTERM received" : "rank 1 left point";
    s.checks.expect(log.find(reason) != std::string::npos, fmt::format("{}: log lacks '{}':\n{}", name, reason, log));
    const auto statuses = ledger_statuses(options);
    s.checks.expect(count_status(statuses, PointStatus::pending) > 0, fmt::format("{}: nothing left pending", name));
    s.checks.expect(count_status(statuses, PointStatus::failed) == 0, fmt::format("{}: a point failed", name));
    left_for_rerun = 12 - count_status(statuses, PointStatus::done);
  }

  FakeWork::Options plain;
  plain.epoch_time = std::chrono::milliseconds(1);
  FakeWork second(plain);
  // Any point counts as short here: on a loaded machine one of 3 ms can take 50.
  options.hand_ahead_below_seconds = 60;
  RunSummary summary;
  const int code2 = run(s, options, second, log, error, &summary);
  gather_finished(s, second);
  if (s.world.rank() != 0) return;
  s.checks.expect(code2 == kExitOk, fmt::format("{}: rerun exit code {} (expected 0) {}\n{}", name, code2, error, log));
  // From a worker's second pack on, its next one comes while it trains; with
  // more than two points a worker, some worker gets a third.
  const int workers = s.world.size() - 1;
  if (pack == 1 && left_for_rerun > 2 * workers)
    s.checks.expect(summary.handed_ahead > 0, fmt::format("{}: no pack was handed ahead in the rerun of {} points "
                                                          "over {} workers", name, left_for_rerun, workers));
  s.checks.expect(count_status(ledger_statuses(options), PointStatus::done) == 12, fmt::format("{}: all done", name));
  expect_each_done_once(s, options, name);
}

// Packs of 3 over MPI (12 points in 3 shapes of 4): each rank trains packs,
// a diverging member fails alone, every point is recorded once.
void scenario_packs(const Setup& s) {
  RunOptions options = options_for(s, "packs.h5");
  options.pack = 3;
  FakeWork::Options fake;
  fake.epoch_time = std::chrono::milliseconds(1);
  fake.rules.push_back({"lr", 0.5, FakeWork::Action::diverge, 2, "", {}});
  FakeWork work(fake);
  std::string log, error;
  RunSummary summary;
  const int code = run(s, options, work, log, error, &summary);
  const std::vector<std::string> finished = gather_finished(s, work);
  if (s.world.rank() != 0) return;

  s.checks.expect(code == kExitFailures, fmt::format("packs: exit code {} (expected 3) {}\n{}", code, error, log));
  s.checks.expect(log.find("packs: up to 3 points of one shape per worker (--pack 3); 12 points to run in 3 shapes") !=
                      std::string::npos,
                  "packs: the start lines lack the packs line:\n" + log);
  s.checks.expect(summary.packs == 6 && summary.largest_pack == 3,
                  fmt::format("packs: {} packs, the largest of {} (expected 6 packs, the largest of 3)", summary.packs,
                              summary.largest_pack));
  const auto statuses = ledger_statuses(options);
  const sweeps::Sweep sweep = sweeps::load_sweep(options.spec_path);
  for (const auto& [id, key] : test::keys_by_id(sweep)) {
    const PointStatus expected = std::get<1>(key) == 0.5 ? PointStatus::failed : PointStatus::done;
    s.checks.expect(statuses.at(id) == expected, fmt::format("packs: point {} is {}", id, to_string(statuses.at(id))));
  }
  std::vector<std::string> sorted = finished;
  std::sort(sorted.begin(), sorted.end());
  s.checks.expect(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(), "packs: a point trained twice");
  s.checks.expect(sorted.size() == 6, fmt::format("packs: workers finished {} points, expected 6", sorted.size()));
  const auto done = test::journal_counts(options.results_path + ".journal", "done");
  s.checks.expect(done.size() == 6, "packs: 6 done records");
  for (const auto& [id, n] : done) s.checks.expect(n == 1, "packs: one done record per point");
}

// --pack with --ranks-per-point > 1 is refused on every rank before anything runs.
void scenario_pack_with_groups_refused(const Setup& s) {
  RunOptions options = options_for(s, "pack-groups.h5");
  options.pack = 2;
  options.ranks_per_point = 2;
  FakeWork work;
  std::string log, error;
  const int code = run(s, options, work, log, error);
  if (s.world.rank() != 0) return;
  s.checks.expect(code == -1 && error.find("--pack 2 with --ranks-per-point 2") != std::string::npos,
                  fmt::format("pack with groups: code {}, error '{}'", code, error));
  s.checks.expect(!std::filesystem::exists(options.results_path), "pack with groups: a results file was made");
}

void scenario_mismatch_refused(const Setup& s) {
  RunOptions options = options_for(s, "mismatch.h5");
  if (s.world.rank() == 1) options.spec_path = s.dir + "/edited.toml";
  FakeWork work;
  std::string log, error;
  const int code = run(s, options, work, log, error);
  if (s.world.rank() != 0) {
    s.checks.expect(code == kExitError, fmt::format("mismatch: rank {} exit code {}", s.world.rank(), code));
    return;
  }
  s.checks.expect(code == -1 && error.find("rank 1 (host") != std::string::npos &&
                      error.find("same ablate build on the same sweep file") != std::string::npos,
                  "mismatch: rank 0 error: " + error);
  s.checks.expect(work.started().empty(), "mismatch: nothing trains");
}

void scenario_worker_cannot_start(const Setup& s) {
  const RunOptions options = options_for(s, "nostart.h5");
  FakeWork::Options fake;
  if (s.world.rank() == s.world.size() - 1) fake.prepare_error = "no GPU here (fake)";
  FakeWork work(fake);
  std::string log, error;
  const int code = run(s, options, work, log, error);
  if (s.world.rank() != 0) {
    s.checks.expect(code == kExitError, fmt::format("nostart: rank {} exit code {}", s.world.rank(), code));
    return;
  }
  s.checks.expect(
      error == fmt::format("rank {} (host {}) cannot start: no GPU here (fake)", s.world.size() - 1, s.world.host()),
      "nostart: rank 0 error: " + error);
  s.checks.expect(!std::filesystem::exists(options.results_path), "nostart: a results file was created");
}

// Rank 0 refuses the results file after the workers are ready: they are told to stop.
void scenario_results_refused(const Setup& s) {
  RunOptions options = options_for(s, "notes.h5");
  if (s.world.rank() == 0) std::ofstream(options.results_path) << "not an HDF5 file";
  FakeWork work;
  std::string log, error;
  const int code = run(s, options, work, log, error);
  if (s.world.rank() != 0) {
    s.checks.expect(code == kExitOk && work.started().empty(),
                    fmt::format("refused: rank {} exit code {}", s.world.rank(), code));
    return;
  }
  s.checks.expect(code == -1 && error.find("is not an ablate results file") != std::string::npos,
                  "refused: rank 0 error: " + error);
}

// --ranks-per-point 2: rank 0 assigns to the group leaders only; every follower
// trains exactly the points of its leader, in the same order, and stops with it.
void scenario_groups_of_two(const Setup& s) {
  RunOptions options = options_for(s, "groups.h5");
  options.ranks_per_point = 2;
  FakeWork::Options fake;
  fake.epoch_time = std::chrono::milliseconds(1);
  fake.rules.push_back({"lr", 0.5, FakeWork::Action::diverge, 2, "", {}});
  if (s.world.rank() == 1) fake.raise_after_epochs = 5;  // the first leader is signalled in its second point
  FakeWork first(fake);
  std::string log, error;
  const int code = run(s, options, first, log, error);
  const auto started_first = gather_by_rank(s, first.started());

  FakeWork::Options plain;
  plain.epoch_time = std::chrono::milliseconds(1);
  plain.rules = fake.rules;
  FakeWork second(plain);
  RunOptions rerun = options;
  const int code2 = run(s, rerun, second, log, error);
  const auto started_second = gather_by_rank(s, second.started());
  if (s.world.rank() != 0) return;

  s.checks.expect(code == kExitIncomplete, fmt::format("groups: first run exit code {} (expected 4) {}", code, error));
  s.checks.expect(code2 == kExitFailures, fmt::format("groups: rerun exit code {} (expected 3) {}\n{}", code2, error, log));
  for (int rank = 1; rank < s.world.size(); ++rank) {
    const int leader = 1 + 2 * ((rank - 1) / 2);
    if (rank == leader) continue;
    s.checks.expect(started_first[rank] == started_first[leader] && started_second[rank] == started_second[leader],
                    fmt::format("groups: rank {} trained other points than its leader, rank {}", rank, leader));
    s.checks.expect(!started_second[rank].empty() || !started_first[rank].empty(),
                    fmt::format("groups: follower rank {} trained nothing", rank));
  }
  const auto statuses = ledger_statuses(options);
  s.checks.expect(count_status(statuses, PointStatus::done) == 6 && count_status(statuses, PointStatus::failed) == 6,
                  "groups: 6 done and 6 failed (lr = 0.5 diverges on every rank of a group)");
  const auto done = test::journal_counts(options.results_path + ".journal", "done");
  for (const auto& [id, n] : done) s.checks.expect(n == 1, "groups: one done record per point");
}

// Early stopping over MPI (and over data-parallel groups): successive halving
// ends as the brute-force reference says, whatever the timing; ASHA and the
// median rule (verdicts after every epoch, over MPI) leave nothing paused, stop
// some points, and never train a point past the rung it was given.
void scenario_early_stopping(const Setup& s, const std::string& method, int ranks_per_point, int pack = 1) {
  const std::string name = fmt::format("es-{}-k{}-pack{}", method, ranks_per_point, pack);
  const std::string spec = s.dir + "/" + name + ".toml";
  if (s.world.rank() == 0) std::ofstream(spec) << test::es_sweep_text(method, method == "median" ? 12 : 27, 9);
  s.world.broadcast("", 0);  // the spec is written before any rank reads it
  RunOptions options = options_for(s, name + ".h5");
  options.spec_path = spec;
  options.ranks_per_point = ranks_per_point;
  options.pack = pack;
  FakeWork::Options fake;
  fake.epoch_time = std::chrono::milliseconds(1);
  fake.val_acc = test::wiggly_val_acc;
  FakeWork work(fake);
  std::string log, error;
  RunSummary summary;
  const int code = run(s, options, work, log, error, &summary);
  const auto started = gather_by_rank(s, work.started());
  if (s.world.rank() != 0) return;

  s.checks.expect(code == kExitOk, fmt::format("{}: exit code {} {}\n{}", name, code, error, log));
  s.checks.expect(pack == 1 ? summary.largest_pack == 1 : summary.largest_pack > 1 && summary.largest_pack <= pack,
                  fmt::format("{}: the largest pack held {} points (--pack {})", name, summary.largest_pack, pack));
  const sweeps::Sweep sweep = sweeps::load_sweep(spec);
  ResultsFile results(options.results_path, SweepIdentity{sweep.name, sweep.source_path, sweep.spec_text},
                      ResultsFileOptions{true, 0, [](const std::string&) {}});
  int epochs = 0, stopped = 0, done = 0;
  for (const auto& p : sweep.points) {
    const LedgerPoint& point = results.point(p.id);
    epochs += static_cast<int>(point.curves.size());
    stopped += point.status == PointStatus::stopped;
    done += point.status == PointStatus::done;
    s.checks.expect(point.status == PointStatus::done || point.status == PointStatus::stopped,
                    fmt::format("{}: point {} ended {}", name, p.id, to_string(point.status)));
    const int allowed = point.until > 0 ? point.until : 9;
    s.checks.expect(static_cast<int>(point.curves.size()) <= allowed,
                    fmt::format("{}: point {} trained {} epochs, its last until was {}", name, p.id,
                                point.curves.size(), allowed));
  }
  s.checks.expect(stopped > 0 && done > 0 && epochs < static_cast<int>(sweep.points.size()) * 9,
                  fmt::format("{}: {} stopped, {} done, {} epochs", name, stopped, done, epochs));
  if (method == "asha") {
    // Read line by line: the ledger above holds the journal's lock.
    std::vector<nlohmann::json> journal;
    std::ifstream lines(options.results_path + ".journal");
    for (std::string line; std::getline(lines, line);)
      if (auto record = decode_journal_line(line)) journal.push_back(*record);
    const test::AshaAudit audit = test::audit_asha(journal, 3);
    for (const auto& problem : audit.problems) s.checks.expect(false, name + ": " + problem);
    // Packs start points in fours, so more rungs fill while others still train: some
    // promotions come as "idle" ones rather than from the top (both checked above).
    const int promotions = audit.top_promotions + (pack > 1 ? audit.idle_promotions : 0);
    s.checks.expect(promotions >= 12, fmt::format("{}: {} promotions from the top, {} idle", name,
                                                  audit.top_promotions, audit.idle_promotions));
  }
  if (method == "successive_halving")
    for (const auto& [id, end] : test::brute_force_halving(sweep.points, {1, 3, 9}, 3))
      s.checks.expect(static_cast<int>(results.point(id).curves.size()) == end,
                      fmt::format("{}: point {} ended at epoch {}, the reference says {}", name, id,
                                  results.point(id).curves.size(), end));
  for (int rank = 1; rank < s.world.size() && ranks_per_point > 1; ++rank) {
    const int leader = 1 + ranks_per_point * ((rank - 1) / ranks_per_point);
    s.checks.expect(started[rank] == started[leader],
                    fmt::format("{}: rank {} trained other points than its leader {}", name, rank, leader));
  }
}

// Rank 0's view of a results file's journal, read line by line (a ledger may hold its lock).
std::vector<nlohmann::json> read_journal(const std::string& results_path) {
  std::vector<nlohmann::json> journal;
  std::ifstream lines(results_path + ".journal");
  for (std::string line; std::getline(lines, line);)
    if (auto record = decode_journal_line(line)) journal.push_back(*record);
  return journal;
}

// A TPE search over MPI: `trials` x 2 seeds points, each trained once, each trial
// observed once; with `interrupt`, rank 0 is signalled in the middle (as a
// kill would end a job, minus the kill) and the rerun ends the search.
void scenario_search(const Setup& s, bool interrupt, int ranks_per_point) {
  constexpr int kTrials = 10;
  const std::string name = fmt::format("search-{}-k{}", interrupt ? "resumed" : "whole", ranks_per_point);
  const std::string spec = s.dir + "/" + name + ".toml";
  if (s.world.rank() == 0) std::ofstream(spec) << test::search_sweep_text(kTrials);
  s.world.broadcast("", 0);  // the spec is written before any rank reads it
  RunOptions options = options_for(s, name + ".h5");
  options.spec_path = spec;
  options.ranks_per_point = ranks_per_point;
  const int rank0_pid = std::stoi(s.world.broadcast(std::to_string(::getpid()), 0));
  FakeWork::Options fake;
  fake.epoch_time = std::chrono::milliseconds(2);
  fake.val_acc = test::search_val_acc;
  std::string log, error;
  if (interrupt) {
    FakeWork::Options first_fake = fake;
    if (s.world.rank() == 1) {
      first_fake.raise_after_epochs = 7;  // in its third point
      first_fake.signal_target = rank0_pid;
    }
    FakeWork first(first_fake);
    const int code = run(s, options, first, log, error);
    gather_finished(s, first);
    if (s.world.rank() == 0) {
      s.checks.expect(code == kExitIncomplete, fmt::format("{}: first run exit code {} {}\n{}", name, code, error, log));
      const auto records = test::search_records(read_journal(options.results_path));
      s.checks.expect(!records.empty() && records.size() < 2 * kTrials,
                      fmt::format("{}: {} search records after the stop", name, records.size()));
    }
  }
  FakeWork work(fake);
  const int code = run(s, options, work, log, error);
  const auto started = gather_by_rank(s, work.started());
  if (s.world.rank() != 0) return;

  s.checks.expect(code == kExitOk, fmt::format("{}: exit code {} {}\n{}", name, code, error, log));
  s.checks.expect(log.find("10 trials x 2 seeds = 20 points") != std::string::npos,
                  fmt::format("{}: the first line lacks the budget:\n{}", name, log));
  const auto journal = read_journal(options.results_path);
  for (const auto& problem : test::audit_search(journal, kTrials, 2)) s.checks.expect(false, name + ": " + problem);
  std::map<std::string, int> done_records;
  for (const auto& record : journal)
    if (record.value("t", "") == "done") ++done_records[record.at("id").get<std::string>()];
  s.checks.expect(done_records.size() == 2 * kTrials,
                  fmt::format("{}: {} points done, expected {}", name, done_records.size(), 2 * kTrials));
  for (const auto& [id, n] : done_records)
    s.checks.expect(n == 1, fmt::format("{}: point {} has {} done records", name, id, n));
  for (int rank = 1; rank < s.world.size() && ranks_per_point > 1; ++rank) {
    const int leader = 1 + ranks_per_point * ((rank - 1) / ranks_per_point);
    s.checks.expect(started[rank] == started[leader],
                    fmt::format("{}: rank {} trained other points than its leader {}", name, rank, leader));
  }
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession session(&argc, &argv);
  MpiCommunicator world(MPI_COMM_WORLD);
  if (world.size() < 2) {
    std::cerr << "scheduler_mpi_test: run it under mpirun with 2 or more ranks\n";
    return 2;
  }
  std::unique_ptr<test::Scratch> scratch;
  std::string dir;
  if (world.rank() == 0) {
    scratch = std::make_unique<test::Scratch>();
    scratch->write("fake.toml", test::fake_sweep_text());
    scratch->write("edited.toml", test::fake_sweep_text("[[64], [256], [128], [32]]"));
    dir = scratch->file("").substr(0, scratch->file("").size() - 1);
  }
  Checks checks;
  const auto side = world.split(0, world.rank());
  const Setup s{world, *side, world.broadcast(dir, 0), checks};

  const std::pair<const char*, std::function<void()>> scenarios[] = {
      {"failures are recorded, every point once", [&] { scenario_failures_recorded(s); }},
      {"a worker's signal stops the sweep; rerun resumes",
       [&] { scenario_interrupt_and_resume(s, "worker-signal", false); }},
      {"rank 0's signal stops the sweep; rerun resumes",
       [&] { scenario_interrupt_and_resume(s, "rank0-signal", true); }},
      {"mismatched specs are refused", [&] { scenario_mismatch_refused(s); }},
      {"a worker that cannot start stops all", [&] { scenario_worker_cannot_start(s); }},
      {"a refused results file stops all", [&] { scenario_results_refused(s); }},
      {"successive halving over MPI equals the reference", [&] { scenario_early_stopping(s, "successive_halving", 1); }},
      {"ASHA over MPI", [&] { scenario_early_stopping(s, "asha", 1); }},
      {"the median rule's verdicts over MPI", [&] { scenario_early_stopping(s, "median", 1); }},
      {"a TPE search over MPI: every trial once", [&] { scenario_search(s, /*interrupt=*/false, 1); }},
      {"a TPE search stopped and resumed over MPI", [&] { scenario_search(s, /*interrupt=*/true, 1); }},
      {"packs of 3: each member recorded alone, every point once", [&] { scenario_packs(s); }},
      {"--pack with --ranks-per-point is refused", [&] { scenario_pack_with_groups_refused(s); }},
      {"a worker's signal stops packs; rerun resumes",
       [&] { scenario_interrupt_and_resume(s, "worker-signal-pack", false, /*pack=*/3); }},
      {"successive halving with packs equals the reference",
       [&] { scenario_early_stopping(s, "successive_halving", 1, /*pack=*/4); }},
      {"ASHA with packs", [&] { scenario_early_stopping(s, "asha", 1, /*pack=*/4); }},
      {"the median rule with packs", [&] { scenario_early_stopping(s, "median", 1, /*pack=*/3); }},
  };
  std::vector<std::pair<const char*, std::function<void()>>> group_scenarios;
  if (world.size() >= 3 && (world.size() - 1) % 2 == 0)
    group_scenarios.push_back({"groups of two ranks train each point together", [&] { scenario_groups_of_two(s); }});
  if (world.size() >= 3 && (world.size() - 1) % 2 == 0) {
    group_scenarios.push_back({"ASHA with groups of two", [&] { scenario_early_stopping(s, "asha", 2); }});
    group_scenarios.push_back({"the median rule with groups of two", [&] { scenario_early_stopping(s, "median", 2); }});
    group_scenarios.push_back({"a TPE search with groups of two", [&] { scenario_search(s, /*interrupt=*/false, 2); }});
  }
  auto run_scenario = [&](const char* name, const std::function<void()>& scenario) {
    const int before = checks.failures();
    scenario();
    if (world.rank() == 0)
      std::cout << fmt::format("[np {}] {}: {}", world.size(), name, checks.failures() == before ? "ok" : "FAILED")
                << std::endl;
  };
  for (const auto& [name, scenario] : scenarios) run_scenario(name, scenario);
  for (const auto& [name, scenario] : group_scenarios) run_scenario(name, scenario);
  const int failures = std::stoi(world.broadcast(std::to_string(checks.failures()), 0));
  return failures == 0 ? 0 : 1;
}
