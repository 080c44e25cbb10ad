// Bucketed MPI all-reduce and broadcast of CPU tensors.
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

}  // namespace

MpiReducer::MpiReducer(MPI_Comm comm, size_t bucket_bytes) : comm_(comm), bucket_bytes_(bucket_bytes) {
  ABLATE_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  ABLATE_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

void MpiReducer::allreduce_mean(std::vector<torch::Tensor>& tensors) { reduce_in_buckets(tensors, Op::mean); }
void MpiReducer::allreduce_sum(std::vector<torch::Tensor>& tensors) { reduce_in_buckets(tensors, Op::sum); }
void MpiReducer::broadcast(std::vector<torch::Tensor>& tensors) { reduce_in_buckets(tensors, Op::broadcast); }

// Consecutive tensors of one dtype share a bucket until it would pass
// bucket_bytes: few large messages instead of one per tensor.
void MpiReducer::reduce_in_buckets(std::vector<torch::Tensor>& tensors, Op op) {
  if (size_ == 1) return;
  size_t first = 0, bytes = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const size_t tensor_bytes = tensors[i].numel() * tensors[i].element_size();
    const bool type_changes = i > first && tensors[i].scalar_type() != tensors[first].scalar_type();
    if (i > first && (type_changes || bytes + tensor_bytes > bucket_bytes_)) {
      run_bucket(tensors, first, i, op);
      first = i, bytes = 0;
    }
    bytes += tensor_bytes;
  }
  if (first < tensors.size()) run_bucket(tensors, first, tensors.size(), op);
}

void MpiReducer::run_bucket(std::vector<torch::Tensor>& tensors, size_t first, size_t last, Op op) {
  std::vector<torch::Tensor> views;
  for (size_t i = first; i < last; ++i) views.push_back(tensors[i].reshape({-1}));
  torch::Tensor flat = views.size() == 1 ? views[0].contiguous() : torch::cat(views);
  if (flat.data_ptr() == tensors[first].data_ptr()) flat = flat.clone();  // never reduce into a live tensor
  const int count = static_cast<int>(flat.numel());
  if (op == Op::broadcast) {
    ABLATE_MPI_CHECK(MPI_Bcast(flat.data_ptr(), count, mpi_type(flat), 0, comm_));
  } else {
    ABLATE_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, flat.data_ptr(), count, mpi_type(flat), MPI_SUM, comm_));
    if (op == Op::mean) flat.div_(size_);
  }
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (size_t i = first; i < last; ++i) {
    const int64_t n = tensors[i].numel();
    tensors[i].copy_(flat.slice(0, offset, offset + n).view_as(tensors[i]));
    offset += n;
  }
}

}  // namespace ablate
