// MPI all-reduce and broadcast of CPU tensor buckets.
#include "trainer/mpi_reducer.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <stdexcept>

namespace ablate {
namespace {

std::string host_name() {
  char name[256] = {0};
  gethostname(name, sizeof(name) - 1);
  return name;
}

void check_mpi(int code, const char* call, const char* file, int line) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {0};
  int length = 0;
  MPI_Error_string(code, text, &length);
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  throw std::runtime_error(fmt::format("{} failed on rank {} ({}) at {}:{}: {} — a rank of this point's group "
                                       "failed or left; the point is recorded as failed",
                                       call, rank, host_name(), file, line, text));
}
#define ABLATE_MPI_CHECK(call) check_mpi((call), #call, __FILE__, __LINE__)

MPI_Datatype mpi_type(const torch::Tensor& t) {
  if (t.scalar_type() == torch::kFloat32) return MPI_FLOAT;
  if (t.scalar_type() == torch::kFloat64) return MPI_DOUBLE;
  if (t.scalar_type() == torch::kInt64) return MPI_INT64_T;
  throw std::invalid_argument(fmt::format("MpiReducer: unsupported tensor type {}", c10::toString(t.scalar_type())));
}

// One MPI_Iallreduce in flight; the tensor is held so its memory outlives it.
class MpiPendingSum final : public PendingCollective {
 public:
  explicit MpiPendingSum(torch::Tensor flat) : flat_(std::move(flat)) {}
  MPI_Request* request() { return &request_; }
  bool poll() override {
    if (request_ == MPI_REQUEST_NULL) return true;
    int done = 0;
    ABLATE_MPI_CHECK(MPI_Test(&request_, &done, MPI_STATUS_IGNORE));
    return done != 0;
  }
  void wait() override {
    if (request_ != MPI_REQUEST_NULL) ABLATE_MPI_CHECK(MPI_Wait(&request_, MPI_STATUS_IGNORE));
  }

 private:
  torch::Tensor flat_;
  MPI_Request request_ = MPI_REQUEST_NULL;
};

}  // namespace

MpiReducer::MpiReducer(MPI_Comm comm, size_t bucket_bytes) : BucketedReducer(bucket_bytes), comm_(comm) {
  ABLATE_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  ABLATE_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

int64_t MpiReducer::min_over_group(int64_t value) {
  int64_t smallest = value;
  ABLATE_MPI_CHECK(MPI_Allreduce(&value, &smallest, 1, MPI_INT64_T, MPI_MIN, comm_));
  return smallest;
}

std::unique_ptr<PendingCollective> MpiReducer::start_sum(torch::Tensor flat) {
  if (!flat.device().is_cpu() || !flat.is_contiguous())
    throw std::invalid_argument("MpiReducer::start_sum needs one contiguous CPU tensor (a bug: check the bucket)");
  auto pending = std::make_unique<MpiPendingSum>(flat);
  ABLATE_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, flat.data_ptr(), static_cast<int>(flat.numel()), mpi_type(flat),
                                  MPI_SUM, comm_, pending->request()));
  return pending;
}

bool MpiReducer::may_start_here() const {
  int is_main = 0;
  ABLATE_MPI_CHECK(MPI_Is_thread_main(&is_main));
  return is_main != 0;
}

void MpiReducer::communicate(torch::Tensor& flat, Op op) {
  const int count = static_cast<int>(flat.numel());
  if (op == Op::broadcast)
    ABLATE_MPI_CHECK(MPI_Bcast(flat.data_ptr(), count, mpi_type(flat), 0, comm_));
  else
    ABLATE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr(), count, mpi_type(flat), MPI_SUM, comm_));
}

}  // namespace ablate
