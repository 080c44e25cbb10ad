// Tests of orchestrator/policy (early stopping) with FakeWork and prescribed
// curves: successive halving against a brute-force reference, Hyperband's
// brackets, ASHA's promotion rule checked record by record in the journal, the
// median rule, and resume after a stop in the middle of a sweep.
#include <unistd.h>
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "orchestrator/fake_work.hpp"
#include "orchestrator/policy/successive_halving_policy.hpp"
#include "orchestrator/scheduler.hpp"
#include "orchestrator/thread_channel.hpp"
#include "early_stopping_support.hpp"
#include "in_process_sweep.hpp"
#include "orchestrator_test_support.hpp"

using namespace ablate;
using test::brute_force_halving;
using test::es_sweep_text;
using test::wiggly_val_acc;

namespace {

// The fixture sweep, run in process with FakeWorks on the wiggly curves.
struct EsRun : test::InProcessSweep {
  EsRun(const test::Scratch& dir, const sweeps::Sweep& s, const std::string& name = "es.h5")
      : InProcessSweep(dir, s, name) {}
  ScheduleOutcome run(int workers, FakeWork::Options options, const std::function<int()>& stop_signal = {}) {
    options.val_acc = wiggly_val_acc;
    return InProcessSweep::run(workers, options, stop_signal);
  }
};

void check_matches(const EsRun& run, const std::map<std::string, int>& expected, int budget) {
  for (const auto& [id, end] : expected) {
    const LedgerPoint& p = run.point(id);
    INFO("point " << id << " expected to end at epoch " << end);
    CHECK(p.status == (end == budget ? PointStatus::done : PointStatus::stopped));
    REQUIRE(p.result.has_value());
    CHECK(p.result->epochs_trained == end);
    CHECK(static_cast<int>(p.curves.size()) == end);
  }
}

int total_epochs(const std::vector<LedgerPoint>& points) {
  int total = 0;
  for (const auto& p : points) total += static_cast<int>(p.curves.size());
  return total;
}

}  // namespace

TEST_CASE("successive halving stops and promotes exactly what a brute-force reference does",
          "[early_stopping][orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(es_sweep_text("successive_halving"), "es.toml");
  REQUIRE(sweep.points.size() == 27);
  const auto expected = brute_force_halving(sweep.points, {1, 3, 9}, 3);
  for (int workers : {1, 3}) {
    DYNAMIC_SECTION(workers << " workers") {
      EsRun run(dir, sweep, "sh" + std::to_string(workers) + ".h5");
      FakeWork::Options options;
      options.epoch_time = std::chrono::milliseconds(workers == 1 ? 0 : 1);
      const ScheduleOutcome outcome = run.run(workers, options);
      CHECK(outcome.stop == StopReason::none);
      check_matches(run, expected, 9);
      // 27 x 1 + 9 x 2 + 3 x 6 epochs instead of 27 x 9.
      CHECK(total_epochs(run.points) == 27 + 18 + 18);
    }
  }
}

TEST_CASE("Hyperband puts every seed of a configuration in one bracket, the same in every process",
          "[early_stopping][orchestrator]") {
  const sweeps::Sweep sweep = sweeps::parse_sweep(es_sweep_text("hyperband", 27, 9) + "", "es.toml");
  std::string here;
  for (const auto& p : sweep.points) here += std::to_string(hyperband_bracket(p.config_text, 2, 3));
  // Another process computes the same brackets.
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    std::string there;
    for (const auto& p : sweep.points) there += std::to_string(hyperband_bracket(p.config_text, 2, 3));
    (void)!::write(pipe_fds[1], there.data(), there.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string there(here.size(), '?');
  size_t got = 0;
  while (got < there.size()) {
    const ssize_t n = ::read(pipe_fds[0], there.data() + got, there.size() - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(pipe_fds[0]);
  ::waitpid(child, nullptr, 0);
  CHECK(there == here);
  // Every bracket gets points, the aggressive ones most (weights 9, 5, 3 of 17).
  CHECK(std::count(here.begin(), here.end(), '2') > std::count(here.begin(), here.end(), '0'));

  // Seeds of one configuration share its bracket.
  auto with_seed = [](const std::string& text, int seed) {
    auto config = nlohmann::json::parse(text);
    config["seed"] = seed;
    return config.dump();
  };
  for (const auto& p : sweep.points)
    CHECK(hyperband_bracket(with_seed(p.config_text, 7), 2, 3) == hyperband_bracket(p.config_text, 2, 3));
}

TEST_CASE("Hyperband runs each bracket as successive halving from its own first rung",
          "[early_stopping][orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(es_sweep_text("hyperband"), "es.toml");
  EsRun run(dir, sweep);
  FakeWork::Options options;
  options.epoch_time = std::chrono::milliseconds(1);
  CHECK(run.run(2, options).stop == StopReason::none);
  const std::vector<int> rungs = {1, 3, 9};
  for (int s = 2; s >= 0; --s) {
    std::vector<sweeps::SweepPoint> bracket;
    for (const auto& p : sweep.points)
      if (hyperband_bracket(p.config_text, 2, 3) == s) bracket.push_back(p);
    INFO("bracket s = " << s << " with " << bracket.size() << " points");
    const std::vector<int> its_rungs(rungs.begin() + (2 - s), rungs.end());
    check_matches(run, brute_force_halving(bracket, its_rungs, 3), 9);
  }
}

TEST_CASE("ASHA promotes only from the top 1/eta of a rung, promotes before starting new points, and leaves "
          "nothing paused",
          "[early_stopping][orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(es_sweep_text("asha"), "es.toml");
  EsRun run(dir, sweep);
  FakeWork::Options options;
  options.epoch_time = std::chrono::milliseconds(2);
  CHECK(run.run(4, options).stop == StopReason::none);

  // Replay the journal: at each promotion "top", the point is in the top
  // floor(n/eta) of the n points that had reached its rung by then; at each start
  // of a new point, no paused point could have been promoted that way.
  const test::AshaAudit audit = test::audit_asha(run.journal(), 3);
  for (const auto& problem : audit.problems) FAIL_CHECK(problem);
  const int top_promotions = audit.top_promotions, idle_promotions = audit.idle_promotions;
  CHECK(top_promotions >= 9 + 3);  // at least the synchronous share: 9 from rung 1, 3 from rung 3
  for (const auto& p : run.points) {
    CHECK(p.status != PointStatus::paused);
    CHECK(p.status != PointStatus::pending);
  }
  const int epochs = total_epochs(run.points);
  INFO("ASHA trained " << epochs << " epochs of 243, idle promotions " << idle_promotions);
  CHECK(epochs < 243 / 2);
  // The best point at the end reached the top rung.
  CHECK(std::count_if(run.points.begin(), run.points.end(),
                      [](const LedgerPoint& p) { return p.status == PointStatus::done; }) >= 1);
}

TEST_CASE("the median rule stops a point only below the median of the others at its epoch",
          "[early_stopping][orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(es_sweep_text("median", 12, 6), "es.toml");
  EsRun run(dir, sweep);
  FakeWork::Options options;
  options.epoch_time = std::chrono::milliseconds(2);
  CHECK(run.run(2, options).stop == StopReason::none);

  // Replay: every stop's value is below the median of the other points' values
  // at that epoch as the journal had them then.
  std::map<std::string, std::map<int, double>> values;  // id -> epoch -> val_acc
  int stops = 0;
  for (const auto& record : run.journal()) {
    const std::string type = record.value("t", "");
    const std::string id = record.value("id", "");
    if (type == "epoch") values[id][record.at("m")[0].get<int>()] = record.at("m")[4].get<double>();
    if (type != "stop") continue;
    ++stops;
    int epoch = 0;
    double value = 0;
    if (record.contains("epoch")) {
      epoch = record.at("epoch").get<int>(), value = record.at("value").get<double>();
    } else {  // a paused point stopped: its pause said where
      epoch = run.point(id).rungs.back().epoch, value = run.point(id).rungs.back().value;
    }
    std::vector<double> others;
    for (const auto& [other, by_epoch] : values)
      if (other != id && by_epoch.count(epoch)) others.push_back(by_epoch.at(epoch));
    REQUIRE(others.size() >= 3);
    std::sort(others.begin(), others.end());
    const size_t half = others.size() / 2;
    const double median = others.size() % 2 ? others[half] : (others[half - 1] + others[half]) / 2;
    INFO("stopped " << id << " at epoch " << epoch << " with " << value << ", median of others " << median);
    CHECK(value < median);
  }
  CHECK(stops > 0);
  CHECK(total_epochs(run.points) < 12 * 6);
  for (const auto& p : run.points) CHECK((p.status == PointStatus::done || p.status == PointStatus::stopped));
}

TEST_CASE("a sweep stopped mid-way resumes with its decisions standing and ends as an uninterrupted one",
          "[early_stopping][orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(es_sweep_text("successive_halving"), "es.toml");
  const auto expected = brute_force_halving(sweep.points, {1, 3, 9}, 3);
  EsRun run(dir, sweep);
  FakeWork::Options options;
  options.epoch_time = std::chrono::milliseconds(3);
  options.checkpoint_results_path = run.path;

  // Stop twice in the middle (as a signal would), then let it finish.
  for (int stop_at : {25, 40}) {
    int polls = 0;
    const ScheduleOutcome outcome = run.run(2, options, [&] { return ++polls >= stop_at ? 15 : 0; });
    REQUIRE(outcome.stop == StopReason::signal);
    // Nothing trained past its rung: a point has at most the epochs its last `until` allowed.
    for (const auto& p : run.points) {
      const int allowed = p.until > 0 ? p.until : 1;
      INFO("point " << p.planned.id << " has " << p.curves.size() << " epochs, allowed " << allowed);
      CHECK(static_cast<int>(p.curves.size()) <= allowed);
    }
  }
  const auto decided_before = run.journal();
  CHECK(run.run(2, options).stop == StopReason::none);
  check_matches(run, expected, 9);

  // The decisions made before the stops stand: the final journal holds them, in order.
  std::vector<std::string> before, after;
  for (const auto& r : decided_before)
    if (r.value("t", "") == "promote" || r.value("t", "") == "stop" || r.value("t", "") == "pause")
      before.push_back(r.dump());
  for (const auto& r : run.journal())
    if (r.value("t", "") == "promote" || r.value("t", "") == "stop" || r.value("t", "") == "pause")
      after.push_back(r.dump());
  REQUIRE(after.size() >= before.size());
  CHECK(std::equal(before.begin(), before.end(), after.begin()));
  // Nothing is decided twice: a point pauses at ever later rungs, and nothing follows its stop.
  std::map<std::string, int> last_pause;
  std::set<std::string> stopped;
  for (const auto& r : run.journal()) {
    const std::string id = r.value("id", "");
    if (id.empty()) continue;
    INFO("record " << r.dump().substr(0, 120));
    CHECK(stopped.count(id) == 0);
    if (r.at("t") == "pause") {
      CHECK(r.at("epoch").get<int>() > last_pause[id]);
      last_pause[id] = r.at("epoch").get<int>();
    }
    if (r.at("t") == "stop") stopped.insert(id);
  }

  // Promoted points resumed from their checkpoints: the rows before their last
  // rung carry the stamps of the attempt that first trained them.
  std::map<std::pair<std::string, int>, double> first_stamp;
  int replayed = 0;
  for (const auto& r : run.journal()) {
    if (r.value("t", "") != "epoch") continue;
    const auto key = std::make_pair(r.at("id").get<std::string>(), r.at("m")[0].get<int>());
    const double stamp = r.at("m")[8].get<double>();
    if (auto [it, fresh] = first_stamp.emplace(key, stamp); !fresh) {
      ++replayed;
      CHECK(it->second == stamp);
    }
  }
  CHECK(replayed >= 9);  // every promotion replays the rows it had
}

TEST_CASE("an [early_stopping] section is checked like every other part of a spec", "[early_stopping][sweeps]") {
  auto error_of = [](const std::string& text) {
    try {
      sweeps::parse_sweep(text, "es.toml");
    } catch (const sweeps::SpecError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string base = "[base]\nepochs = 9\n[grid]\nlr = [0.1, 0.2]\n";
  CHECK_THAT(error_of(base + "[early_stopping]\nmethod = \"ashaa\"\n"),
             Catch::Contains("es.toml:6") && Catch::Contains("did you mean 'asha'"));
  CHECK_THAT(error_of(base + "[early_stopping]\nmethod = \"asha\"\nmetrc = \"val_acc\"\n"),
             Catch::Contains("es.toml:7:1") && Catch::Contains("did you mean 'metric'"));
  CHECK_THAT(error_of(base + "[early_stopping]\nmethod = \"asha\"\nmetric = \"val_accuracy\"\n"),
             Catch::Contains("not a curve column") && Catch::Contains("val_acc"));
  CHECK_THAT(error_of(base + "[early_stopping]\nmethod = \"asha\"\nmin_epochs = 9\n"),
             Catch::Contains("min_epochs = 9") && Catch::Contains("9 epochs"));
  CHECK_THAT(error_of(base + "[early_stopping]\nmetric = \"val_loss\"\n"), Catch::Contains("needs method"));
  CHECK_THAT(error_of("[base]\nepochs = 9\n[grid]\nepochs = [3, 9]\n[early_stopping]\nmethod = \"asha\"\n"),
             Catch::Contains("same epochs"));
  CHECK_THAT(error_of(base + "[early_stopping]\nmethod = \"asha\"\nreduction_factor = 1\n"),
             Catch::Contains("reduction_factor"));

  const sweeps::Sweep sweep =
      sweeps::parse_sweep(base + "[early_stopping]\nmethod = \"median\"\nmetric = \"val_loss\"\n", "es.toml");
  REQUIRE(sweep.early_stopping);
  CHECK(sweep.early_stopping->method == "median");
  CHECK_FALSE(sweep.early_stopping->maximize);  // a loss is minimised
  CHECK(sweep.early_stopping->min_epochs == 1);
  CHECK(sweep.early_stopping->reduction_factor == 3);
}
