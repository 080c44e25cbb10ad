// Tests of orchestrator/run_command (and plan_command): `ablate run` in-process
// with FakeWork: exit codes, resume, --retry-failed, edited specs, signals,
// stalls, and the checks made before anything trains.
#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "orchestrator/checkpoint_files.hpp"
#include "orchestrator/exit_codes.hpp"
#include "orchestrator/fake_work.hpp"
#include "orchestrator/plan_command.hpp"
#include "orchestrator/results/results_file.hpp"
#include "orchestrator/results/results_summary.hpp"
#include "orchestrator/run_command.hpp"
#include "orchestrator_test_support.hpp"

using namespace ablate;
using ablate::test::PointKey;

namespace {

RunOptions options_for(const test::Scratch& dir, const std::string& spec_path) {
  RunOptions options;
  options.spec_path = spec_path;
  options.results_path = dir.file("results.h5");
  options.progress = ProgressStyle::lines;
  options.flush_interval_seconds = 0;
  return options;
}

std::map<std::string, PointStatus> statuses(const RunOptions& options, const sweeps::Sweep& sweep) {
  return test::ledger_statuses(options.results_path, sweep);
}

using test::count_status;

// Throws Interrupted from the epoch callback of the n-th point it trains, as a
// worker told to stop would.
class InterruptingWork : public FakeWork {
 public:
  explicit InterruptingWork(int nth) : nth_(nth) {}
  TrainResult train(const WorkItem& item, const EpochCallback& on_epoch) override {
    if (++calls_ != nth_) return FakeWork::train(item, on_epoch);
    return FakeWork::train(item, [&](const EpochMetrics& row) {
      const EpochVerdict verdict = on_epoch(row);
      if (row.epoch == 2) throw Interrupted();
      return verdict;
    });
  }

 private:
  int nth_, calls_ = 0;
};

// Writes a checkpoint file after every epoch, as the trainer does, and
// interrupts the n-th point it trains after its second epoch.
class CheckpointingWork : public FakeWork {
 public:
  CheckpointingWork(const FakeWork::Options& options, std::string results_path, int interrupt_nth)
      : FakeWork(options), results_path_(std::move(results_path)), interrupt_nth_(interrupt_nth) {}
  TrainResult train(const WorkItem& item, const EpochCallback& on_epoch) override {
    const bool interrupt = ++calls_ == interrupt_nth_;
    return FakeWork::train(item, [&](const EpochMetrics& row) {
      std::filesystem::create_directories(checkpoint_directory(results_path_));
      std::ofstream(point_checkpoint_path(results_path_, item.id)) << "epoch " << row.epoch;
      const EpochVerdict verdict = on_epoch(row);
      if (interrupt && row.epoch == 2) throw Interrupted();
      return verdict;
    });
  }

 private:
  std::string results_path_;
  int interrupt_nth_, calls_ = 0;
};

bool has_checkpoint(const RunOptions& options, const std::string& id) {
  return std::filesystem::exists(point_checkpoint_path(options.results_path, id));
}

}  // namespace

TEST_CASE("a checkpoint lives until its point's outcome is durable, and only for unfinished points",
          "[orchestrator]") {
  test::Scratch dir;
  const RunOptions options = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  const sweeps::Sweep sweep = sweeps::load_sweep(options.spec_path);
  const auto keys = test::keys_by_id(sweep);
  FakeWork::Options fake;
  fake.rules.push_back({"lr", 0.5, FakeWork::Action::diverge, 3, "", {}});
  CheckpointingWork work(fake, options.results_path, /*interrupt_nth=*/5);
  test::TestCommunicator comm;
  std::ostringstream out;

  CHECK(run_sweep(options, comm, work, out) == kExitIncomplete);
  REQUIRE(work.started().size() == 5);
  // Done (points 1, 2) and failed (3, 4: lr = 0.5 diverges) points lost theirs
  // as soon as the ledger had them; the interrupted one keeps it for the rerun.
  for (int i = 0; i < 4; ++i) CHECK_FALSE(has_checkpoint(options, work.started()[i]));
  const std::string interrupted = work.started()[4];
  CHECK(has_checkpoint(options, interrupted));
  CHECK(std::filesystem::exists(options.results_path + ".checkpoints"));

  // A checkpoint of a done point (a crash came between the record and the
  // delete) goes at the next start; others' stay until their points finish.
  std::ofstream(point_checkpoint_path(options.results_path, work.started()[0])) << "stale";
  std::ofstream(checkpoint_directory(options.results_path) + "/notes.txt") << "not a checkpoint";
  FakeWork::Options no_failures;
  CheckpointingWork rest(no_failures, options.results_path, /*interrupt_nth=*/0);
  RunOptions retry = options;
  retry.retry_failed = true;
  std::ostringstream out2;
  CHECK(run_sweep(retry, comm, rest, out2) == kExitOk);
  CHECK_FALSE(has_checkpoint(options, work.started()[0]));
  CHECK_FALSE(has_checkpoint(options, interrupted));
  // Only the unrelated file is left, so the directory stays with it.
  CHECK(std::filesystem::exists(checkpoint_directory(options.results_path) + "/notes.txt"));
  std::filesystem::remove(checkpoint_directory(options.results_path) + "/notes.txt");
  std::ostringstream out3;
  CHECK(run_sweep(retry, comm, rest, out3) == kExitOk);
  CHECK_FALSE(std::filesystem::exists(checkpoint_directory(options.results_path)));
}

TEST_CASE("removing a finished point's checkpoint keeps the directory other workers are about to write into",
          "[orchestrator]") {
  test::Scratch dir;
  const std::string results = dir.file("r.h5");
  std::filesystem::create_directories(checkpoint_directory(results));
  for (const char* name : {"aaaa.pt", "aaaa.pt.rank1", "bbbb.pt"})
    std::ofstream(checkpoint_directory(results) + "/" + name) << "x";
  remove_point_checkpoints(results, "aaaa");
  CHECK_FALSE(std::filesystem::exists(point_checkpoint_path(results, "aaaa")));
  CHECK_FALSE(std::filesystem::exists(point_checkpoint_path(results, "aaaa") + ".rank1"));
  CHECK(std::filesystem::exists(point_checkpoint_path(results, "bbbb")));
  remove_point_checkpoints(results, "bbbb");
  // Empty now, but a worker that has just started a point made it and will write there.
  CHECK(std::filesystem::is_directory(checkpoint_directory(results)));
  prune_checkpoints(results, [](const std::string&) { return false; });  // the end of the run
  CHECK_FALSE(std::filesystem::exists(checkpoint_directory(results)));
}

TEST_CASE("ablate run trains every point once most expensive first and records the fake's metrics", "[orchestrator]") {
  test::Scratch dir;
  const RunOptions options = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  const sweeps::Sweep sweep = sweeps::load_sweep(options.spec_path);
  const auto keys = test::keys_by_id(sweep);
  test::TestCommunicator comm;
  FakeWork work;
  std::ostringstream out;

  CHECK(run_sweep(options, comm, work, out) == kExitOk);

  std::vector<PointKey> order;
  for (const auto& id : work.started()) order.push_back(keys.at(id));
  CHECK(order == std::vector<PointKey>{{256, 0.1, 0},
                                       {256, 0.1, 1},
                                       {256, 0.5, 0},
                                       {256, 0.5, 1},
                                       {128, 0.1, 0},
                                       {128, 0.1, 1},
                                       {128, 0.5, 0},
                                       {128, 0.5, 1},
                                       {64, 0.1, 0},
                                       {64, 0.1, 1},
                                       {64, 0.5, 0},
                                       {64, 0.5, 1}});
  CHECK(count_status(statuses(options, sweep), PointStatus::done) == 12);
  for (const auto& [id, n] : test::journal_counts(options.results_path + ".journal", "done")) CHECK(n == 1);
  CHECK(test::journal_counts(options.results_path + ".journal", "done").size() == 12);

  // The fake's formula, by hand: best val_acc 1 - lr, final test_acc 1 - lr - 0.01 seed, 3 epochs.
  const ResultsSummary summary = read_results_summary(options.results_path, 12);
  REQUIRE(summary.best.size() == 12);
  for (const auto& p : summary.best) {
    const auto [width, lr, seed] = keys.at(p.id);
    CHECK(p.best_val_acc == Approx(1 - lr).epsilon(1e-12));
    CHECK(p.final_test_acc == Approx(1 - lr - 0.01 * seed).epsilon(1e-12));
    CHECK(p.best_epoch == 3);
    CHECK(p.epochs_done == 3);
  }
  const std::string text = out.str();
  CHECK(text.find("ablate run: sweep 'fake' (" + options.spec_path + "): 12 points; 0 done, 0 failed, 12 to run") !=
        std::string::npos);
  CHECK(text.find("results: " + options.results_path + " (journal " + options.results_path + ".journal)") !=
        std::string::npos);
  CHECK(text.find("workers: 1, in this process on") != std::string::npos);
  CHECK(text.find("ablate run: 12 done, 0 failed, 0 unfinished of 12 points") != std::string::npos);

  SECTION("a rerun of a complete sweep trains nothing and exits 0") {
    FakeWork again;
    std::ostringstream out2;
    CHECK(run_sweep(options, comm, again, out2) == kExitOk);
    CHECK(again.started().empty());
    CHECK(out2.str().find("12 done, 0 failed, 0 to run") != std::string::npos);
  }
}

TEST_CASE("failed and diverged points are recorded with their message - the sweep goes on - exit 3", "[orchestrator]") {
  test::Scratch dir;
  const RunOptions options = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  const sweeps::Sweep sweep = sweeps::load_sweep(options.spec_path);
  const auto keys = test::keys_by_id(sweep);
  FakeWork::Options fake;
  fake.rules.push_back({"lr", 0.5, FakeWork::Action::diverge, 2, "", {}});
  FakeWork work(fake);
  test::TestCommunicator comm;
  std::ostringstream out;

  CHECK(run_sweep(options, comm, work, out) == kExitFailures);
  const auto status = statuses(options, sweep);
  for (const auto& [id, key] : keys)
    CHECK(status.at(id) == (std::get<1>(key) == 0.5 ? PointStatus::failed : PointStatus::done));
  const ResultsSummary summary = read_results_summary(options.results_path, 12, 12);
  CHECK(summary.counts.at("failed") == 6);
  REQUIRE(summary.failed.size() == 6);
  for (const auto& f : summary.failed) CHECK(f.error == "diverged at epoch 2, step 1: the loss is NaN or infinite");
  CHECK(out.str().find("some points failed") != std::string::npos);

  SECTION("without --retry-failed a rerun skips them (still 3) - with it the rerun retries them") {
    FakeWork plain;
    std::ostringstream out2;
    CHECK(run_sweep(options, comm, plain, out2) == kExitFailures);
    CHECK(plain.started().empty());
    CHECK(out2.str().find("6 failed points skipped: --retry-failed runs them again") != std::string::npos);

    RunOptions retry = options;
    retry.retry_failed = true;
    std::ostringstream out3;
    CHECK(run_sweep(retry, comm, plain, out3) == kExitOk);
    CHECK(plain.started().size() == 6);
    for (const auto& id : plain.started()) CHECK(std::get<1>(keys.at(id)) == 0.5);
    CHECK(count_status(statuses(options, sweep), PointStatus::done) == 12);
    for (const auto& [id, n] : test::journal_counts(options.results_path + ".journal", "done")) CHECK(n == 1);
  }
}

TEST_CASE("the --max-consecutive-failures limit stops the sweep (exit 4) - a fixed rerun finishes it",
          "[orchestrator]") {
  test::Scratch dir;
  RunOptions options = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  options.max_consecutive_failures = 3;
  const sweeps::Sweep sweep = sweeps::load_sweep(options.spec_path);
  FakeWork::Options broken;
  broken.rules.push_back({"model", "mlp", FakeWork::Action::fail, 1, "CUDA out of memory (fake)", {}});
  FakeWork work(broken);
  test::TestCommunicator comm;
  std::ostringstream out;

  CHECK(run_sweep(options, comm, work, out) == kExitIncomplete);
  CHECK(work.started().size() == 3);
  auto status = statuses(options, sweep);
  CHECK(count_status(status, PointStatus::failed) == 3);
  CHECK(count_status(status, PointStatus::pending) == 9);
  CHECK(out.str().find("3 points failed in a row (--max-consecutive-failures 3)") != std::string::npos);
  CHECK(out.str().find("incomplete: rerun the same command to resume") != std::string::npos);

  FakeWork fixed;
  CHECK(run_sweep(options, comm, fixed, out) == kExitFailures);  // the 9 others; the 3 failed stay failed
  CHECK(fixed.started().size() == 9);
  options.retry_failed = true;
  CHECK(run_sweep(options, comm, fixed, out) == kExitOk);
  CHECK(fixed.started().size() == 12);
  status = statuses(options, sweep);
  CHECK(count_status(status, PointStatus::done) == 12);
}

TEST_CASE("SIGINT stops the sweep at the next epoch (exit 4) - the rerun completes each point exactly once",
          "[orchestrator]") {
  test::Scratch dir;
  const RunOptions options = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  const sweeps::Sweep sweep = sweeps::load_sweep(options.spec_path);
  FakeWork::Options interrupting;
  interrupting.raise_after_epochs = 5;  // point 1: epochs 1-3; point 2: epochs 4, 5 -> Ctrl-C
  interrupting.raise_signal = SIGINT;
  FakeWork first(interrupting);
  test::TestCommunicator comm;
  std::ostringstream out;

  CHECK(run_sweep(options, comm, first, out) == kExitIncomplete);
  CHECK(first.started().size() == 2);
  CHECK(first.finished().size() == 1);
  CHECK(out.str().find("SIGINT received: stopping after the current epoch") != std::string::npos);
  const std::string interrupted = first.started()[1];
  CHECK(out.str().find("stopped " + interrupted.substr(0, 8)) != std::string::npos);
  {
    const auto status = statuses(options, sweep);  // reopening turns the interrupted point pending
    CHECK(count_status(status, PointStatus::done) == 1);
    CHECK(count_status(status, PointStatus::pending) == 11);
  }
  const auto epochs = test::journal_counts(options.results_path + ".journal", "epoch");
  CHECK(epochs.at(interrupted) == 2);  // both epochs it reported were journaled

  FakeWork second;
  std::ostringstream out2;
  CHECK(run_sweep(options, comm, second, out2) == kExitOk);
  CHECK(second.started().size() == 11);
  CHECK(second.started().front() == interrupted);  // the most expensive pending point restarts first
  const auto done = test::journal_counts(options.results_path + ".journal", "done");
  CHECK(done.size() == 12);
  for (const auto& [id, n] : done) CHECK(n == 1);
  CHECK(test::journal_counts(options.results_path + ".journal", "start").at(interrupted) == 2);
}

TEST_CASE("a point whose training throws Interrupted is left unfinished and stops the sweep", "[orchestrator]") {
  test::Scratch dir;
  const RunOptions options = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  const sweeps::Sweep sweep = sweeps::load_sweep(options.spec_path);
  InterruptingWork work(/*nth=*/3);
  test::TestCommunicator comm;
  std::ostringstream out;
  CHECK(run_sweep(options, comm, work, out) == kExitIncomplete);
  CHECK(out.str().find("left point " + work.started()[2] + " unfinished") != std::string::npos);
  const auto status = statuses(options, sweep);
  CHECK(count_status(status, PointStatus::done) == 2);
  CHECK(count_status(status, PointStatus::pending) == 10);

  FakeWork rest;
  CHECK(run_sweep(options, comm, rest, out) == kExitOk);
  CHECK(rest.started().size() == 10);
}

TEST_CASE("a stalled point aborts the run after the ledger is closed - a rerun resumes", "[orchestrator]") {
  test::Scratch dir;
  RunOptions options = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  options.stall_timeout_seconds = 0.3;
  const sweeps::Sweep sweep = sweeps::load_sweep(options.spec_path);
  FakeWork::Options stalling;
  stalling.rules.push_back({"lr", 0.5, FakeWork::Action::stall, 1, "", std::chrono::milliseconds(1500)});
  FakeWork work(stalling);
  test::TestCommunicator comm;
  std::ostringstream out;

  int exit_code = -1;
  try {
    run_sweep(options, comm, work, out);
  } catch (const test::AbortCalled& abort) {
    exit_code = abort.exit_code;
  }
  CHECK(exit_code == kExitIncomplete);
  CHECK(out.str().find("ablate run: aborted: local on host") != std::string::npos);
  CHECK(out.str().find("hidden=[256] lr=0.5 seed=0), after epoch 0/3") != std::string::npos);
  const auto status = statuses(options, sweep);  // the file was closed cleanly: it opens
  CHECK(count_status(status, PointStatus::done) == 2);

  FakeWork healthy;
  options.stall_timeout_seconds = 0;
  CHECK(run_sweep(options, comm, healthy, out) == kExitOk);
  CHECK(healthy.started().size() == 10);
}

TEST_CASE("an edited spec is refused unless allowed - then it adds points and keeps the old ones", "[orchestrator]") {
  test::Scratch dir;
  const std::string spec = dir.write("fake.toml", test::fake_sweep_text("[[64]]"));
  RunOptions options = options_for(dir, spec);
  test::TestCommunicator comm;
  FakeWork first;
  std::ostringstream out;
  CHECK(run_sweep(options, comm, first, out) == kExitOk);
  CHECK(first.started().size() == 4);

  dir.write("fake.toml", test::fake_sweep_text("[[64], [32]]"));  // edited in place: two widths now
  FakeWork second;
  CHECK_THROWS_AS(run_sweep(options, comm, second, out), ResultsRefusedError);
  CHECK(second.started().empty());

  options.allow_different_sweep = true;
  CHECK(run_sweep(options, comm, second, out) == kExitOk);
  const sweeps::Sweep edited = sweeps::load_sweep(spec);
  const auto keys = test::keys_by_id(edited);
  REQUIRE(second.started().size() == 4);
  for (const auto& id : second.started()) CHECK(std::get<0>(keys.at(id)) == 32);  // only the new points
  for (const auto& [id, n] : test::journal_counts(options.results_path + ".journal", "done")) CHECK(n == 1);
  CHECK(test::journal_counts(options.results_path + ".journal", "done").size() == 8);
}

TEST_CASE("bad options are refused before anything runs naming the option", "[orchestrator]") {
  test::Scratch dir;
  RunOptions good = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  test::TestCommunicator comm;
  FakeWork work;
  std::ostringstream out;
  auto refuse = [&](RunOptions options, const std::string& words) {
    CHECK_THROWS_WITH(run_sweep(options, comm, work, out), Catch::Contains(words));
    CHECK_THROWS_AS(run_sweep(options, comm, work, out), OptionError);
  };
  RunOptions o = good;
  o.results_path = "";
  refuse(o, "-o RESULTS.h5");
  o = good, o.device = "tpu";
  refuse(o, "--device tpu: use auto, cpu or cuda");
  o = good, o.threads = -1;
  refuse(o, "--threads -1");
  o = good, o.max_consecutive_failures = -2;
  refuse(o, "--max-consecutive-failures -2");
  o = good, o.stall_timeout_seconds = -1;
  refuse(o, "--stall-timeout -1");
  o = good, o.hand_ahead_below_seconds = std::nan("");
  refuse(o, "--hand-ahead nan: use seconds >= 0");
  o = good, o.ranks_per_point = 2;  // in one process: a group of two needs mpirun
  refuse(o, "--ranks-per-point 2 trains each point on 2 ranks: start ablate under mpirun");
  o = good, o.workers_per_gpu = 0;
  refuse(o, "--workers-per-gpu 0");
  CHECK(work.started().empty());
  CHECK_FALSE(std::filesystem::exists(good.results_path));  // refused before the ledger was created
}

TEST_CASE("a bad spec fails with file:line:column before the results file exists", "[orchestrator]") {
  test::Scratch dir;
  const std::string spec = dir.write("bad.toml", "name = \"bad\"\n[base]\nlr = 0.1\nhiden = [64]\n");
  const RunOptions options = options_for(dir, spec);
  test::TestCommunicator comm;
  FakeWork work;
  std::ostringstream out;
  CHECK_THROWS_AS(run_sweep(options, comm, work, out), sweeps::SpecError);
  CHECK_THROWS_WITH(run_sweep(options, comm, work, out),
                    Catch::StartsWith(spec + ":4:1:") && Catch::Contains("hidden"));
  CHECK_FALSE(std::filesystem::exists(options.results_path));
}

TEST_CASE("a worker that cannot start (no data no GPU) fails the run before the results file exists",
          "[orchestrator]") {
  test::Scratch dir;
  const RunOptions options = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  FakeWork::Options fake;
  fake.prepare_error = "--device cuda: no usable CUDA device here (fake)";
  FakeWork work(fake);
  test::TestCommunicator comm;
  std::ostringstream out;
  CHECK_THROWS_WITH(run_sweep(options, comm, work, out), "--device cuda: no usable CUDA device here (fake)");
  CHECK_FALSE(std::filesystem::exists(options.results_path));
}

TEST_CASE("a results path holding another file is refused", "[orchestrator]") {
  test::Scratch dir;
  RunOptions options = options_for(dir, dir.write("fake.toml", test::fake_sweep_text()));
  options.results_path = dir.write("notes.h5", "my thesis notes");
  test::TestCommunicator comm;
  FakeWork work;
  std::ostringstream out;
  CHECK_THROWS_AS(run_sweep(options, comm, work, out), ResultsRefusedError);
  CHECK(work.started().empty());
}

TEST_CASE("ablate plan prints the sweep's points - ablate status the counts and best points", "[orchestrator]") {
  test::Scratch dir;
  const std::string spec = dir.write("fake.toml", test::fake_sweep_text());
  std::ostringstream plan;
  CHECK(run_plan_command(spec, {}, plan) == kExitOk);
  CHECK(plan.str().find("12 points: 6 configurations x 2 seeds.") != std::string::npos);
  CHECK_THROWS_AS(run_plan_command(dir.file("missing.toml"), {}, plan), sweeps::SpecError);

  RunOptions options = options_for(dir, spec);
  FakeWork::Options fake;
  fake.rules.push_back({"lr", 0.5, FakeWork::Action::fail, 1, "fake failure", {}});
  FakeWork work(fake);
  test::TestCommunicator comm;
  std::ostringstream out;
  CHECK(run_sweep(options, comm, work, out) == kExitFailures);
  std::ostringstream status;
  CHECK(run_status_command(options.results_path, 3, status) == kExitOk);
  CHECK(status.str().find("12 total: 6 done") != std::string::npos);
  CHECK(status.str().find("6 failed") != std::string::npos);
  CHECK_THROWS_AS(run_status_command(dir.file("missing.h5"), 3, status), ResultsRefusedError);
}
