// Tests of orchestrator/policy/search_policy with FakeWork: a TPE search runs
// to its end over the ledger (in-process workers), makes the same suggestions
// twice with one worker, resumes after stops without repeating or losing a
// trial, and runs with ASHA; `ablate run` on a [search] spec.
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>

#include "orchestrator/exit_codes.hpp"
#include "orchestrator/fake_work.hpp"
#include "orchestrator/run_command.hpp"
#include "orchestrator/scheduler.hpp"
#include "orchestrator/thread_channel.hpp"
#include "sweeps/search/search.hpp"
#include "in_process_sweep.hpp"
#include "orchestrator_test_support.hpp"
#include "test_journal_support.hpp"
#include "test_search_support.hpp"

using namespace ablate;
using test::audit_search;
using test::search_sweep_text;

namespace {

// A [search] sweep run in process with FakeWorks whose accuracy is a known
// function of the searched values, with checkpoints (promotions resume).
struct SearchRun : test::InProcessSweep {
  SearchRun(const test::Scratch& dir, const std::string& spec, const std::string& name = "search.h5")
      : InProcessSweep(dir, sweeps::parse_sweep(spec, "search.toml"), name) {}
  ScheduleOutcome run(int workers, FakeWork::Options options = {}, const std::function<int()>& stop_signal = {}) {
    options.val_acc = test::search_val_acc;
    options.checkpoint_results_path = path;
    return InProcessSweep::run(workers, options, stop_signal);
  }
};

void check_audit(const std::vector<std::string>& problems) {
  for (const auto& problem : problems) INFO(problem);
  CHECK(problems.empty());
  if (!problems.empty()) FAIL_CHECK(problems.front());
}

// The best objective observed, and the trial it came from.
std::pair<double, int> best_observed(const std::vector<nlohmann::json>& records) {
  std::pair<double, int> best{-1, -1};
  for (const auto& r : records)
    if (r.at("search") == "observed" && r.at("objective").get<double>() > best.first)
      best = {r.at("objective").get<double>(), r.at("trial").get<int>()};
  return best;
}

}  // namespace

TEST_CASE("a TPE sweep runs trials x seeds points, observing each trial once, within its bounds", "[search][orchestrator]") {
  test::Scratch dir;
  constexpr int kTrials = 16;
  for (int workers : {1, 3}) {
    INFO(workers << " workers");
    SearchRun run(dir, search_sweep_text(kTrials), "search" + std::to_string(workers) + ".h5");
    const ScheduleOutcome outcome = run.run(workers);
    CHECK(outcome.stop == StopReason::none);
    CHECK(outcome.done == kTrials * 2);
    REQUIRE(run.points.size() == kTrials * 2);
    std::map<int, int> seeds_of_trial;
    for (const auto& p : run.points) {
      CHECK(p.status == PointStatus::done);
      CHECK(p.planned.suggested_by == "tpe");
      ++seeds_of_trial[p.planned.trial];
    }
    CHECK(seeds_of_trial.size() == kTrials);
    check_audit(audit_search(run.journal(), kTrials, 2));
    // TPE finds better than its random start on this objective.
    const auto records = test::search_records(run.journal());
    double best_random = -1;
    for (const auto& r : records)
      if (r.at("search") == "observed" && r.at("trial").get<int>() < 4)
        best_random = std::max(best_random, r.at("objective").get<double>());
    CHECK(best_observed(records).first > best_random);
  }
}

TEST_CASE("the points of a search carry their trial and suggested_by into the HDF5 file", "[search][orchestrator]") {
  test::Scratch dir;
  SearchRun run(dir, search_sweep_text(4, "random"));
  run.run(1);
  ResultsFile results(run.path, SweepIdentity{run.sweep.name, run.sweep.source_path, run.sweep.spec_text},
                      ResultsFileOptions{false, 0, [](const std::string&) {}});
  for (const auto& p : results.points()) {
    CHECK(p.planned.trial >= 0);
    CHECK(p.planned.suggested_by == "random");
  }
  CHECK(results.search_records().size() == 8);  // 4 suggested, 4 observed
  results.close();

  test::RawFile file(run.path);
  REQUIRE(file.id >= 0);
  hid_t index = H5Dopen2(file.id, "/index", H5P_DEFAULT);
  REQUIRE(index >= 0);
  auto trials = test::raw_column<int32_t>(index, "trial", H5T_NATIVE_INT32);
  std::sort(trials.begin(), trials.end());
  CHECK(trials == std::vector<int32_t>{0, 0, 1, 1, 2, 2, 3, 3});
  CHECK(test::raw_string_column(index, "suggested_by") == std::vector<std::string>(8, "random"));
  H5Dclose(index);
}

TEST_CASE("two runs with one worker and the same seed make the same suggestions", "[search][orchestrator]") {
  test::Scratch dir;
  SearchRun a(dir, search_sweep_text(12), "a.h5"), b(dir, search_sweep_text(12), "b.h5");
  a.run(1);
  b.run(1);
  const auto records_a = test::search_records(a.journal()), records_b = test::search_records(b.journal());
  REQUIRE(records_a.size() == 24);
  CHECK(records_a == records_b);
  // Another search seed suggests something else.
  std::string other_spec = search_sweep_text(12);
  other_spec.replace(other_spec.find("seed = 7"), 8, "seed = 8");
  SearchRun c(dir, other_spec, "c.h5");
  c.run(1);
  CHECK(test::search_records(c.journal()) != records_a);
}

TEST_CASE("a search stopped mid-way and resumed repeats no trial, loses no observation and, with one worker, "
          "suggests what an uninterrupted run does",
          "[search][orchestrator]") {
  test::Scratch dir;
  constexpr int kTrials = 12;
  FakeWork::Options options;
  options.epoch_time = std::chrono::milliseconds(3);
  SearchRun reference(dir, search_sweep_text(kTrials), "reference.h5");
  reference.run(1, options);

  for (int workers : {1, 2}) {
    INFO(workers << " workers");
    SearchRun run(dir, search_sweep_text(kTrials), "stopped" + std::to_string(workers) + ".h5");
    for (int stop_at : {7, 19, 33}) {
      int polls = 0;
      const ScheduleOutcome outcome = run.run(workers, options, [&] { return ++polls >= stop_at ? 15 : 0; });
      CHECK(outcome.stop == StopReason::signal);
    }
    CHECK(run.run(workers, options).stop == StopReason::none);
    REQUIRE(run.points.size() == kTrials * 2);
    for (const auto& p : run.points) CHECK(p.status == PointStatus::done);
    check_audit(audit_search(run.journal(), kTrials, 2));
    if (workers == 1) CHECK(test::search_records(run.journal()) == test::search_records(reference.journal()));
  }
}

TEST_CASE("a suggestion journaled but not planned (a kill in between) is planned on resume", "[search][orchestrator]") {
  test::Scratch dir;
  SearchRun run(dir, search_sweep_text(4, "random"));
  {  // Journal trial 0's suggestion by hand, as a run killed before the plan would leave it.
    ResultsFile results(run.path, SweepIdentity{run.sweep.name, run.sweep.source_path, run.sweep.spec_text},
                        ResultsFileOptions{false, 0, [](const std::string&) {}});
    auto search = sweeps::make_search(run.sweep);
    search->suggest();
    results.record_search(sweeps::to_json(search->history().back()));
  }
  CHECK(run.run(2).stop == StopReason::none);
  CHECK(run.points.size() == 8);
  check_audit(audit_search(run.journal(), 4, 2));
}

TEST_CASE("TPE with ASHA: points stop at their rungs, a trial is observed once all its seeds are at a rung or done",
          "[search][orchestrator]") {
  test::Scratch dir;
  constexpr int kTrials = 18;
  SearchRun run(dir, search_sweep_text(kTrials, "tpe", /*epochs=*/9,
                                       "[early_stopping]\nmethod = \"asha\"\nmin_epochs = 1\nreduction_factor = 3\n"));
  const ScheduleOutcome outcome = run.run(2);
  CHECK(outcome.stop == StopReason::none);
  REQUIRE(run.points.size() == kTrials * 2);
  int stopped = 0, done = 0;
  for (const auto& p : run.points) {
    CHECK(is_finished(p.status));
    stopped += p.status == PointStatus::stopped;
    done += p.status == PointStatus::done;
  }
  CHECK(stopped > 0);
  CHECK(done > 0);
  check_audit(audit_search(run.journal(), kTrials, 2));
}

TEST_CASE("a [search] sweep with successive halving is refused: its rungs need every point up front",
          "[search][orchestrator]") {
  for (const char* method : {"successive_halving", "hyperband"}) {
    const std::string spec =
        search_sweep_text(4, "tpe", 9, std::string("[early_stopping]\nmethod = \"") + method + "\"\nmin_epochs = 1\n");
    // The spec is refused where it says so; make_policy refuses such a sweep too.
    CHECK_THROWS_WITH(sweeps::parse_sweep(spec, "search.toml"),
                      Catch::Contains("search.toml:17:1") && Catch::Contains("synchronous rungs") &&
                          Catch::Contains(method));
  }
}

TEST_CASE("ablate run on a [search] spec states the budget, runs every trial and resumes to the same end",
          "[search][orchestrator]") {
  test::Scratch dir;
  RunOptions options;
  options.spec_path = dir.write("search.toml", search_sweep_text(6));
  options.results_path = dir.file("results.h5");
  options.progress = ProgressStyle::quiet;
  options.flush_interval_seconds = 0;
  test::TestCommunicator comm;
  FakeWork::Options fake;
  fake.val_acc = test::search_val_acc;
  FakeWork work(fake);
  std::ostringstream out;
  CHECK(run_sweep(options, comm, work, out) == kExitOk);
  INFO(out.str());
  CHECK_THAT(out.str(), Catch::StartsWith("ablate run: sweep 'search'") &&
                            Catch::Contains("search tpe (seed 7): 6 trials x 2 seeds = 12 points (4 random first); "
                                            "0 done, 0 failed, 12 to run") &&
                            Catch::Contains("ablate run: 12 done, 0 failed, 0 unfinished of 12 points"));
  CHECK(work.started().size() == 12);

  // Run again: nothing left to suggest or train.
  FakeWork again(fake);
  std::ostringstream out2;
  CHECK(run_sweep(options, comm, again, out2) == kExitOk);
  CHECK(again.started().empty());
  CHECK_THAT(out2.str(), Catch::Contains("12 done, 0 failed, 0 to run"));
}
