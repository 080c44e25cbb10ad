// NCCL communicator set-up over MPI, and NCCL all-reduce/broadcast of GPU buckets.
#include "trainer/nccl_reducer.hpp"

#ifdef ABLATE_NCCL

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
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

// One all-reduce queued on the side stream; `done` is recorded after it.
class NcclPendingSum final : public PendingCollective {
 public:
  NcclPendingSum(torch::Tensor flat, torch::Device device) : flat_(std::move(flat)), device_(device) {}
  at::cuda::CUDAEvent& done() { return done_; }
  bool poll() override { return done_.query(); }
  void wait() override {
    const c10::cuda::CUDAGuard guard(device_);
    done_.block(at::cuda::getCurrentCUDAStream(device_.index()));
  }

 private:
  torch::Tensor flat_;
  torch::Device device_;
  at::cuda::CUDAEvent done_;
};

// The side stream needs the device index, known only once the device is checked.
torch::Device cuda_device(torch::Device device) {
  if (!device.is_cuda())
    throw std::invalid_argument("NcclReducer needs a CUDA device; CPU tensors go through MpiReducer");
  return device.has_index() ? device : torch::Device(torch::kCUDA, 0);
}

}  // namespace

NcclReducer::NcclReducer(MPI_Comm comm, torch::Device device, size_t bucket_bytes)
    : BucketedReducer(bucket_bytes),
      mpi_comm_(comm),
      device_(cuda_device(device)),
      side_stream_(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device_.index())) {
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

int64_t NcclReducer::min_over_group(int64_t value) {
  int64_t smallest = value;
  if (MPI_Allreduce(&value, &smallest, 1, MPI_INT64_T, MPI_MIN, mpi_comm_) != MPI_SUCCESS)
    throw std::runtime_error(fmt::format("MPI_Allreduce(MPI_MIN) failed on rank {} of the point's group", rank_));
  return smallest;
}

std::unique_ptr<PendingCollective> NcclReducer::start_sum(torch::Tensor flat) {
  if (!flat.is_cuda() || !flat.is_contiguous())
    throw std::invalid_argument("NcclReducer::start_sum needs one contiguous CUDA tensor (a bug: check the bucket)");
  const c10::cuda::CUDAGuard guard(device_);
  // The side stream starts after what the producer queued (the bucket's copies)...
  at::cuda::CUDAEvent filled;
  filled.record(at::cuda::getCurrentCUDAStream(device_.index()));
  filled.block(side_stream_);
  // ...and the caching allocator must not hand the bucket's memory out again
  // before the side stream is done with it.
  c10::cuda::CUDACachingAllocator::recordStream(flat.storage().data_ptr(), side_stream_);
  auto pending = std::make_unique<NcclPendingSum>(flat, device_);
  ABLATE_NCCL_CHECK(ncclAllReduce(flat.data_ptr(), flat.data_ptr(), static_cast<size_t>(flat.numel()),
                                  nccl_type(flat), ncclSum, comm_, side_stream_.stream()));
  pending->done().record(side_stream_);
  return pending;
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
