// train_packed: the training loop of a pack (see trainer.hpp's train_pack).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "trainer/trainer.hpp"

namespace ablate {

// Trains `members` as one PackedModel on `device`: the loop of train() (batch,
// augment, forward, loss, backward, step; every epoch evaluate, report, save a
// checkpoint), each step for every member at once, each member with its own
// data, generators and hyperparameters. A member leaves the pack when its run
// ends (last epoch, verdict, divergence); the pack shrinks to the others.
void train_packed(const std::vector<PackMember>& members, const FashionMnist& data, const torch::Device& device,
                  const PackMemberEnd& on_end);

}  // namespace ablate
