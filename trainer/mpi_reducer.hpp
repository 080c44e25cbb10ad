// MpiReducer: gradient all-reduce over an MPI communicator for CPU tensors.
#pragma once

#include <mpi.h>

#include "trainer/bucketed_reducer.hpp"

namespace ablate {

// Averages gradients over the ranks of `comm` in flat buckets of at most
// `bucket_bytes` (default ~25 MB, as PyTorch DDP), always in the same order on
// every rank. Tensors must be contiguous CPU float32/float64 tensors of the same
// shapes on every rank. MPI errors throw MpiError (file, line, rank, host).
class MpiReducer final : public BucketedReducer {
 public:
  explicit MpiReducer(MPI_Comm comm, size_t bucket_bytes = 25u << 20);
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int64_t min_over_group(int64_t value) override;
  // MPI_Iallreduce; wait() is MPI_Wait and poll() MPI_Test, which is also what
  // moves Open MPI's nonblocking collectives along (it has no progress thread).
  std::unique_ptr<PendingCollective> start_sum(torch::Tensor flat) override;
  // MPI_Is_thread_main: the process runs MPI_THREAD_FUNNELED.
  bool may_start_here() const override;

 private:
  void communicate(torch::Tensor& flat, Op op) override;

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

}  // namespace ablate
