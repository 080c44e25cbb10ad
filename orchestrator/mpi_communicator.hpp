// MpiSession (MPI_Init/MPI_Finalize) and MpiCommunicator, the Communicator over MPI.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "orchestrator/communicator.hpp"

namespace ablate {

// True when this process was started by an MPI launcher (mpirun, mpiexec, srun
// with PMI): only then does `ablate run` initialise MPI.
bool launched_by_mpi();

// This process's rank as the launcher announced it (before MPI_Init), 0 when
// not launched by one: lets only rank 0 print a command-line error.
int launcher_rank();

// MPI_Init_thread on construction (funneled: only the main thread calls MPI),
// MPI_Finalize on destruction. Errors on MPI_COMM_WORLD are returned, not fatal,
// so that ABLATE_MPI_CHECK can name them.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

class MpiCommunicator : public Communicator {
 public:
  // Wraps `comm`; frees it on destruction when `owned` (never MPI_COMM_WORLD),
  // after every message sent through it has left.
  explicit MpiCommunicator(MPI_Comm comm, bool owned = false);
  ~MpiCommunicator() override;
  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& host() const override { return host_; }
  // Copies `payload` and returns without waiting for the receiver (MPI_Isend): a
  // blocking send waits in MPI's progress loop, which on a node with more ranks
  // than cores yields the CPU at every send (a third of rank 0's time handing out
  // zero-work points). Messages to one rank still arrive in the order sent.
  void send(int dest, int tag, std::string_view payload) override;
  std::optional<Message> try_receive(int source) override;
  std::string broadcast(const std::string& text, int root) override;
  std::unique_ptr<Communicator> split(int color, int key) override;
  std::unique_ptr<Communicator> split_node() override;
  [[noreturn]] void abort(int exit_code) override;

  // The MPI communicator itself, for collectives outside this class (the
  // trainer's gradient all-reduce over a data-parallel group).
  MPI_Comm handle() const { return comm_; }

 private:
  MPI_Comm comm_;
  bool owned_;
  int rank_ = 0, size_ = 1;
  std::string host_;
  // Sends not yet complete, each with its own copy of the payload (a unique_ptr,
  // so reaping others never moves a buffer MPI still reads). They are reaped in
  // batches, with one MPI_Testsome: each MPI_Test of a send runs MPI's progress
  // loop, which on a node with more ranks than cores yields the CPU when it finds
  // nothing to do (testing every send at every poll cost rank 0 a quarter of its
  // scheduling time). A send needs no test to leave: MPI_Improbe progresses it.
  struct SendInFlight {
    MPI_Request request = MPI_REQUEST_NULL;
    std::string payload;
  };
  std::vector<std::unique_ptr<SendInFlight>> sends_in_flight_;
  static constexpr size_t kSendsBeforeReaping = 64;
  // The next reap: twice what the last one left pending (at least 64), so sends
  // a slow receiver holds up are tested once per doubling, not at every send.
  size_t reap_at_ = kSendsBeforeReaping;
  void reap_completed_sends();
};

}  // namespace ablate
