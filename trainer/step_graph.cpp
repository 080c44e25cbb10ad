// StepGraph: capture and replay of a training step's forward, loss and backward.
#include "trainer/step_graph.hpp"

#include <utility>

#ifdef ABLATE_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace ablate {

struct StepGraph::Captured {
#ifdef ABLATE_CUDA
  at::cuda::CUDAGraph graph;
#endif
  torch::Tensor images, labels;      // static inputs: each replay's batch is copied in
  StepOutputs outputs;               // static outputs, rewritten by each replay
  std::vector<torch::Tensor> grads;  // the gradients the graph writes, one per parameter
};

bool cuda_graphs_apply(bool requested, const torch::Device& device, int replicas) {
#ifdef ABLATE_CUDA
  return requested && device.is_cuda() && replicas == 1;
#else
  (void)requested, (void)device, (void)replicas;
  return false;
#endif
}

StepGraph::StepGraph(StepBody body, std::vector<torch::Tensor> parameters, const torch::Device& device,
                     int64_t batch_size, bool enabled, std::function<void(const std::string&)> on_warning)
    : body_(std::move(body)),
      parameters_(std::move(parameters)),
      device_(device),
      batch_size_(batch_size),
      enabled_(enabled && cuda_graphs_apply(true, device, 1)),
      on_warning_(std::move(on_warning)) {}

StepGraph::~StepGraph() = default;

bool StepGraph::captured() const { return captured_ != nullptr; }

StepOutputs StepGraph::run(const torch::Tensor& images, const torch::Tensor& labels, int64_t global_n) {
  const bool full_batch = global_n == batch_size_ && images.size(0) == batch_size_;
  if (!enabled_ || !full_batch) return body_(images, labels, global_n);
  if (captured_) return replay(images, labels);
  if (++full_batches_seen_ <= kWarmupSteps) return body_(images, labels, global_n);
  return capture_and_replay(images, labels, global_n);
}

#ifdef ABLATE_CUDA

StepOutputs StepGraph::capture_and_replay(const torch::Tensor& images, const torch::Tensor& labels,
                                          int64_t global_n) {
  auto captured = std::make_unique<Captured>();
  captured->images = images.clone();
  captured->labels = labels.clone();
  // Capture on a side stream (the default stream cannot be captured), ordered
  // after everything queued so far, and the current stream after the capture.
  const auto current = c10::cuda::getCurrentCUDAStream(device_.index());
  const auto side = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device_.index());
  at::cuda::CUDAEvent inputs_ready;
  inputs_ready.record(current);
  inputs_ready.block(side);
  try {
    c10::cuda::CUDAStreamGuard on_side(side);
    // Dropout's generator: each replay must draw fresh numbers. (Torch registers
    // the default generator itself; saying so costs nothing and does not depend on it.)
    captured->graph.register_generator_state(at::cuda::detail::getDefaultCUDAGenerator(device_.index()));
    captured->graph.capture_begin();
    try {
      captured->outputs = body_(captured->images, captured->labels, global_n);
    } catch (...) {
      try {
        captured->graph.capture_end();
      } catch (...) {
      }
      throw;
    }
    captured->graph.capture_end();
  } catch (const std::exception& e) {
    enabled_ = false;
    if (on_warning_)
      on_warning_(std::string("CUDA graph capture of the training step failed; this run goes on without it: ") +
                  e.what());
    return body_(images, labels, global_n);
  }
  at::cuda::CUDAEvent captured_done;
  captured_done.record(side);
  captured_done.block(current);
  for (const auto& parameter : parameters_) captured->grads.push_back(parameter.grad());
  captured_ = std::move(captured);
  // The capture only recorded the kernels: this batch is trained by the first replay.
  return replay(images, labels);
}

StepOutputs StepGraph::replay(const torch::Tensor& images, const torch::Tensor& labels) {
  captured_->images.copy_(images);
  captured_->labels.copy_(labels);
  for (size_t i = 0; i < parameters_.size(); ++i) parameters_[i].mutable_grad() = captured_->grads[i];
  captured_->graph.replay();
  return captured_->outputs;
}

#else  // no CUDA in this build: enabled_ is always false and these are never reached.

StepOutputs StepGraph::capture_and_replay(const torch::Tensor& images, const torch::Tensor& labels,
                                          int64_t global_n) {
  return body_(images, labels, global_n);
}

StepOutputs StepGraph::replay(const torch::Tensor& images, const torch::Tensor& labels) {
  return body_(images, labels, batch_size_);
}

#endif

}  // namespace ablate
