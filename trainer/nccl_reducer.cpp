// NCCL communicator set-up over MPI, and NCCL all-reduce/broadcast of GPU buckets.
#include "trainer/nccl_reducer.hpp"

#ifdef ABLATE_NCCL

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <fmt/format.h>

#include <stdexcept>

namespace ablate {
namespace {

void check_nccl(ncclResult_t result, const char* call, int rank) {
  if (result == ncclSuccess) return;
  throw std::runtime_error(fmt::format("{} failed on rank {} of the point's group: {} (set NCCL_DEBUG=INFO for "
                                       "NCCL's own account; two ranks on one GPU need NCCL >= 2.30 and "
                                       "NCCL_MULTI_RANK_GPU_ENABLE=1)",
                                       call, rank, ncclGetErrorString(result)));
}
#define ABLATE_NCCL_CHECK(call) check_nccl((call), #call, rank_)

ncclDataType_t nccl_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kBFloat16: return ncclBfloat16;
    case torch::kFloat16: return ncclFloat16;
    case torch::kInt64: return ncclInt64;
    default:
      throw std::invalid_argument(
          fmt::format("NcclReducer: unsupported tensor type {}", c10::toString(t.scalar_type())));
  }
}

}  // namespace

NcclReducer::NcclReducer(MPI_Comm comm, torch::Device device, size_t bucket_bytes)
    : BucketedReducer(bucket_bytes), device_(device) {
  if (!device.is_cuda())
    throw std::invalid_argument("NcclReducer needs a CUDA device; CPU tensors go through MpiReducer");
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &size_);
  ncclUniqueId id;
  if (rank_ == 0) ABLATE_NCCL_CHECK(ncclGetUniqueId(&id));
  if (MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, comm) != MPI_SUCCESS)
    throw std::runtime_error(fmt::format("MPI_Bcast of the NCCL unique ID failed on rank {}", rank_));
  const c10::cuda::CUDAGuard guard(device_);
  ABLATE_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
}

NcclReducer::~NcclReducer() {
  if (comm_) ncclCommDestroy(comm_);
}

int NcclReducer::runtime_version() {
  int version = 0;
  return ncclGetVersion(&version) == ncclSuccess ? version : 0;
}

void NcclReducer::communicate(torch::Tensor& flat, Op op) {
  if (!flat.is_cuda())
    throw std::invalid_argument("NcclReducer: a CPU tensor reached the GPU all-reduce (a bug: check the device)");
  const c10::cuda::CUDAGuard guard(device_);
  cudaStream_t stream = at::cuda::getCurrentCUDAStream(device_.index()).stream();
  const auto count = static_cast<size_t>(flat.numel());
  if (op == Op::broadcast)
    ABLATE_NCCL_CHECK(ncclBroadcast(flat.data_ptr(), flat.data_ptr(), count, nccl_type(flat), 0, comm_, stream));
  else
    ABLATE_NCCL_CHECK(ncclAllReduce(flat.data_ptr(), flat.data_ptr(), count, nccl_type(flat), ncclSum, comm_, stream));
}

}  // namespace ablate

#endif  // ABLATE_NCCL
