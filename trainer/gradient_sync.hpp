// GradientSync: averages a model's gradients over a data-parallel group in flat
// buckets, launched from backward hooks as each bucket fills (as PyTorch DDP),
// or all after backward (the fallback), in the same bucket order on every rank.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "trainer/reducer.hpp"

namespace ablate {

enum class GradientSyncMode {
  // Each bucket's all-reduce starts inside backward, as soon as its last
  // gradient arrives, so communication overlaps the rest of backward.
  overlapped,
  // Every bucket's all-reduce starts after backward has finished.
  after_backward,
};

// One step's use, on every rank of the group:
//   sync.begin_step();  loss.backward();  sync.finish_step();  optimizer.step();
// after which each parameter's .grad holds the group's mean gradient.
//
// Buckets: parameters in reverse registration order (backward produces the last
// layer's gradients first), consecutive ones of one dtype and device sharing a
// bucket of at most reducer.bucket_bytes(). Both modes use the same buckets and
// the same collective, so they give bitwise-identical gradients; they differ
// only in when each all-reduce starts.
//
// Ordering: a bucket may fill before an earlier one (gradients arrive roughly,
// not exactly, in reverse order); it is launched only once every earlier bucket
// has been, so all ranks start the same collectives in the same order.
//
// Unused parameters: one that receives no gradient in a step (on this rank)
// contributes zeros, launched at finish_step, so no rank waits for a bucket
// another never completes (DDP's find_unused_parameters). Its .grad becomes the
// group's mean, zeros if no rank used it: unlike one rank alone, where it would
// stay undefined (this differs only for optimizers that step on zero gradients,
// with momentum or weight decay; the study's models use every parameter).
//
// Threads: a hook runs on whichever thread autograd runs the parameter's
// gradient on (the thread that called backward for CPU tensors, a device thread
// for CUDA ones). Where the reducer may not start a collective from that thread
// (MPI is MPI_THREAD_FUNNELED), the hook only fills the bucket and finish_step,
// on the calling thread, launches it: overlap is lost, never correctness.
class GradientSync {
 public:
  // With a group of one rank, every call does nothing and no hook is registered.
  GradientSync(const std::vector<torch::Tensor>& parameters, GradientReducer& reducer, GradientSyncMode mode);
  ~GradientSync();  // removes the hooks: the model may outlive this object
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // Call before backward. The gradients must have been cleared (zero_grad):
  // a hook sees this backward's gradient alone, as the step's gradient.
  void begin_step();
  // Call after backward: launches what is left, waits for every bucket in
  // order and writes the mean over the group into each parameter's .grad.
  void finish_step();

  size_t bucket_count() const { return buckets_.size(); }
  // Buckets whose all-reduce started inside backward in the last step (tests,
  // benchmarks: 0 in after_backward mode or where hooks may not communicate).
  size_t launched_during_backward() const { return launched_during_backward_; }

 private:
  struct Slot {           // one parameter's place in its bucket
    size_t parameter;     // index into parameters_
    int64_t offset = 0;   // first element in the bucket's flat buffer
  };
  struct Bucket {
    std::vector<Slot> slots;
    torch::Tensor flat;                          // the buffer all-reduced in place
    size_t missing = 0;                          // slots still waiting for a gradient this step
    std::unique_ptr<PendingCollective> pending;  // set once launched
  };

  void on_gradient(size_t parameter, const torch::Tensor& grad);
  void launch_ready_buckets();
  torch::Tensor slice_of(const Bucket& bucket, const Slot& slot) const;

  std::vector<torch::Tensor> parameters_;
  GradientReducer& reducer_;
  GradientSyncMode mode_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;     // per parameter
  std::vector<size_t> slot_of_;       // per parameter: index in its bucket's slots
  std::vector<bool> arrived_;         // per parameter, this step
  std::vector<unsigned> hook_handles_;
  size_t next_launch_ = 0;            // buckets [0, next_launch_) have been launched this step
  bool in_step_ = false;
  bool in_backward_ = false;          // between begin_step and finish_step's own launches
  size_t launched_during_backward_ = 0;
};

}  // namespace ablate
