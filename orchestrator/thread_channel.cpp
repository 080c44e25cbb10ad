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
  wake_workers_.notify_all();
  for (auto& slot : slots_)
    if (slot->thread.joinable()) slot->thread.join();
}

void ThreadChannel::assign(int worker, const WorkItem& item) {
  {
    std::lock_guard lock(mutex_);
    Slot& slot = *slots_.at(worker);
    if (slot.assigned || slot.stop) throw std::logic_error("ThreadChannel::assign to a worker that is not idle");
    slot.assigned = item;
  }
  wake_workers_.notify_all();
}

void ThreadChannel::stop(int worker) {
  {
    std::lock_guard lock(mutex_);
    slots_.at(worker)->stop = true;
    slots_.at(worker)->stop_flag = true;
  }
  wake_workers_.notify_all();
}

void ThreadChannel::verdict(int worker, EpochVerdict verdict) {
  {
    std::lock_guard lock(mutex_);
    slots_.at(worker)->verdict = verdict;
  }
  wake_workers_.notify_all();
}

std::optional<EpochVerdict> ThreadChannel::await_verdict(Slot& slot) {
  std::unique_lock lock(mutex_);
  wake_workers_.wait(lock, [&] { return slot.verdict.has_value() || slot.stop; });
  if (!slot.verdict) return std::nullopt;
  const EpochVerdict verdict = *slot.verdict;
  slot.verdict.reset();
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
    std::optional<WorkItem> item;
    {
      std::unique_lock lock(mutex_);
      wake_workers_.wait(lock, [&] { return slot.assigned.has_value() || slot.stop; });
      if (!slot.assigned) return;  // stopped while idle
      item = std::move(slot.assigned);
      slot.assigned.reset();
    }
    train_one(slot, index, *item);
  }
}

void ThreadChannel::train_one(Slot& slot, int index, const WorkItem& item) {
  auto stopping = [&] { return slot.stop_flag.load() || (stop_requested_ && stop_requested_()); };
  WorkerEvent last;
  last.worker = index;
  last.point_id = item.id;
  if (stopping()) {  // stopped between the assignment and its start
    last.kind = WorkerEvent::Kind::interrupted;
    push(std::move(last));
    return;
  }
  try {
    EpochVerdict last_verdict = EpochVerdict::go_on;
    last.result = slot.work->train(item, [&](const EpochMetrics& row) {
      WorkerEvent event;
      event.kind = WorkerEvent::Kind::epoch;
      event.worker = index;
      event.point_id = item.id;
      event.epoch = row;
      push(std::move(event));
      std::optional<EpochVerdict> verdict = EpochVerdict::go_on;
      if (item.verdict_each_epoch)
        verdict = await_verdict(slot);
      else if (item.until > 0 && row.epoch >= item.until)
        verdict = EpochVerdict::pause;
      if (!verdict || stopping()) throw Interrupted();
      return last_verdict = *verdict;
    });
    last.kind = last_verdict == EpochVerdict::go_on   ? WorkerEvent::Kind::done
                : last_verdict == EpochVerdict::pause ? WorkerEvent::Kind::paused
                                                      : WorkerEvent::Kind::stopped;
  } catch (const Interrupted&) {
    last.kind = WorkerEvent::Kind::interrupted;
  } catch (const std::exception& e) {
    last.kind = WorkerEvent::Kind::failed;
    last.error = e.what();
  } catch (...) {
    last.kind = WorkerEvent::Kind::failed;
    last.error = "the training threw something that is not a std::exception";
  }
  push(std::move(last));
}

}  // namespace ablate
