// The Communicator over MPI: char messages with Improbe/Mrecv, checked calls.
#include "orchestrator/mpi_communicator.hpp"

#include <fmt/format.h>
#include <sys/prctl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>

#include "orchestrator/mpi_check.hpp"

namespace ablate {

bool launched_by_mpi() {
  // Open MPI, PMIx (Open MPI 5, srun --mpi=pmix), PMI-1/2 (MPICH's hydra, srun --mpi=pmi2).
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (const char* value = std::getenv(name); value && *value) return true;
  return false;
}

int launcher_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"})
    if (const char* value = std::getenv(name); value && *value) return std::atoi(value);
  return 0;
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  ABLATE_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
  ABLATE_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  // Communicator::receive polls with sleeps from 5 us up; Linux's default timer
  // slack (50 us) would stretch each to 55 us or more, and every assignment and
  // every report waits through one. 1 us keeps the sleeps what they say (threads
  // made later inherit it).
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();  // nothing useful to do with an error here
}

MpiCommunicator::MpiCommunicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned), host_(host_name()) {
  ABLATE_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  ABLATE_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

MpiCommunicator::~MpiCommunicator() {
  for (auto& send : sends_in_flight_) MPI_Wait(&send->request, MPI_STATUS_IGNORE);  // nothing useful to do with an error
  if (owned_) MPI_Comm_free(&comm_);
}

void MpiCommunicator::reap_completed_sends() {
  std::vector<MPI_Request> requests;
  requests.reserve(sends_in_flight_.size());
  for (const auto& send : sends_in_flight_) requests.push_back(send->request);
  int completed = 0;
  std::vector<int> indices(requests.size());
  ABLATE_MPI_CHECK(MPI_Testsome(static_cast<int>(requests.size()), requests.data(), &completed, indices.data(),
                                MPI_STATUSES_IGNORE));
  if (completed == MPI_UNDEFINED || completed == 0) return;
  for (int i = 0; i < completed; ++i) sends_in_flight_[indices[i]].reset();
  std::erase(sends_in_flight_, nullptr);
}

void MpiCommunicator::send(int dest, int tag, std::string_view payload) {
  if (payload.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    throw std::length_error(
        fmt::format("message of {} bytes to rank {} is too large for one MPI send", payload.size(), dest));
  if (sends_in_flight_.size() >= reap_at_) {
    reap_completed_sends();
    reap_at_ = std::max(kSendsBeforeReaping, 2 * sends_in_flight_.size());
  }
  auto send = std::make_unique<SendInFlight>();
  send->payload.assign(payload);
  ABLATE_MPI_CHECK(MPI_Isend(send->payload.data(), static_cast<int>(send->payload.size()), MPI_CHAR, dest, tag, comm_,
                             &send->request));
  sends_in_flight_.push_back(std::move(send));
}

std::optional<Message> MpiCommunicator::try_receive(int source) {
  int found = 0;
  MPI_Message handle;
  MPI_Status status;
  ABLATE_MPI_CHECK(
      MPI_Improbe(source == kAnySource ? MPI_ANY_SOURCE : source, MPI_ANY_TAG, comm_, &found, &handle, &status));
  if (!found) return std::nullopt;
  int count = 0;
  ABLATE_MPI_CHECK(MPI_Get_count(&status, MPI_CHAR, &count));
  Message message;
  message.source = status.MPI_SOURCE;
  message.tag = status.MPI_TAG;
  message.payload.resize(static_cast<size_t>(count));
  ABLATE_MPI_CHECK(MPI_Mrecv(message.payload.data(), count, MPI_CHAR, &handle, MPI_STATUS_IGNORE));
  return message;
}

std::string MpiCommunicator::broadcast(const std::string& text, int root) {
  unsigned long long length = text.size();
  ABLATE_MPI_CHECK(MPI_Bcast(&length, 1, MPI_UNSIGNED_LONG_LONG, root, comm_));
  std::string out = rank_ == root ? text : std::string(length, '\0');
  if (length > 0) ABLATE_MPI_CHECK(MPI_Bcast(out.data(), static_cast<int>(length), MPI_CHAR, root, comm_));
  return out;
}

std::unique_ptr<Communicator> MpiCommunicator::split(int color, int key) {
  MPI_Comm out;
  ABLATE_MPI_CHECK(MPI_Comm_split(comm_, color, key, &out));
  return std::make_unique<MpiCommunicator>(out, /*owned=*/true);
}

std::unique_ptr<Communicator> MpiCommunicator::split_node() {
  MPI_Comm out;
  ABLATE_MPI_CHECK(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &out));
  return std::make_unique<MpiCommunicator>(out, /*owned=*/true);
}

void MpiCommunicator::abort(int exit_code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  MPI_Abort(comm_, exit_code);
  std::_Exit(exit_code);  // MPI_Abort does not return; if it did, still end this process
}

}  // namespace ablate
