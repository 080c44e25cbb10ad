// The trainer as the rest of ablate sees it: plain types only, no torch headers,
// so the orchestrator and its tests build in seconds.
#pragma once

#include <mpi.h>

#include <functional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "trainer/idx.hpp"
#include "core/metrics.hpp"

namespace ablate {

struct DeviceRequest {
  std::string kind = "auto";  // auto | cpu | cuda
  int gpu_index = 0;          // which GPU of the node (taken modulo the GPU count)
  int threads = 0;            // LibTorch intra-op threads; 0 = leave as is
};

struct TrainerInfo {
  std::string torch_version;
  std::string torch_library;  // the libtorch_cpu this process loaded (its path); "" when not found
  bool cuda_compiled_in = false;
  bool cuda_available = false;
  int cuda_devices = 0;
  int threads = 0;  // current intra-op threads
  std::string nccl_version;  // "2.28.7" (the library loaded at run time); "" when not compiled in
};

TrainerInfo trainer_info();

// Applies the request's thread count and resolves the device ("cpu", "cuda:0").
// Throws std::invalid_argument with a fix when the request cannot be met.
std::string prepare_device(const DeviceRequest& request);

// A per-point checkpoint file (see trainer/checkpoint.hpp): written after every
// epoch, read at the start; empty path: none.
struct CheckpointRequest {
  std::string path;
  std::function<void(const std::string&)> on_warning;  // why an existing checkpoint was not used
};

// Trains one config: on this process alone, or, with a `group` communicator of
// more than one rank, data-parallel with every rank of it (each calls this with
// the same config; gradients are averaged with MPI_Allreduce, metrics reduced).
// Throws DivergedError (a std::runtime_error), DataError, ConfigError.
TrainResult train_config(const TrainConfig& config, const FashionMnist& data, const DeviceRequest& request,
                         const EpochCallback& on_epoch = {}, const CheckpointRequest& checkpoint = {},
                         MPI_Comm group = MPI_COMM_NULL);

// One member of a pack: a point trained alongside others whose configs have the
// same pack key (core/config.hpp: equal shape keys), each with its own callback
// and checkpoint, exactly as train_config takes them.
struct PackMember {
  TrainConfig config;
  EpochCallback on_epoch;
  CheckpointRequest checkpoint;
};

// How one member's run ended: its result, or why it failed (`error`, e.g. a
// DivergedError's message). A failing member leaves the pack; the others go on.
struct PackMemberOutcome {
  bool failed = false;
  std::string error;
  TrainResult result;
};

// Called once per member, as soon as its run ends (its last epoch, an early-
// stopping verdict, or a failure), while the other members may still train.
using PackMemberEnd = std::function<void(size_t member, PackMemberOutcome outcome)>;

// Trains `members` on this process as one packed model (trainer/packed/): every
// member follows the curve it follows when trained alone by train_config, with
// its own seed, data split, shuffling, augmentation, dropout stream, learning
// rate, schedule and regularisation. Members may start at different epochs
// (each resumes from its own checkpoint) and end at different epochs. Throws
// ConfigError when the members' pack keys differ; Interrupted (or any other
// exception) thrown by an on_epoch ends the whole pack, the members that have
// not ended left unfinished with their checkpoints.
void train_pack(const std::vector<PackMember>& members, const FashionMnist& data, const DeviceRequest& request,
                const PackMemberEnd& on_end);

}  // namespace ablate
