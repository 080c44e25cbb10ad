// Worker threads fed through a mutex-guarded mailbox, reporting through an event queue.
#include "orchestrator/thread_channel.hpp"

#include <stdexcept>

namespace ablate {

ThreadChannel::ThreadChannel(std::vector<PointWork*> works, std::vector<WorkerInfo> infos,
                             std::function<bool()> stop_requested)
    : stop_requested_(std::move(stop_requested)) {
  if (works.empty() || works.size() != infos.size())
    throw std::invalid_argument("ThreadChannel needs one WorkerInfo per PointWork, and at least one");
  for (size_t i = 0; i < works.size(); ++i) {
    auto slot = std::make_unique<Slot>();
    slot->work = works[i];
    slot->info = std::move(infos[i]);
    slots_.push_back(std::move(slot));
  }
  for (size_t i = 0; i < slots_.size(); ++i)
    slots_[i]->thread = std::thread([this, i] { worker_main(*slots_[i], static_cast<int>(i)); });
}

ThreadChannel::~ThreadChannel() {
  {
    std::lock_guard lock(mutex_);
    for (auto& slot : slots_) slot->stop = true, slot->stop_flag = true;
  }
  for (auto& slot : slots_) slot->wake.notify_one();
  for (auto& slot : slots_)
    if (slot->thread.joinable()) slot->thread.join();
}

void ThreadChannel::assign(int worker, const std::vector<WorkItem>& pack) {
  {
    std::lock_guard lock(mutex_);
    Slot& slot = *slots_.at(worker);
    if (slot.stop) throw std::logic_error("ThreadChannel::assign to a worker told to stop");
    if (pack.empty()) throw std::logic_error("ThreadChannel::assign of an empty pack");
    slot.assigned.push_back(pack);  // a second one is held until the first is trained
  }
  slots_.at(worker)->wake.notify_one();
}

void ThreadChannel::stop(int worker) {
  {
    std::lock_guard lock(mutex_);
    slots_.at(worker)->stop = true;
    slots_.at(worker)->stop_flag = true;
  }
  slots_.at(worker)->wake.notify_one();
}

void ThreadChannel::verdict(int worker, const std::string& id, EpochVerdict verdict) {
  {
    std::lock_guard lock(mutex_);
    slots_.at(worker)->verdicts[id] = verdict;
  }
  slots_.at(worker)->wake.notify_one();
}

std::optional<EpochVerdict> ThreadChannel::await_verdict(Slot& slot, const std::string& id) {
  std::unique_lock lock(mutex_);
  slot.wake.wait(lock, [&] { return slot.verdicts.count(id) > 0 || slot.stop; });
  const auto it = slot.verdicts.find(id);
  if (it == slot.verdicts.end()) return std::nullopt;
  const EpochVerdict verdict = it->second;
  slot.verdicts.erase(it);
  return verdict;
}

std::optional<WorkerEvent> ThreadChannel::next_event(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!wake_scheduler_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return std::nullopt;
  WorkerEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

void ThreadChannel::push(WorkerEvent event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  wake_scheduler_.notify_one();
}

void ThreadChannel::worker_main(Slot& slot, int index) {
  while (true) {
    std::vector<WorkItem> pack;
    {
      std::unique_lock lock(mutex_);
      slot.wake.wait(lock, [&] { return !slot.assigned.empty() || slot.stop; });
      if (slot.assigned.empty()) return;  // stopped, with nothing held
      pack = std::move(slot.assigned.front());
      slot.assigned.pop_front();
    }
    train_pack(slot, index, pack);  // after a stop, a held pack is reported interrupted
  }
}

void ThreadChannel::train_pack(Slot& slot, int index, const std::vector<WorkItem>& pack) {
  auto stopping = [&] {
    return slot.left_unfinished || slot.stop_flag.load() || (stop_requested_ && stop_requested_());
  };
  std::vector<EpochVerdict> last_verdict(pack.size(), EpochVerdict::go_on);
  std::vector<bool> ended(pack.size(), false);
  auto last_event = [&](size_t member, WorkerEvent::Kind kind) {
    WorkerEvent event;
    event.kind = kind;
    event.worker = index;
    event.point_id = pack[member].id;
    return event;
  };
  // The points the pack leaves without an end: interrupted, or failed with the pack.
  auto end_the_rest = [&](WorkerEvent::Kind kind, const std::string& error) {
    for (size_t member = 0; member < pack.size(); ++member) {
      if (ended[member]) continue;
      WorkerEvent event = last_event(member, kind);
      event.error = error;
      push(std::move(event));
    }
  };
  if (stopping()) {  // stopped between the assignment and its start (or held in advance)
    end_the_rest(WorkerEvent::Kind::interrupted, "");
    return;
  }
  try {
    slot.work->train_pack(
        pack,
        [&](size_t member, const EpochMetrics& row) {
          const WorkItem& item = pack.at(member);
          WorkerEvent event = last_event(member, WorkerEvent::Kind::epoch);
          event.epoch = row;
          push(std::move(event));
          std::optional<EpochVerdict> verdict = EpochVerdict::go_on;
          if (item.verdict_each_epoch)
            verdict = await_verdict(slot, item.id);
          else if (item.until > 0 && row.epoch >= item.until)
            verdict = EpochVerdict::pause;
          if (!verdict || stopping()) throw Interrupted();
          return last_verdict[member] = *verdict;
        },
        [&](size_t member, ItemOutcome outcome) {
          if (member >= pack.size() || ended[member]) return;  // a second end of one point: ignored
          ended[member] = true;
          const EpochVerdict verdict = last_verdict[member];
          WorkerEvent event = last_event(member, outcome.failed                     ? WorkerEvent::Kind::failed
                                                 : verdict == EpochVerdict::go_on ? WorkerEvent::Kind::done
                                                 : verdict == EpochVerdict::pause ? WorkerEvent::Kind::paused
                                                                                  : WorkerEvent::Kind::stopped);
          event.result = std::move(outcome.result);
          event.error = std::move(outcome.error);
          push(std::move(event));
        });
    end_the_rest(WorkerEvent::Kind::failed, "the training ended without reporting this point's outcome");
  } catch (const Interrupted&) {
    slot.left_unfinished = true;  // the sweep is stopping: a pack held in advance must not start
    end_the_rest(WorkerEvent::Kind::interrupted, "");
  } catch (const std::exception& e) {
    end_the_rest(WorkerEvent::Kind::failed, e.what());
  } catch (...) {
    end_the_rest(WorkerEvent::Kind::failed, "the training threw something that is not a std::exception");
  }
}

}  // namespace ablate
