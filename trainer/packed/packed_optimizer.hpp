// PackedOptimizer: SGD, Adam or AdamW over a packed model's parameter stacks,
// each member with its own learning rate, momentum, weight decay and step
// count. The update is the lone optimizer's (torch::optim's formulas, step for
// step), with every per-member number a [K] tensor broadcast over the stack
// (SGD on the CPU: one fused pass per stack, fused_sgd.hpp).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/config.hpp"

namespace ablate {

class PackedOptimizer {
 public:
  // `configs[k]` is member k's: optimizer (equal for all: a shape key),
  // momentum, nesterov (equal), weight_decay.
  PackedOptimizer(std::vector<torch::Tensor> parameters, const std::vector<TrainConfig>& configs);

  void zero_grad();
  // One step; `lrs[k]`: member k's learning rate for it.
  void step(const std::vector<double>& lrs);

  // Member k's state into a lone optimizer over `lone_parameters` (its model's
  // parameters(), in the packed model's order), as the lone run would hold it.
  void copy_member_to(int64_t k, torch::optim::Optimizer& lone, const std::vector<torch::Tensor>& lone_parameters) const;
  // And back: member k takes a lone optimizer's state (a checkpoint's).
  void copy_member_from(int64_t k, torch::optim::Optimizer& lone, const std::vector<torch::Tensor>& lone_parameters);

  // Keeps the members `kept` (as PackedModel::keep_members), over the model's new parameter stacks.
  void keep_members(const std::vector<int64_t>& kept, std::vector<torch::Tensor> parameters);

 private:
  // A [K] tensor viewed to broadcast over a stack like `like`.
  static torch::Tensor per_member(const torch::Tensor& values, const torch::Tensor& like);

  std::string kind_;  // sgd | adam | adamw
  bool nesterov_ = false;
  std::vector<torch::Tensor> parameters_;
  std::vector<torch::Tensor> first_moment_;   // sgd: momentum buffer; adam: exp_avg
  std::vector<torch::Tensor> second_moment_;  // adam: exp_avg_sq
  std::vector<double> momentum_, weight_decay_;
  std::vector<int64_t> steps_;  // adam's step count per member
};

}  // namespace ablate
