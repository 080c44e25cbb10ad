// check_mpi: MPI result codes become MpiError with where and what.
#include "orchestrator/mpi_check.hpp"

#include <fmt/format.h>
#include <mpi.h>
#include <unistd.h>

namespace ablate {
namespace {

// The world rank, or -1 outside MPI_Init..MPI_Finalize (the rank is then unknown).
int world_rank_if_known() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return -1;
  int rank = -1;
  if (MPI_Comm_rank(MPI_COMM_WORLD, &rank) != MPI_SUCCESS) return -1;
  return rank;
}

}  // namespace

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

void check_mpi(int code, const char* call, const char* file, int line) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) fmt::format_to_n(text, sizeof text - 1, "error {}", code);
  const int rank = world_rank_if_known();
  throw MpiError(call, code,
                 fmt::format("MPI call {} failed at {}:{} on rank {} (host {}): {}. Every rank must run the same "
                             "ablate build; if the job spans nodes, check the network between them (mpirun --mca "
                             "btl_base_verbose 100 shows what Open MPI tries)",
                             call, file, line, rank < 0 ? std::string("?") : std::to_string(rank), host_name(), text));
}

}  // namespace ablate
