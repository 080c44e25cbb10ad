// NcclReducer: the gradient all-reduce of a data-parallel group on GPUs, one GPU
// per rank, over NCCL. Compiled only when Torch has CUDA and NCCL is found
// (ABLATE_NCCL); the CPU build keeps MpiReducer alone.
#pragma once

#ifdef ABLATE_NCCL

#include <mpi.h>
#include <c10/cuda/CUDAStream.h>
#include <nccl.h>

#include "trainer/bucketed_reducer.hpp"

namespace ablate {

class NcclReducer final : public BucketedReducer {
 public:
  // Collective over `comm`: its rank 0 makes the NCCL unique ID, MPI_Bcast shares
  // it, and every rank joins the NCCL communicator with the GPU `device`. Throws
  // std::runtime_error naming the NCCL call, the rank and NCCL's reason.
  NcclReducer(MPI_Comm comm, torch::Device device, size_t bucket_bytes = 25u << 20);
  ~NcclReducer() override;
  NcclReducer(const NcclReducer&) = delete;
  NcclReducer& operator=(const NcclReducer&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  // Over the group's MPI communicator: a host integer needs no GPU.
  int64_t min_over_group(int64_t value) override;
  // ncclAllReduce on a side stream of the device, after the work queued so far
  // on the calling thread's current stream (the backward pass that produced the
  // bucket); wait() makes the current stream wait for it, without blocking the host.
  std::unique_ptr<PendingCollective> start_sum(torch::Tensor flat) override;

  // The NCCL library found at run time, e.g. 22807 for 2.28.7 (several ranks may
  // share one GPU only from 2.30 on, with NCCL_MULTI_RANK_GPU_ENABLE=1).
  static int runtime_version();

 private:
  // Runs on the current CUDA stream of the device, so it is ordered after the
  // backward pass that produced the gradients, without a host synchronisation.
  void communicate(torch::Tensor& flat, Op op) override;

  MPI_Comm mpi_comm_;
  ncclComm_t comm_ = nullptr;
  int rank_ = 0, size_ = 1;
  torch::Device device_;
  c10::cuda::CUDAStream side_stream_;  // overlapped gradient all-reduces run here
};

}  // namespace ablate

#endif  // ABLATE_NCCL
