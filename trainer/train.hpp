// trainer::train: one config in, a trained model and its metrics out.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <stdexcept>
#include <string>

#include "core/config.hpp"
#include "trainer/gradient_sync.hpp"
#include "trainer/idx.hpp"
#include "core/metrics.hpp"
#include "trainer/reducer.hpp"

namespace ablate {

// The loss became NaN or infinite: the point failed, the sweep goes on.
class DivergedError : public std::runtime_error {
 public:
  DivergedError(int epoch, int64_t step)
      : std::runtime_error("diverged at epoch " + std::to_string(epoch) + ", step " + std::to_string(step) +
                           ": the loss is NaN or infinite (try a lower lr, normalize = \"standard\", or "
                           "gradient-friendly init)"),
        epoch_(epoch),
        step_(step) {}
  int epoch() const { return epoch_; }
  int64_t step() const { return step_; }

 private:
  int epoch_;
  int64_t step_;
};

struct TrainContext {
  torch::Device device = torch::kCPU;
  GradientReducer* reducer = nullptr;  // nullptr: a single replica
  // When a group's gradient all-reduces start: inside backward from hooks
  // (default), or after it (the fallback; same buckets, bitwise-same result).
  GradientSyncMode gradient_sync = GradientSyncMode::overlapped;
  // Optional: filled with the trained model, for callers that keep it (tests, export).
  torch::nn::Sequential* trained_model = nullptr;
  // Optional: a checkpoint file written after every epoch but the last and read
  // at the start, so an interrupted point goes on from its last finished epoch.
  // With several replicas each rank keeps its own (".rank<r>" appended): their
  // augmentation and dropout streams differ; the group resumes only when every
  // rank's file holds the same epoch. The caller deletes them once the result is safe.
  std::string checkpoint_path;
  // Told why an existing checkpoint was not used (the point then starts afresh),
  // or why a CUDA graph could not be captured (the run goes on without one).
  std::function<void(const std::string&)> on_warning;
  // A check for tests: on CUDA, any host synchronisation inside an epoch's
  // steps throws (the data, splits and indices must stay on the device).
  bool forbid_host_sync = false;
};

// Trains `config` on `data`, calling `on_epoch` after each epoch (on every
// rank; the orchestrator reports from the group leader only). A run resumed
// from a checkpoint first replays the rows of the epochs it already had. The
// run ends after epoch `config.epochs`, or after the first epoch whose verdict
// is not go_on (early stopping); the learning-rate schedule always spans
// `config.epochs`, so an early end trains exactly the epochs a full run trains.
// Throws DivergedError, DataError, ConfigError.
TrainResult train(const TrainConfig& config, const FashionMnist& data, const TrainContext& context,
                  const EpochCallback& on_epoch = {});

}  // namespace ablate
