// GradientReducer: how the replicas of one point agree (one rank, MPI, NCCL).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

namespace ablate {

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
};

// One replica: every operation is the identity.
class SingleRankReducer final : public GradientReducer {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allreduce_mean(std::vector<torch::Tensor>&) override {}
  void allreduce_sum(std::vector<torch::Tensor>&) override {}
  void broadcast(std::vector<torch::Tensor>&) override {}
};

}  // namespace ablate
