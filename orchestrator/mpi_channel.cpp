// Rank 0 and a worker rank, each side of the scheduler's protocol (messages.hpp).
#include "orchestrator/mpi_channel.hpp"

#include <fmt/format.h>

#include <deque>

#include "orchestrator/messages.hpp"
#include "orchestrator/mpi_check.hpp"

namespace ablate {
namespace {

constexpr int kScheduler = 0;

int tag(MessageTag t) { return static_cast<int>(t); }

}  // namespace

MpiChannel::MpiChannel(Communicator& comm, std::vector<int> worker_ranks, std::vector<WorkerInfo> infos)
    : comm_(comm), ranks_(std::move(worker_ranks)), infos_(std::move(infos)), worker_of_rank_(comm.size(), -1) {
  if (ranks_.size() != infos_.size()) throw std::invalid_argument("MpiChannel needs one WorkerInfo per worker rank");
  for (size_t i = 0; i < ranks_.size(); ++i) worker_of_rank_.at(ranks_[i]) = static_cast<int>(i);
}

void MpiChannel::assign(int worker, const std::vector<WorkItem>& pack) {
  comm_.send(ranks_.at(worker), tag(MessageTag::assign), encode_assignment(pack));
}

void MpiChannel::stop(int worker) { comm_.send(ranks_.at(worker), tag(MessageTag::stop), ""); }

void MpiChannel::verdict(int worker, const std::string& id, EpochVerdict verdict) {
  comm_.send(ranks_.at(worker), tag(MessageTag::verdict), encode_point_verdict(id, verdict));
}

std::optional<WorkerEvent> MpiChannel::next_event(std::chrono::milliseconds timeout) {
  std::optional<Message> message = comm_.receive(Communicator::kAnySource, timeout);
  if (!message) return std::nullopt;
  WorkerEvent event;
  event.worker = worker_of_rank_.at(message->source);
  if (event.worker < 0)
    throw MessageError(fmt::format("rank 0 got a message (tag {}) from rank {}, which is not a worker", message->tag,
                                   message->source));
  switch (static_cast<MessageTag>(message->tag)) {
    case MessageTag::epoch:
      event.kind = WorkerEvent::Kind::epoch;
      std::tie(event.point_id, event.epoch) = decode_epoch(message->payload);
      break;
    case MessageTag::done:
    case MessageTag::paused:
    case MessageTag::stopped:
      event.kind = message->tag == tag(MessageTag::done)     ? WorkerEvent::Kind::done
                   : message->tag == tag(MessageTag::paused) ? WorkerEvent::Kind::paused
                                                             : WorkerEvent::Kind::stopped;
      std::tie(event.point_id, event.result) = decode_done(message->payload);
      break;
    case MessageTag::failed:
      event.kind = WorkerEvent::Kind::failed;
      std::tie(event.point_id, event.error) = decode_failure(message->payload);
      break;
    case MessageTag::interrupted:
      event.kind = WorkerEvent::Kind::interrupted;
      event.point_id = message->payload;
      break;
    default:
      throw MessageError(
          fmt::format("rank 0 got an unexpected message (tag {}) from rank {}", message->tag, message->source));
  }
  return event;
}

void serve_points(Communicator& comm, PointWork& work, const std::function<bool()>& stop_requested,
                  Communicator* group) {
  bool stop_received = false;
  // Packs rank 0 handed over in advance (Scheduler's hand-ahead), trained in turn.
  std::deque<Message> held;
  bool left_unfinished = false;  // a pack was interrupted: the sweep stops, held packs do not start
  // While it trains, rank 0 sends a worker its next pack, or `stop`.
  auto check_for_stop = [&] {
    while (!stop_received) {
      std::optional<Message> message = comm.try_receive(kScheduler);
      if (!message) break;
      if (message->tag == tag(MessageTag::assign))
        held.push_back(std::move(*message));
      else if (message->tag == tag(MessageTag::stop))
        stop_received = true;
      else
        throw MessageError(
            fmt::format("rank {} got a message with tag {} from rank 0 while training", comm.rank(), message->tag));
    }
    return stop_received || (stop_requested && stop_requested());
  };
  const int followers = group ? group->size() - 1 : 0;
  auto tell_followers = [&](MessageTag what, std::string_view payload) {
    for (int follower = 1; follower <= followers; ++follower) group->send(follower, tag(what), payload);
  };

  while (!stop_received) {
    Message message;
    if (held.empty()) {
      message = comm.receive(kScheduler);
    } else {
      message = std::move(held.front());
      held.pop_front();
    }
    if (message.tag == tag(MessageTag::stop)) break;
    if (message.tag != tag(MessageTag::assign))
      throw MessageError(
          fmt::format("rank {} got a message with tag {} from rank 0 while idle", comm.rank(), message.tag));
    const std::vector<WorkItem> pack = decode_assignment(message.payload);
    std::vector<EpochVerdict> last_verdict(pack.size(), EpochVerdict::go_on);
    std::vector<bool> ended(pack.size(), false);
    // The points the pack leaves without an end: interrupted, or failed with the pack.
    auto end_the_rest = [&](MessageTag what, const std::string& error) {
      for (size_t member = 0; member < pack.size(); ++member) {
        if (ended[member]) continue;
        ended[member] = true;
        comm.send(kScheduler, tag(what),
                  what == MessageTag::failed ? encode_failure(pack[member].id, error) : pack[member].id);
      }
    };
    if (left_unfinished || check_for_stop()) {
      end_the_rest(MessageTag::interrupted, "");
      continue;
    }
    tell_followers(MessageTag::assign, message.payload);
    // Rank 0's answer to an epoch of a verdict_each_epoch point; its stop instead
    // (the sweep is stopping) interrupts the pack.
    auto await_verdict = [&](const std::string& id) {
      Message answer = comm.receive(kScheduler);
      while (answer.tag == tag(MessageTag::assign)) {  // the next pack, handed over in advance
        held.push_back(std::move(answer));
        answer = comm.receive(kScheduler);
      }
      if (answer.tag == tag(MessageTag::stop)) {
        stop_received = true;
        return std::optional<EpochVerdict>();
      }
      if (answer.tag != tag(MessageTag::verdict))
        throw MessageError(fmt::format("rank {} waited for a verdict from rank 0 and got tag {}", comm.rank(),
                                       answer.tag));
      const auto [about, verdict] = decode_point_verdict(answer.payload);
      if (about != id)
        throw MessageError(fmt::format("rank {} waited for a verdict on point {} and got one on {}", comm.rank(), id,
                                       about));
      return std::optional<EpochVerdict>(verdict);
    };
    try {
      work.train_pack(
          pack,
          [&](size_t member, const EpochMetrics& row) {
            const WorkItem& item = pack.at(member);
            comm.send(kScheduler, tag(MessageTag::epoch), encode_epoch(item.id, row));
            std::optional<EpochVerdict> verdict = EpochVerdict::go_on;
            if (item.verdict_each_epoch)
              verdict = await_verdict(item.id);
            else if (item.until > 0 && row.epoch >= item.until)
              verdict = EpochVerdict::pause;
            // The whole group stops at the same epoch, or the others would wait in
            // the next all-reduce for a rank that left.
            const bool stop = !verdict || check_for_stop();
            if (stop)
              tell_followers(MessageTag::stop_point, "");
            else if (*verdict == EpochVerdict::go_on)
              tell_followers(MessageTag::go_on, "");
            else
              tell_followers(MessageTag::end_run, encode_verdict(*verdict));
            if (stop) throw Interrupted();
            return last_verdict[member] = *verdict;
          },
          [&](size_t member, ItemOutcome outcome) {
            if (member >= pack.size() || ended[member]) return;  // a second end of one point: ignored
            ended[member] = true;
            const std::string& id = pack[member].id;
            if (outcome.failed) {
              comm.send(kScheduler, tag(MessageTag::failed), encode_failure(id, outcome.error));
              return;
            }
            const MessageTag what = last_verdict[member] == EpochVerdict::go_on   ? MessageTag::done
                                    : last_verdict[member] == EpochVerdict::pause ? MessageTag::paused
                                                                                  : MessageTag::stopped;
            comm.send(kScheduler, tag(what), encode_done(id, outcome.result));
          });
      end_the_rest(MessageTag::failed, "the training ended without reporting this point's outcome");
    } catch (const Interrupted&) {
      left_unfinished = true;
      end_the_rest(MessageTag::interrupted, "");
    } catch (const MpiError&) {
      throw;  // the job cannot go on
    } catch (const MessageError&) {
      throw;
    } catch (const std::exception& e) {
      end_the_rest(MessageTag::failed, e.what());
    } catch (...) {
      end_the_rest(MessageTag::failed, "the training threw something that is not a std::exception");
    }
  }
  // Told to stop while holding packs: each of their points ends, untrained, as interrupted.
  for (const Message& message : held)
    for (const WorkItem& item : decode_assignment(message.payload))
      comm.send(kScheduler, tag(MessageTag::interrupted), item.id);
  tell_followers(MessageTag::stop, "");
}

void follow_leader(Communicator& group, PointWork& work) {
  constexpr int kLeader = 0;
  while (true) {
    const Message message = group.receive(kLeader);
    if (message.tag == tag(MessageTag::stop)) return;
    if (message.tag != tag(MessageTag::assign))
      throw MessageError(fmt::format("group rank {} got a message with tag {} from its leader while idle",
                                     group.rank(), message.tag));
    const std::vector<WorkItem> pack = decode_assignment(message.payload);
    if (pack.size() != 1)  // run_sweep refuses --pack with --ranks-per-point
      throw MessageError(fmt::format("group rank {} was handed a pack of {} points: a data-parallel group trains "
                                     "one point at a time",
                                     group.rank(), pack.size()));
    const WorkItem& item = pack.front();
    try {
      work.train(item, [&](const EpochMetrics&) {
        const Message verdict = group.receive(kLeader);
        if (verdict.tag == tag(MessageTag::stop_point)) throw Interrupted();
        if (verdict.tag == tag(MessageTag::end_run)) return decode_verdict(verdict.payload);
        if (verdict.tag != tag(MessageTag::go_on))
          throw MessageError(fmt::format("group rank {} got a message with tag {} from its leader after an epoch",
                                         group.rank(), verdict.tag));
        return EpochVerdict::go_on;
      });
    } catch (const Interrupted&) {
    } catch (const MpiError&) {
      throw;
    } catch (const MessageError&) {
      throw;
    } catch (const std::exception&) {
      // The leader hit the same error (reduced metrics, same data) and reports it.
    }
  }
}

}  // namespace ablate
