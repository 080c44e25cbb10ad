// GradientReducer: how the replicas of one point agree (one rank, MPI, NCCL).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace ablate {

// A collective in flight on one flat tensor (see GradientReducer::start_sum).
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  // Lets the collective advance without blocking (MPI progresses nonblocking
  // collectives only inside MPI calls); true once it has finished.
  virtual bool poll() = 0;
  // Returns once the tensor holds the group's sum (on a GPU: once work queued
  // afterwards on the current stream is ordered after it).
  virtual void wait() = 0;
};

class GradientReducer {
 public:
  virtual ~GradientReducer() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Replaces each tensor by its mean over the group (gradients, BatchNorm statistics).
  virtual void allreduce_mean(std::vector<torch::Tensor>& tensors) = 0;
  // Replaces each tensor by its sum over the group (metric counters).
  virtual void allreduce_sum(std::vector<torch::Tensor>& tensors) = 0;
  // Copies the first rank's tensors to every rank (initial parameters and buffers).
  virtual void broadcast(std::vector<torch::Tensor>& tensors) = 0;
  // The smallest `value` over the group (agreeing on a checkpoint to resume from).
  virtual int64_t min_over_group(int64_t value) = 0;

  // Starts summing one flat, contiguous tensor over the group, in place, and
  // returns at once; the tensor must stay untouched until wait(). Every rank
  // must start the same sums in the same order (what GradientSync guarantees).
  virtual std::unique_ptr<PendingCollective> start_sum(torch::Tensor flat) = 0;
  // Whether start_sum may be called on the calling thread now. MPI runs
  // MPI_THREAD_FUNNELED: only the main thread may call it, so a backward hook
  // running on an autograd worker thread must leave the launch to the main one.
  virtual bool may_start_here() const { return true; }
  // Largest gradient bucket in bytes (~25 MB by default, as PyTorch DDP).
  virtual size_t bucket_bytes() const = 0;
};

// A collective with nothing left to do (one replica's sum is its own tensor).
class FinishedCollective final : public PendingCollective {
 public:
  bool poll() override { return true; }
  void wait() override {}
};

// One replica: every operation is the identity.
class SingleRankReducer final : public GradientReducer {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_mean(std::vector<torch::Tensor>&) override {}
  void allreduce_sum(std::vector<torch::Tensor>&) override {}
  void broadcast(std::vector<torch::Tensor>&) override {}
  int64_t min_over_group(int64_t value) override { return value; }
  std::unique_ptr<PendingCollective> start_sum(torch::Tensor) override {
    return std::make_unique<FinishedCollective>();
  }
  size_t bucket_bytes() const override { return 25u << 20; }
};

}  // namespace ablate
