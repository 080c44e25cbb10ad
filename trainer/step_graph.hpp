// StepGraph: a training step's forward, loss and backward, captured once as a
// CUDA graph and replayed for every batch of the captured shape.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ablate {

// What one step hands back for the epoch's running sums.
struct StepOutputs {
  torch::Tensor loss_sum;  // the batch's summed cross-entropy (float32 scalar)
  torch::Tensor logits;    // [B, 10]
};

// One step as written in train(): clears the gradients, runs forward, loss and
// backward on (images, labels) of a global batch of `global_n` images, and
// leaves the gradients in each parameter's .grad.
using StepBody = std::function<StepOutputs(const torch::Tensor& images, const torch::Tensor& labels,
                                           int64_t global_n)>;

// Why: a small model's step on a GPU is dozens of tiny kernels, and launching
// them costs more than running them; a CUDA graph launches them all at once.
//
// run() calls the body eagerly, except for full batches (`batch_size` images,
// a single replica) once enabled: the first kWarmupSteps of those run eagerly
// (lazy initialisation and kernel selection must not happen inside a capture),
// the next is captured on a side stream, and every later one copies its batch
// into the graph's static inputs and replays. A smaller batch (the last of an
// epoch) runs eagerly. The optimizer step stays outside the graph: the
// learning rate changes every step and Adam's step count lives on the host.
//
// The graph's gradients live in its private memory pool; an eager step
// replaces the parameters' .grad, so each replay points them back first.
// Dropout draws from the default CUDA generator, which a capture registers.
// Augmentation and the batch gather run before run(), eagerly.
class StepGraph {
 public:
  static constexpr int kWarmupSteps = 3;

  // `enabled` only takes effect on a CUDA device in a build with CUDA; elsewhere
  // run() is the body. A capture that fails is reported through `on_warning`
  // and the run goes on eagerly.
  StepGraph(StepBody body, std::vector<torch::Tensor> parameters, const torch::Device& device,
            int64_t batch_size, bool enabled, std::function<void(const std::string&)> on_warning = {});
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  // The step on this batch. The returned tensors are valid until the next run().
  StepOutputs run(const torch::Tensor& images, const torch::Tensor& labels, int64_t global_n);

  // Whether later full batches replay a graph (false before the capture and
  // wherever graphs are off or unsupported).
  bool captured() const;

 private:
  struct Captured;
  StepOutputs capture_and_replay(const torch::Tensor& images, const torch::Tensor& labels, int64_t global_n);
  StepOutputs replay(const torch::Tensor& images, const torch::Tensor& labels);

  StepBody body_;
  std::vector<torch::Tensor> parameters_;
  torch::Device device_;
  int64_t batch_size_;
  bool enabled_;
  std::function<void(const std::string&)> on_warning_;
  int full_batches_seen_ = 0;
  std::unique_ptr<Captured> captured_;
};

// Whether CUDA graphs apply to a run: asked for, on a CUDA device, in a build
// with CUDA, and one replica (the gradient all-reduce of a group stays eager).
bool cuda_graphs_apply(bool requested, const torch::Device& device, int replicas);

}  // namespace ablate
