// Per-point checkpoints: what a training needs to go on after its last finished
// epoch and end exactly where an uninterrupted run ends (weights, optimizer
// state, every random generator, the curves so far).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "core/metrics.hpp"
#include "trainer/reducer.hpp"

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

// What a checkpoint must match to be resumed: the very config, and the place in
// the data-parallel group of the rank that wrote it (each rank of a group keeps
// its own file: its augmentation and dropout generators are its own).
struct CheckpointKey {
  std::string config_text;  // canonical config text (one without keys added since still matches)
  int epochs = 0;           // the run's last epoch: a checkpoint must come before it
  int group_size = 1;
  int group_rank = 0;
};

// Writes the checkpoint atomically (a temporary file, fsync, rename), so a
// kill at any moment leaves the previous checkpoint or the new one, whole.
// Throws std::runtime_error naming the file when it cannot be written.
void save_checkpoint(const std::string& path, const CheckpointKey& key, TrainingState& state,
                     const TrainingProgress& progress);

// A checkpoint read and checked in memory, not yet applied to a live state.
struct StoredCheckpoint {
  TrainingProgress progress;
  torch::serialize::InputArchive model, optimizer;
  std::vector<torch::Tensor> generator_states;
};

// Reads `path` and checks it against `key` and the shape of `state`, leaving
// `state` untouched. nullopt when there is no file; a checkpoint that cannot be
// used (another config, group or format, damaged, or with no epoch left to
// train) is reported in `*why_unusable` and ignored.
std::optional<StoredCheckpoint> read_checkpoint(const std::string& path, const CheckpointKey& key,
                                                const TrainingState& state, std::string* why_unusable);

// Sets `state` to what `stored` holds (after read_checkpoint accepted it).
void restore_checkpoint(StoredCheckpoint& stored, TrainingState& state);

// read_checkpoint, then restore_checkpoint when it found a usable one: the
// progress to go on from, or nullopt with `state` untouched.
std::optional<TrainingProgress> load_checkpoint(const std::string& path, const CheckpointKey& key,
                                                TrainingState& state, std::string* why_unusable);

// load_checkpoint for every rank of a data-parallel group at once (collective:
// every rank calls it, also one with an empty `path`). Each rank reads its own
// file without touching its state; the group then agrees: when every rank holds
// a usable checkpoint of the same epoch all restore it, otherwise none does and
// the point starts afresh on every rank (`*why_unusable` says why on a rank
// whose checkpoint goes unused). A single rank (size 1) is load_checkpoint.
std::optional<TrainingProgress> load_group_checkpoint(const std::string& path, const CheckpointKey& key,
                                                      TrainingState& state, GradientReducer& group,
                                                      std::string* why_unusable);

}  // namespace ablate
