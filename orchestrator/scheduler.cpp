// The scheduling loop: assign, listen, record, watch for stalls and stops.
#include "orchestrator/scheduler.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include "core/config.hpp"
#include "orchestrator/checkpoint_files.hpp"
#include "orchestrator/messages.hpp"
#include "orchestrator/policy/full_budget_policy.hpp"

namespace ablate {
namespace {

// How long the loop waits for an event before it looks at signals, stalls,
// the ledger's flush timer and the status line again.
constexpr std::chrono::milliseconds kPollInterval{100};

std::string json_value_text(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string signal_name(int signal_number) {
  if (signal_number == SIGINT) return "SIGINT";
  if (signal_number == SIGTERM) return "SIGTERM";
  return fmt::format("signal {}", signal_number);
}

}  // namespace

std::string point_label(const sweeps::SweepPoint& point, const std::set<std::string>& keys) {
  std::vector<std::string> parts;
  if (!point.case_name.empty()) parts.push_back(point.case_name);
  if (point.varied.is_object())
    for (const auto& [key, value] : point.varied.items()) {
      if (key == "seed" || !keys.count(key)) continue;
      parts.push_back(key + "=" + json_value_text(value));
    }
  parts.push_back(fmt::format("seed={}", point.seed));
  return fmt::format("{}", fmt::join(parts, " "));
}

std::map<std::string, std::set<std::string>> label_keys(const sweeps::Sweep& sweep) {
  std::map<std::string, std::map<std::string, std::set<std::string>>> values;  // case -> key -> value texts
  for (const auto& point : sweep.points)
    if (point.varied.is_object())
      for (const auto& [key, value] : point.varied.items()) values[point.case_name][key].insert(value.dump());
  std::map<std::string, std::set<std::string>> keys;
  for (const auto& [case_name, by_key] : values)
    for (const auto& [key, texts] : by_key)
      if (case_name.empty() || texts.size() > 1) keys[case_name].insert(key);
  return keys;
}

std::vector<QueuedPoint> build_queue(const sweeps::Sweep& sweep, const ResultsFile& results) {
  auto keys = label_keys(sweep);
  std::vector<QueuedPoint> queue;
  for (const auto& point : sweep.points) {
    const PointStatus status = results.status(point.id);
    if (status != PointStatus::pending && status != PointStatus::paused) continue;
    QueuedPoint q;
    q.item = {point.id, point.config_text};
    q.label = point_label(point, keys[point.case_name]);
    q.epochs = point.config.value("epochs", 0);
    q.cost = point.cost;
    queue.push_back(std::move(q));
  }
  // Longest first: the last points to start are the short ones, so workers finish together.
  std::stable_sort(queue.begin(), queue.end(),
                   [](const QueuedPoint& a, const QueuedPoint& b) { return a.cost > b.cost; });
  return queue;
}

std::vector<PolicyPoint> policy_points(const sweeps::Sweep& sweep) {
  std::vector<std::pair<double, PolicyPoint>> costed;
  for (const auto& point : sweep.points)
    costed.push_back({point.cost,
                      PolicyPoint{point.id, point.config.value("epochs", 0), point.config_text}});
  std::stable_sort(costed.begin(), costed.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<PolicyPoint> points;
  for (auto& [cost, point] : costed) points.push_back(std::move(point));
  return points;
}

Scheduler::Scheduler(ResultsFile& results, std::vector<QueuedPoint> queue, SchedulerOptions options,
                     ProgressReporter& progress, std::unique_ptr<SchedulingPolicy> policy)
    : results_(results), options_(options), progress_(progress), policy_(std::move(policy)) {
  options_.max_pack = std::max(1, options_.max_pack);
  if (!policy_) {  // the queue's order, every point to its last epoch
    std::vector<PolicyPoint> order;
    for (const auto& q : queue) order.push_back({q.item.id, q.epochs, q.item.config_text});
    policy_ = std::make_unique<FullBudgetPolicy>(std::move(order), results_);
  }
  for (auto& q : queue) {
    const std::string id = q.item.id;
    points_.emplace(id, std::move(q));
  }
}

bool Scheduler::any_busy() const {
  return std::any_of(workers_.begin(), workers_.end(), [](const WorkerState& w) { return w.busy; });
}

ScheduleOutcome Scheduler::run(WorkerChannel& channel, const std::function<int()>& stop_signal) {
  workers_.assign(static_cast<size_t>(channel.worker_count()), WorkerState{});
  progress_.set_slots(channel.worker_count() * options_.max_pack);
  idle_.resize(workers_.size());
  std::iota(idle_.rbegin(), idle_.rend(), 0);  // worker 0 first
  outcome_ = ScheduleOutcome{};
  consecutive_failures_ = 0;
  auto last_checks = std::chrono::steady_clock::now();

  while (true) {
    if (outcome_.stop == StopReason::none && stop_signal) {
      if (const int signal_number = stop_signal(); signal_number != 0)
        stop_all(channel, StopReason::signal,
                 fmt::format("{} received: stopping after the current epoch; unfinished points stay pending and a "
                             "rerun of the same command resumes (a second signal quits at once)",
                             signal_name(signal_number)));
    }
    assign_idle_workers(channel);
    if (!any_busy()) {
      // The policy has nothing left and nobody trains: the sweep is over. What
      // early stopping left paused stops for good, unless the sweep was cut short.
      if (outcome_.stop == StopReason::none) policy_->finish();
      stop_idle_workers(channel);
      break;
    }

    const std::optional<WorkerEvent> event = channel.next_event(kPollInterval);
    if (event) handle(channel, *event);
    // The periodic checks run every poll interval, also while events keep coming
    // (other workers' epochs must not hide a stalled one).
    const auto now = std::chrono::steady_clock::now();
    if (event && now - last_checks < kPollInterval) continue;
    last_checks = now;
    if (const int worker = stalled_worker(); worker >= 0) {
      const WorkerState& w = workers_[worker];
      const WorkerInfo& info = channel.worker(worker);
      const Member& m = *std::find_if(w.members.begin(), w.members.end(), [](const Member& x) { return !x.ended; });
      const auto others = std::count_if(w.members.begin(), w.members.end(), [](const Member& x) { return !x.ended; }) - 1;
      outcome_.stop = StopReason::stalled;
      outcome_.stop_message = fmt::format(
          "{} on host {} has reported nothing for {} s (--stall-timeout) while training point {} ({}){}, after "
          "epoch {}/{}; stopping the sweep so that a rerun resumes (if its epochs take this long, raise "
          "--stall-timeout)",
          info.name, info.host, options_.stall_timeout_seconds, m.item.id, m.point->label,
          others > 0 ? fmt::format(" and {} more point{} of its pack", others, others == 1 ? "" : "s") : "",
          m.epochs_reported, m.point->epochs);
      progress_.note(outcome_.stop_message);
      return outcome_;
    }
    results_.flush_if_due();
    progress_.tick();
  }
  return outcome_;
}

namespace {

template <typename Members>
std::vector<WorkItem> items_of(const Members& members) {
  std::vector<WorkItem> items;
  for (const auto& member : members) items.push_back(member.item);
  return items;
}

}  // namespace

void Scheduler::assign_idle_workers(WorkerChannel& channel) {
  while (!idle_.empty()) {
    const int index = idle_.back();
    WorkerState& w = workers_[index];
    if (w.stopped) {
      idle_.pop_back();
      continue;
    }
    if (outcome_.stop != StopReason::none) {
      idle_.pop_back();
      channel.stop(index);  // nothing more for it: let it leave
      w.stopped = true;
      continue;
    }
    std::vector<Member> pack = choose_pack(channel, index, any_busy());
    if (pack.empty()) return;  // idle for now: a pause or an outcome may make work for it
    idle_.pop_back();
    w.members = std::move(pack);
    begin_pack(channel, index);
    channel.assign(index, items_of(w.members));
  }
  // Idle workers first: a pack handed ahead waits, however briefly.
  hand_ahead(channel);
}

void Scheduler::hand_ahead(WorkerChannel& channel) {
  if (outcome_.stop != StopReason::none || !policy_->chooses_ahead()) {
    ahead_.clear();
    return;
  }
  while (!ahead_.empty()) {
    const int index = ahead_.back();
    WorkerState& w = workers_[index];
    if (!w.busy || w.stopped || w.next.size() >= packs_ahead(index)) {
      ahead_.pop_back();
      continue;
    }
    std::vector<Member> pack = choose_pack(channel, index, /*others_busy=*/true);
    if (pack.empty()) return;
    ++outcome_.handed_ahead;
    channel.assign(index, items_of(pack));
    w.next.push_back(std::move(pack));
  }
}

size_t Scheduler::packs_ahead(int index) const {
  const double last = workers_[index].last_pack_seconds;
  if (last < 0) return 0;                 // before its first pack ended, or after a failure
  if (last == 0) return kMaxPacksAhead;  // faster than the clock tells apart
  const double fit = std::floor(options_.hand_ahead_below_seconds / last);
  return static_cast<size_t>(std::clamp(fit, 1.0, static_cast<double>(kMaxPacksAhead)));
}

std::vector<Scheduler::Member> Scheduler::choose_pack(WorkerChannel& channel, int index, bool others_busy) {
  std::vector<Member> pack;
  const std::optional<Assignment> first = policy_->next(others_busy, {});
  if (!first) return pack;
  pack.push_back(start_member(channel, index, *first));
  // The pack: the policy's next choices among the points of the first one's pack key.
  const int limit = options_.pack_size
                        ? std::clamp(options_.pack_size(pack.front().item.config_text), 1, options_.max_pack)
                        : 1;
  if (limit > 1) {
    const std::string key = pack_key_of(first->id);
    const PointFilter fits = [&](const std::string& id) { return pack_key_of(id) == key; };
    while (static_cast<int>(pack.size()) < limit) {
      const std::optional<Assignment> more = policy_->next(others_busy, fits);
      if (!more) break;
      for (const auto& member : pack)
        if (member.item.id == more->id)
          throw std::logic_error(fmt::format("the scheduling policy chose point {} twice for one pack", more->id));
      pack.push_back(start_member(channel, index, *more));
    }
  }
  ++outcome_.packs;
  outcome_.largest_pack = std::max(outcome_.largest_pack, static_cast<int>(pack.size()));
  return pack;
}

Scheduler::Member Scheduler::start_member(WorkerChannel& channel, int index, const Assignment& assignment) {
  const auto it = queued_point(assignment);
  const WorkerInfo& info = channel.worker(index);
  Member member;
  member.point = &it->second;
  member.item = it->second.item;
  member.item.until = assignment.until;
  member.item.verdict_each_epoch = assignment.verdict_each_epoch;
  results_.start_point(member.item.id, PointRunInfo{info.host, info.device, info.software, info.threads, info.ranks},
                       assignment.until);
  return member;
}

void Scheduler::begin_pack(WorkerChannel& channel, int index) {
  WorkerState& w = workers_[index];
  const WorkerInfo& info = channel.worker(index);
  for (size_t m = 0; m < w.members.size(); ++m)
    progress_.started(slot(index, m), info.name, w.members[m].item.id, w.members[m].point->label,
                      w.members[m].point->epochs);
  w.busy = true;
  w.pack_clean = true;
  w.pack_started = w.last_report = std::chrono::steady_clock::now();
  if (options_.hand_ahead_below_seconds > 0 && w.last_pack_seconds >= 0 &&
      w.last_pack_seconds < options_.hand_ahead_below_seconds)
    ahead_.push_back(index);
}

const std::string& Scheduler::pack_key_of(const std::string& id) {
  if (const auto it = pack_keys_.find(id); it != pack_keys_.end()) return it->second;
  const auto queued = points_.find(id);
  const std::string& text =
      queued != points_.end() ? queued->second.item.config_text : results_.point(id).planned.config_text;
  return pack_keys_.emplace(id, pack_key(nlohmann::json::parse(text))).first->second;
}

std::unordered_map<std::string, QueuedPoint>::iterator Scheduler::queued_point(const Assignment& assignment) {
  if (const auto it = points_.find(assignment.id); it != points_.end()) return it;
  if (assignment.config_text.empty())
    throw std::logic_error(fmt::format("the scheduling policy chose point {}, which is not queued", assignment.id));
  // Planned while the sweep runs (a search's trial).
  QueuedPoint q;
  q.item = {assignment.id, assignment.config_text};
  q.label = assignment.label;
  q.epochs = assignment.epochs;
  return points_.emplace(assignment.id, std::move(q)).first;
}

void Scheduler::stop_idle_workers(WorkerChannel& channel) {
  for (int index : idle_) {
    WorkerState& w = workers_[index];
    if (w.stopped) continue;
    channel.stop(index);
    w.stopped = true;
  }
  idle_.clear();
}

void Scheduler::stop_all(WorkerChannel& channel, StopReason reason, const std::string& message) {
  if (outcome_.stop != StopReason::none) return;
  outcome_.stop = reason;
  outcome_.stop_message = message;
  progress_.note(message);
  for (int index = 0; index < static_cast<int>(workers_.size()); ++index) {
    WorkerState& w = workers_[index];
    if (w.stopped) continue;
    channel.stop(index);
    w.stopped = true;
  }
}

void Scheduler::record_early_end(const WorkerEvent& event, int progress_slot) {
  const TrainResult& result = event.result;
  const EpochMetrics last =
      result.curves.empty() ? results_.point(event.point_id).curves.back() : result.curves.back();
  const RungMark mark{last.epoch, policy_->judged_value(last)};
  if (event.kind == WorkerEvent::Kind::paused) {
    results_.pause_point(event.point_id, result, mark);
    ++outcome_.paused;
    progress_.paused(progress_slot, result);
  } else {
    results_.stop_running_point(event.point_id, result, mark, "verdict");
    ++outcome_.stopped;
    progress_.stopped_early(progress_slot, result);
  }
}

void Scheduler::handle(WorkerChannel& channel, const WorkerEvent& event) {
  WorkerState& w = workers_.at(event.worker);
  const auto member = std::find_if(w.members.begin(), w.members.end(),
                                   [&](const Member& m) { return !m.ended && m.item.id == event.point_id; });
  if (!w.busy || member == w.members.end()) {
    std::vector<std::string> given;
    for (const auto& m : w.members)
      if (!m.ended) given.push_back(m.item.id);
    for (const auto& pack : w.next)
      for (const auto& m : pack) given.push_back(m.item.id + " (after those)");
    throw MessageError(fmt::format("{} reported on point {}, but it was given {}", channel.worker(event.worker).name,
                                   event.point_id, given.empty() ? "nothing" : fmt::format("{}", fmt::join(given, ", "))));
  }
  const int progress_slot = slot(event.worker, static_cast<size_t>(member - w.members.begin()));
  w.last_report = std::chrono::steady_clock::now();
  const std::string& id = event.point_id;
  std::string error = event.error;
  switch (event.kind) {
    case WorkerEvent::Kind::epoch:
      results_.record_epoch(id, event.epoch);
      member->epochs_reported = event.epoch.epoch;
      progress_.epoch(progress_slot, event.epoch);
      // A worker told to stop waits for no verdict: the stop interrupts it.
      if (member->item.verdict_each_epoch && !w.stopped)
        channel.verdict(event.worker, id, policy_->after_epoch(id, event.epoch));
      return;  // still busy
    case WorkerEvent::Kind::done:
    case WorkerEvent::Kind::paused:
    case WorkerEvent::Kind::stopped:
      try {
        if (event.kind == WorkerEvent::Kind::done) {
          results_.finish_point(id, event.result);
          ++outcome_.done;
          progress_.finished(progress_slot, event.result);
        } else {
          record_early_end(event, progress_slot);
        }
        consecutive_failures_ = 0;
      } catch (const ResultsUsageError& e) {  // a result the ledger cannot take: the point failed
        error = fmt::format("the trainer's result could not be recorded: {}", e.what());
      }
      if (error.empty()) break;
      [[fallthrough]];
    case WorkerEvent::Kind::failed:
      w.pack_clean = false;
      results_.fail_point(id, error);
      ++outcome_.failed;
      ++consecutive_failures_;
      progress_.failed(progress_slot, error);
      break;
    case WorkerEvent::Kind::interrupted:
      // Left running in the ledger: the next open turns it back to pending, and
      // its checkpoint lets the rerun go on from the last finished epoch.
      w.pack_clean = false;
      ++outcome_.interrupted;
      progress_.interrupted(progress_slot);
      break;
  }
  // The outcome is in the journal: the checkpoint has done its job (a failed
  // point retried with --retry-failed starts afresh rather than diverge again).
  // Only a power cut within the commit interval could lose the outcome; the
  // point then trains again from its start. A paused point keeps its checkpoint:
  // a promotion resumes from it.
  if (event.kind != WorkerEvent::Kind::interrupted && results_.status(id) != PointStatus::paused)
    remove_point_checkpoints(results_.path(), id);
  if (event.kind != WorkerEvent::Kind::interrupted) policy_->on_outcome(id);
  member->ended = true;
  if (std::all_of(w.members.begin(), w.members.end(), [](const Member& m) { return m.ended; })) {
    w.last_pack_seconds =
        w.pack_clean ? std::chrono::duration<double>(std::chrono::steady_clock::now() - w.pack_started).count() : -1;
    if (w.next.empty()) {
      w.busy = false;
      idle_.push_back(event.worker);
    } else {  // the worker went on with the pack it holds
      w.members = std::move(w.next.front());
      w.next.pop_front();
      begin_pack(channel, event.worker);
    }
  }

  if (event.kind == WorkerEvent::Kind::interrupted)
    stop_all(channel, StopReason::worker_interrupted,
             fmt::format("{} left point {} unfinished (it was told to stop, perhaps by a signal); stopping the "
                         "sweep: a rerun of the same command resumes",
                         channel.worker(event.worker).name, id));
  if (options_.max_consecutive_failures > 0 && consecutive_failures_ >= options_.max_consecutive_failures)
    stop_all(channel, StopReason::consecutive_failures,
             fmt::format("{} points failed in a row (--max-consecutive-failures {}), the last one {}: {}; stopping "
                         "the sweep. Fix the cause (see `ablate status`), then rerun with --retry-failed",
                         consecutive_failures_, options_.max_consecutive_failures, id, error));
}

int Scheduler::stalled_worker() const {
  if (options_.stall_timeout_seconds <= 0) return -1;
  const auto now = std::chrono::steady_clock::now();
  for (int index = 0; index < static_cast<int>(workers_.size()); ++index) {
    const WorkerState& w = workers_[index];
    if (w.busy && std::chrono::duration<double>(now - w.last_report).count() > options_.stall_timeout_seconds)
      return index;
  }
  return -1;
}

}  // namespace ablate
