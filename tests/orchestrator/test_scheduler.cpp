// Tests of orchestrator/scheduler (with ThreadChannel): the queue order, every
// point exactly once over several workers, failures and stops, in milliseconds.
#include <algorithm>
#include <catch2/catch.hpp>
#include <deque>
#include <set>
#include <thread>
#include <sstream>

#include "orchestrator/fake_work.hpp"
#include "orchestrator/planned_points.hpp"
#include "orchestrator/scheduler.hpp"
#include "orchestrator/thread_channel.hpp"
#include "orchestrator_test_support.hpp"

using namespace ablate;
using ablate::test::PointKey;

namespace {

struct Ledger {
  explicit Ledger(const test::Scratch& dir, const sweeps::Sweep& sweep)
      : results(dir.file("r.h5"), SweepIdentity{sweep.name, sweep.source_path, sweep.spec_text},
                ResultsFileOptions{false, 0, [](const std::string&) {}}) {
    results.plan(planned_points(sweep.points));
  }
  ResultsFile results;
};

std::vector<WorkerInfo> infos(int n) {
  std::vector<WorkerInfo> out;
  for (int i = 0; i < n; ++i) out.push_back({"thread " + std::to_string(i), "host", "fake", "fake", "fake"});
  return out;
}

const auto kNoSignal = [] { return 0; };

}  // namespace

TEST_CASE("a point's label names its case and only what varies within the case", "[orchestrator]") {
  const sweeps::Sweep sweep = sweeps::parse_sweep(R"(name = "labels"
seeds = [0]
[base]
model = "mlp"
epochs = 1
[grid]
lr = [0.1, 0.5]
[[cases]]
name = "small"
hidden = [64]
dropout = 0.1
[[cases]]
name = "wide"
hidden = [512]
)",
                                                  "labels.toml");
  const auto keys = label_keys(sweep);
  std::set<std::string> labels;
  for (const auto& point : sweep.points) labels.insert(point_label(point, keys.at(point.case_name)));
  CHECK(labels == std::set<std::string>{"small lr=0.1 seed=0", "small lr=0.5 seed=0", "wide lr=0.1 seed=0",
                                        "wide lr=0.5 seed=0"});
  // A grid without cases shows every varied key.
  const sweeps::Sweep grid = sweeps::parse_sweep(test::fake_sweep_text(), "fake.toml");
  CHECK(point_label(grid.points[0], label_keys(grid).at("")) == "hidden=[64] lr=0.1 seed=0");
}

TEST_CASE("the queue holds pending points most expensive first ties in sweep order", "[orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(test::fake_sweep_text(), "fake.toml");
  Ledger ledger(dir, sweep);
  const auto keys = test::keys_by_id(sweep);

  std::vector<PointKey> order;
  for (const auto& q : build_queue(sweep, ledger.results)) order.push_back(keys.at(q.item.id));
  const std::vector<PointKey> expected = {{256, 0.1, 0}, {256, 0.1, 1}, {256, 0.5, 0}, {256, 0.5, 1},
                                          {128, 0.1, 0}, {128, 0.1, 1}, {128, 0.5, 0}, {128, 0.5, 1},
                                          {64, 0.1, 0},  {64, 0.1, 1},  {64, 0.5, 0},  {64, 0.5, 1}};
  CHECK(order == expected);

  const auto queue = build_queue(sweep, ledger.results);
  CHECK(queue.front().epochs == 3);
  CHECK(queue.front().label == "hidden=[256] lr=0.1 seed=0");
  CHECK(queue.front().item.config_text == sweep.points[4].config_text);

  // Done and failed points leave the queue.
  ledger.results.start_point(queue[0].item.id, {"h", "d", "t"});
  ledger.results.finish_point(queue[0].item.id, fake_result(nlohmann::json::parse(queue[0].item.config_text)));
  ledger.results.fail_point(queue[1].item.id, "boom");
  const auto rest = build_queue(sweep, ledger.results);
  REQUIRE(rest.size() == 10);
  CHECK(keys.at(rest.front().item.id) == PointKey{256, 0.5, 0});
}

TEST_CASE("three workers share the queue and every point is done exactly once", "[orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(test::fake_sweep_text(), "fake.toml");
  Ledger ledger(dir, sweep);
  FakeWork::Options slow;
  slow.epoch_time = std::chrono::milliseconds(2);
  FakeWork a(slow), b(slow), c(slow);
  std::ostringstream out;
  ProgressReporter progress(out, ProgressStyle::lines, 3);

  ScheduleOutcome outcome;
  {
    ThreadChannel channel({&a, &b, &c}, infos(3));
    Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), {}, progress);
    outcome = scheduler.run(channel, kNoSignal);
  }
  CHECK(outcome.stop == StopReason::none);
  CHECK(outcome.done == 12);
  CHECK(outcome.failed == 0);

  std::vector<std::string> trained;
  for (const FakeWork* w : {&a, &b, &c}) {
    const std::vector<std::string> finished = w->finished();
    CHECK(!finished.empty());  // 12 points of 6 ms over 3 workers: each gets some
    trained.insert(trained.end(), finished.begin(), finished.end());
  }
  std::sort(trained.begin(), trained.end());
  std::vector<std::string> ids;
  for (const auto& p : sweep.points) ids.push_back(p.id);
  std::sort(ids.begin(), ids.end());
  CHECK(trained == ids);  // each once
  for (const auto& id : ids) {
    CHECK(ledger.results.status(id) == PointStatus::done);
    CHECK(ledger.results.attempts(id) == 1);
  }
  ledger.results.close();
  for (const auto& [id, n] : test::journal_counts(dir.file("r.h5.journal"), "done")) CHECK(n == 1);
  CHECK(test::journal_counts(dir.file("r.h5.journal"), "epoch").size() == 12);
  for (const auto& [id, n] : test::journal_counts(dir.file("r.h5.journal"), "epoch")) CHECK(n == 3);
}

TEST_CASE("failures are recorded and counted - N in a row stop the sweep", "[orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(test::fake_sweep_text(), "fake.toml");
  Ledger ledger(dir, sweep);
  const auto keys = test::keys_by_id(sweep);
  FakeWork::Options options;
  options.rules.push_back({"lr", 0.5, FakeWork::Action::fail, 2, "out of memory (fake)", {}});
  FakeWork work(options);
  std::ostringstream out;
  ProgressReporter progress(out, ProgressStyle::lines, 1);

  SECTION("failures that never come 3 in a row let the sweep finish") {
    ThreadChannel channel({&work}, infos(1));
    SchedulerOptions scheduler_options;
    scheduler_options.max_consecutive_failures = 3;
    Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), scheduler_options, progress);
    const ScheduleOutcome outcome = scheduler.run(channel, kNoSignal);
    CHECK(outcome.stop == StopReason::none);
    CHECK(outcome.done == 6);
    CHECK(outcome.failed == 6);  // lr=0.5 comes in pairs (two seeds), then two lr=0.1 points
    for (const auto& [id, key] : keys)
      CHECK(ledger.results.status(id) == (std::get<1>(key) == 0.5 ? PointStatus::failed : PointStatus::done));
    CHECK(out.str().find("FAILED") != std::string::npos);
    CHECK(out.str().find("out of memory (fake)") != std::string::npos);
  }
  SECTION("two in a row stop it: the points after the second failure stay pending") {
    ThreadChannel channel({&work}, infos(1));
    SchedulerOptions scheduler_options;
    scheduler_options.max_consecutive_failures = 2;
    scheduler_options.hand_ahead_below_seconds = 0;  // nothing held in advance: the counts below are exact
    Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), scheduler_options, progress);
    const ScheduleOutcome outcome = scheduler.run(channel, kNoSignal);
    CHECK(outcome.stop == StopReason::consecutive_failures);
    CHECK_THAT(outcome.stop_message, Catch::Contains("2 points failed in a row") &&
                                         Catch::Contains("out of memory (fake)") && Catch::Contains("--retry-failed"));
    CHECK(outcome.done == 2);    // 256/0.1 seeds 0 and 1
    CHECK(outcome.failed == 2);  // 256/0.5 seeds 0 and 1
    CHECK(ledger.results.ids_with(PointStatus::pending).size() == 8);
    CHECK(work.started().size() == 4);
  }
  SECTION("two in a row stop it with packs held in advance too: every point done, failed or left to resume") {
    ThreadChannel channel({&work}, infos(1));
    SchedulerOptions scheduler_options;
    scheduler_options.max_consecutive_failures = 2;
    scheduler_options.hand_ahead_below_seconds = 60;  // the worker may hold up to 4 packs when the failures come
    Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), scheduler_options, progress);
    const ScheduleOutcome outcome = scheduler.run(channel, kNoSignal);
    CHECK(outcome.stop == StopReason::consecutive_failures);
    // The worker may end a held point or two (here, failing ones) before the stop reaches it: recorded as they ended.
    CHECK(outcome.failed >= 2);
    const auto count = [&](PointStatus status) { return static_cast<int>(ledger.results.ids_with(status).size()); };
    CHECK(count(PointStatus::done) == outcome.done);
    CHECK(count(PointStatus::failed) == outcome.failed);
    CHECK(count(PointStatus::running) == outcome.interrupted);  // pending again at the next open
    CHECK(outcome.done + outcome.failed + outcome.interrupted + count(PointStatus::pending) == 12);
  }
}

TEST_CASE("a signal stops every worker at its next epoch - nothing is lost", "[orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(test::fake_sweep_text(), "fake.toml");
  Ledger ledger(dir, sweep);
  FakeWork::Options slow;
  slow.epoch_time = std::chrono::milliseconds(5);
  FakeWork a(slow), b(slow);
  std::ostringstream out;
  ProgressReporter progress(out, ProgressStyle::lines, 2);
  int polls = 0;
  // The "signal" arrives at the 20th look: after a few points, mid-way through others.
  const auto signal_after_a_while = [&] { return ++polls >= 20 ? 2 : 0; };

  ThreadChannel channel({&a, &b}, infos(2));
  Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), {}, progress);
  const ScheduleOutcome outcome = scheduler.run(channel, signal_after_a_while);
  CHECK(outcome.stop == StopReason::signal);
  CHECK_THAT(outcome.stop_message, Catch::Contains("SIGINT received") && Catch::Contains("rerun"));
  const size_t done = ledger.results.ids_with(PointStatus::done).size();
  const size_t running = ledger.results.ids_with(PointStatus::running).size();
  CHECK(done == static_cast<size_t>(outcome.done));
  CHECK(running == static_cast<size_t>(outcome.interrupted));  // left running: pending at the next open
  CHECK(done + running + ledger.results.ids_with(PointStatus::pending).size() == 12);
  CHECK(done < 12);
}

TEST_CASE("a worker silent past the stall timeout ends the run at once naming it", "[orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(test::fake_sweep_text(), "fake.toml");
  Ledger ledger(dir, sweep);
  FakeWork::Options options;
  options.rules.push_back(
      {"hidden", nlohmann::json::array({256}), FakeWork::Action::stall, 2, "", std::chrono::milliseconds(1500)});
  FakeWork work(options);
  std::ostringstream out;
  ProgressReporter progress(out, ProgressStyle::quiet, 1);
  ThreadChannel channel({&work}, infos(1));
  SchedulerOptions scheduler_options;
  scheduler_options.stall_timeout_seconds = 0.3;
  Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), scheduler_options, progress);
  const auto begin = std::chrono::steady_clock::now();
  const ScheduleOutcome outcome = scheduler.run(channel, kNoSignal);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  CHECK(outcome.stop == StopReason::stalled);
  CHECK(waited < 1.2);  // it did not wait for the stalled worker
  CHECK_THAT(outcome.stop_message, Catch::Contains("thread 0 on host host has reported nothing for 0.3 s") &&
                                       Catch::Contains("hidden=[256] lr=0.1 seed=0") &&
                                       Catch::Contains("after epoch 1/3"));
  CHECK(out.str() == outcome.stop_message + "\n");  // notes are printed even when quiet
}

namespace {

// A worker that trains nothing: at every second look of the scheduler for an
// event, the oldest pack it holds ends (done, or interrupted after a stop). It
// records how many packs the worker held at each assignment.
class ScriptedChannel : public WorkerChannel {
 public:
  int worker_count() const override { return 1; }
  const WorkerInfo& worker(int) const override { return info_; }
  void assign(int, const std::vector<WorkItem>& pack) override {
    held_.push_back(pack);
    held_at_assign.push_back(static_cast<int>(held_.size()));
  }
  void verdict(int, const std::string&, EpochVerdict) override {}
  void stop(int) override { stopped = true; }
  std::optional<WorkerEvent> next_event(std::chrono::milliseconds) override {
    std::this_thread::sleep_for(look_time);
    if (++looks_ % 2 == 1 || held_.empty()) return std::nullopt;  // still training
    WorkerEvent event;
    event.point_id = held_.front().front().id;  // packs of one here
    event.kind = stopped ? WorkerEvent::Kind::interrupted : WorkerEvent::Kind::done;
    if (!stopped) event.result = fake_result(nlohmann::json::parse(held_.front().front().config_text));
    (stopped ? interrupted : done).push_back(event.point_id);
    held_.pop_front();
    return event;
  }

  std::vector<int> held_at_assign;
  std::vector<std::string> done, interrupted;
  bool stopped = false;
  std::chrono::milliseconds look_time{0};  // each look lasts this long: a pack at least twice as long

 private:
  WorkerInfo info_{"scripted", "host", "fake", "fake", "fake"};
  std::deque<std::vector<WorkItem>> held_;
  int looks_ = 0;
};

}  // namespace

TEST_CASE("short points are handed ahead - up to 4 packs and their threshold's worth - a stop ends held ones "
          "interrupted",
          "[orchestrator]") {
  test::Scratch dir;
  const sweeps::Sweep sweep = sweeps::parse_sweep(test::fake_sweep_text(), "fake.toml");
  Ledger ledger(dir, sweep);
  std::ostringstream out;
  ProgressReporter progress(out, ProgressStyle::quiet, 1);
  ScriptedChannel channel;
  SchedulerOptions options;
  options.hand_ahead_below_seconds = 60;  // every pack is short (a loaded machine can make an instant one take 50 ms)

  SECTION("a sweep of instant points: from the second on, each is handed over before the last one ends") {
    Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), options, progress);
    const ScheduleOutcome outcome = scheduler.run(channel, kNoSignal);
    CHECK(outcome.done == 12);
    CHECK(channel.done.size() == 12);
    CHECK(std::set<std::string>(channel.done.begin(), channel.done.end()).size() == 12);
    CHECK(outcome.handed_ahead == 10);  // the first two go to an idle worker (no pack time measured yet)
    // The pack it trains and four held.
    CHECK(*std::max_element(channel.held_at_assign.begin(), channel.held_at_assign.end()) == 5);
    CHECK(ledger.results.ids_with(PointStatus::done).size() == 12);
  }
  SECTION("packs of 20 ms or more under a 60 ms threshold: at most 3 held, 60 ms of work") {
    options.hand_ahead_below_seconds = 0.06;
    channel.look_time = std::chrono::milliseconds(10);
    Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), options, progress);
    const ScheduleOutcome outcome = scheduler.run(channel, kNoSignal);
    CHECK(outcome.done == 12);
    CHECK(*std::max_element(channel.held_at_assign.begin(), channel.held_at_assign.end()) <= 4);
  }
  SECTION("hand-ahead off, or packs longer than its threshold: never more than one pack") {
    options.hand_ahead_below_seconds = GENERATE(0.0, 1e-9);
    Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), options, progress);
    const ScheduleOutcome outcome = scheduler.run(channel, kNoSignal);
    CHECK(outcome.done == 12);
    CHECK(outcome.handed_ahead == 0);
    CHECK(*std::max_element(channel.held_at_assign.begin(), channel.held_at_assign.end()) == 1);
  }
  SECTION("a stop while a pack is held: both the running and the held point end interrupted, nothing lost") {
    int polls = 0;
    // At the 6th look the worker trains the 3rd point and holds the 4th to the 7th (see ScriptedChannel).
    const auto signal_at_sixth_look = [&] { return ++polls >= 6 ? 15 : 0; };
    Scheduler scheduler(ledger.results, build_queue(sweep, ledger.results), options, progress);
    const ScheduleOutcome outcome = scheduler.run(channel, signal_at_sixth_look);
    CHECK(outcome.done == 2);
    CHECK(outcome.stop == StopReason::signal);
    CHECK(channel.stopped);
    REQUIRE(channel.interrupted.size() == 5);  // the pack it trained and the four it held
    CHECK(outcome.interrupted == 5);
    const auto running = ledger.results.ids_with(PointStatus::running);  // pending again at the next open
    CHECK(std::set<std::string>(running.begin(), running.end()) ==
          std::set<std::string>(channel.interrupted.begin(), channel.interrupted.end()));
    CHECK(static_cast<int>(ledger.results.ids_with(PointStatus::done).size()) == outcome.done);
    CHECK(outcome.done + 5 + static_cast<int>(ledger.results.ids_with(PointStatus::pending).size()) == 12);
  }
}
