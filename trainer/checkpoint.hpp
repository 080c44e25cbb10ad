// Per-point checkpoints: what a training needs to go on after its last finished
// epoch and end exactly where an uninterrupted run ends (weights, optimizer
// state, every random generator, the curves so far).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "trainer/metrics.hpp"

namespace ablate {

// The live state a checkpoint captures and restores, by reference.
struct TrainingState {
  torch::nn::Module& model;
  torch::optim::Optimizer& optimizer;
  // Shuffling, augmentation and Torch's global generators (dropout): their
  // states are saved and set back, so the resumed run draws what it would have.
  std::vector<torch::Generator> generators;
};

// Where the run stood after its last finished epoch.
struct TrainingProgress {
  int epoch = 0;      // last finished epoch (1-based)
  int64_t step = 0;   // optimizer steps taken
  double seconds = 0; // training time spent so far, over every attempt
  std::vector<EpochMetrics> curves;
  int best_epoch = 0;
  double best_val_acc = 0, test_acc_at_best_val = 0;
};

// Writes the checkpoint atomically (a temporary file, fsync, rename), so a
// kill at any moment leaves the previous checkpoint or the new one, whole.
// Throws std::runtime_error naming the file when it cannot be written.
void save_checkpoint(const std::string& path, const std::string& config_text, TrainingState& state,
                     const TrainingProgress& progress);

// Restores `state` from `path` when a checkpoint of this very config is there.
// Returns nullopt (and leaves `state` untouched) when there is none; a checkpoint
// that cannot be used (another config, another format, damaged) is reported in
// `*why_unusable` and ignored: the point then starts from epoch 1.
std::optional<TrainingProgress> load_checkpoint(const std::string& path, const std::string& config_text,
                                                TrainingState& state, std::string* why_unusable);

}  // namespace ablate
