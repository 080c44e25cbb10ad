// InProcessSweep: a sweep run in this process the way `ablate run` runs it (results
// file, the sweep's scheduling policy, the scheduler), with N FakeWork threads as
// workers: the fixture of the policy and search tests.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "orchestrator/fake_work.hpp"
#include "orchestrator/planned_points.hpp"
#include "orchestrator/scheduler.hpp"
#include "orchestrator/thread_channel.hpp"
#include "orchestrator_test_support.hpp"

namespace ablate::test {

inline std::vector<WorkerInfo> thread_infos(int n) {
  std::vector<WorkerInfo> out;
  for (int i = 0; i < n; ++i) out.push_back({"thread " + std::to_string(i), "host", "fake", "fake", "fake"});
  return out;
}

// A FakeWork that records the packs it is handed (their IDs, in order).
class PackRecordingWork : public FakeWork {
 public:
  using FakeWork::FakeWork;
  void train_pack(const std::vector<WorkItem>& items, const ItemEpochCallback& on_epoch,
                  const ItemEndCallback& on_end) override {
    {
      std::lock_guard lock(packs_mutex_);
      packs_.emplace_back();
      for (const auto& item : items) packs_.back().push_back(item.id);
    }
    FakeWork::train_pack(items, on_epoch, on_end);
  }
  std::vector<std::vector<std::string>> packs() const {
    std::lock_guard lock(packs_mutex_);
    return packs_;
  }

 private:
  mutable std::mutex packs_mutex_;
  std::vector<std::vector<std::string>> packs_;
};

struct InProcessSweep {
  InProcessSweep(const Scratch& dir, sweeps::Sweep s, const std::string& name) : sweep(std::move(s)), path(dir.file(name)) {}

  // Runs (or resumes) the sweep with `workers` FakeWorks until its end or the
  // `stop_signal`; the ledger is closed afterwards and `points` holds what it said.
  ScheduleOutcome run(int workers, const FakeWork::Options& options, const std::function<int()>& stop_signal = {}) {
    ResultsFile results(path, SweepIdentity{sweep.name, sweep.source_path, sweep.spec_text},
                        ResultsFileOptions{false, 0, [](const std::string&) {}});
    results.plan(planned_points(sweep.points));
    std::vector<std::unique_ptr<PackRecordingWork>> works;
    std::vector<PointWork*> pointers;
    for (int i = 0; i < workers; ++i) {
      works.push_back(std::make_unique<PackRecordingWork>(options));
      pointers.push_back(works.back().get());
    }
    std::ostringstream out;
    ProgressReporter progress(out, ProgressStyle::quiet, workers);
    SchedulerOptions scheduler_options;
    if (pack > 1) scheduler_options.pack_size = [this](const std::string&) { return pack; };
    scheduler_options.max_pack = pack;
    ScheduleOutcome outcome;
    {
      ThreadChannel channel(pointers, thread_infos(workers));
      Scheduler scheduler(results, build_queue(sweep, results), scheduler_options, progress,
                          make_policy(sweep, policy_points(sweep), results));
      outcome = scheduler.run(channel, stop_signal ? stop_signal : [] { return 0; });
    }
    points = results.points();
    for (const auto& work : works)
      for (auto& p : work->packs()) packs.push_back(std::move(p));
    return outcome;
  }

  const LedgerPoint& point(const std::string& id) const {
    for (const auto& p : points)
      if (p.planned.id == id) return p;
    throw std::out_of_range("no point " + id);
  }

  // The journal's records, in order.
  std::vector<nlohmann::json> journal() const {
    Journal journal(path + ".journal");
    std::vector<nlohmann::json> records;
    const JournalReplay replay = journal.replay();
    for (const auto& entry : replay.entries) records.push_back(replay.record(entry));
    return records;
  }

  sweeps::Sweep sweep;
  std::string path;
  int pack = 1;                     // --pack K: points per pack
  std::vector<LedgerPoint> points;  // after run()
  std::vector<std::vector<std::string>> packs;  // every pack the workers were handed, over all runs
};

}  // namespace ablate::test
