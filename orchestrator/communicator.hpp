// Communicator: the little of MPI the orchestrator needs (point-to-point text
// messages, a broadcast, splits), behind an interface with a single-rank
// implementation, so that everything also runs without mpirun.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ablate {

struct Message {
  int source = -1;
  int tag = 0;
  std::string payload;
};

class Communicator {
 public:
  static constexpr int kAnySource = -1;

  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const std::string& host() const = 0;

  // Sends `payload` to rank `dest`; returns when the buffer may be reused.
  virtual void send(int dest, int tag, std::string_view payload) = 0;
  // The next message from `source` (kAnySource: any rank) if one has arrived; never waits.
  virtual std::optional<Message> try_receive(int source) = 0;
  // Root's `text` on every rank.
  virtual std::string broadcast(const std::string& text, int root) = 0;
  // MPI_Comm_split: ranks with the same color form a communicator, ordered by key.
  virtual std::unique_ptr<Communicator> split(int color, int key) = 0;
  // The ranks that share this rank's node (memory), ordered by rank.
  virtual std::unique_ptr<Communicator> split_node() = 0;
  // Ends the whole job with `exit_code` (MPI_Abort); the caller has already saved what it must.
  [[noreturn]] virtual void abort(int exit_code) = 0;

  // Waits up to `timeout` for a message, sleeping between polls with a backoff
  // (so a waiting rank leaves the CPU to the ranks that train); nothing on timeout.
  std::optional<Message> receive(int source, std::chrono::microseconds timeout);
  // Waits as long as it takes.
  Message receive(int source);
};

// One rank, no MPI: the local mode of `ablate run`. Sending or receiving has no
// peer and is a bug (std::logic_error); abort() exits the process at once.
class SingleRankCommunicator : public Communicator {
 public:
  SingleRankCommunicator();
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const std::string& host() const override { return host_; }
  void send(int dest, int tag, std::string_view payload) override;
  std::optional<Message> try_receive(int source) override;
  std::string broadcast(const std::string& text, int root) override;
  std::unique_ptr<Communicator> split(int color, int key) override;
  std::unique_ptr<Communicator> split_node() override;
  [[noreturn]] void abort(int exit_code) override;

 private:
  std::string host_;
};

}  // namespace ablate
