// Bucket plan, backward hooks and the in-order launch of gradient all-reduces.
#include "trainer/gradient_sync.hpp"

#include <stdexcept>
#include <string>

namespace ablate {
namespace {

// One flat buffer holds one dtype on one device.
bool same_kind(const torch::Tensor& a, const torch::Tensor& b) {
  return a.scalar_type() == b.scalar_type() && a.device() == b.device();
}

}  // namespace

GradientSync::GradientSync(const std::vector<torch::Tensor>& parameters, GradientReducer& reducer,
                           GradientSyncMode mode)
    : reducer_(reducer), mode_(mode) {
  if (reducer_.size() == 1) return;
  for (const auto& p : parameters)  // a frozen parameter has no gradient to average (nor may it hold a hook)
    if (p.requires_grad()) parameters_.push_back(p);
  bucket_of_.resize(parameters_.size());
  slot_of_.resize(parameters_.size());
  arrived_.assign(parameters_.size(), false);

  // Reverse registration order: the output layer's gradients arrive first, so
  // the first bucket fills (and goes out) while backward is still early on.
  size_t bytes = 0;
  int64_t elements = 0;  // in the bucket being filled
  for (size_t i = parameters_.size(); i-- > 0;) {
    const torch::Tensor& p = parameters_[i];
    const size_t p_bytes = static_cast<size_t>(p.numel()) * p.element_size();
    if (buckets_.empty() || bytes + p_bytes > reducer_.bucket_bytes() ||
        !same_kind(parameters_[buckets_.back().slots.front().parameter], p)) {
      buckets_.emplace_back();
      bytes = 0, elements = 0;
    }
    Bucket& bucket = buckets_.back();
    bucket_of_[i] = buckets_.size() - 1;
    slot_of_[i] = bucket.slots.size();
    bucket.slots.push_back({i, elements});
    bytes += p_bytes, elements += p.numel();
  }
  for (Bucket& bucket : buckets_) {
    const Slot& last = bucket.slots.back();
    const torch::Tensor& first = parameters_[bucket.slots.front().parameter];
    bucket.flat = torch::zeros({last.offset + parameters_[last.parameter].numel()}, first.options());
  }

  if (mode_ == GradientSyncMode::overlapped)
    for (size_t i = 0; i < parameters_.size(); ++i)
      hook_handles_.push_back(
          parameters_[i].register_hook([this, i](const torch::Tensor& grad) { on_gradient(i, grad); }));
}

GradientSync::~GradientSync() {
  for (size_t i = 0; i < hook_handles_.size(); ++i) parameters_[i].remove_hook(hook_handles_[i]);
}

torch::Tensor GradientSync::slice_of(const Bucket& bucket, const Slot& slot) const {
  const torch::Tensor& p = parameters_[slot.parameter];
  return bucket.flat.slice(0, slot.offset, slot.offset + p.numel()).view(p.sizes());
}

void GradientSync::begin_step() {
  if (buckets_.empty()) return;
  if (in_step_) throw std::logic_error("GradientSync::begin_step called twice without finish_step");
  for (Bucket& bucket : buckets_) bucket.missing = bucket.slots.size(), bucket.pending.reset();
  arrived_.assign(parameters_.size(), false);
  next_launch_ = 0;
  launched_during_backward_ = 0;
  in_step_ = in_backward_ = true;
}

// A parameter's gradient for this backward: copied into its bucket; a bucket
// whose last gradient this was may go out (in order).
void GradientSync::on_gradient(size_t parameter, const torch::Tensor& grad) {
  if (!in_step_) return;  // a backward outside a training step (none today): not ours to reduce
  if (arrived_[parameter])
    throw std::logic_error("GradientSync: parameter " + std::to_string(parameter) +
                           " received a second gradient in one step (backward twice between begin_step and "
                           "finish_step); accumulate gradients over several steps instead");
  Bucket& bucket = buckets_[bucket_of_[parameter]];
  {
    torch::NoGradGuard no_grad;
    slice_of(bucket, bucket.slots[slot_of_[parameter]]).copy_(grad);
  }
  arrived_[parameter] = true;
  --bucket.missing;
  if (bucket.missing == 0 && reducer_.may_start_here()) launch_ready_buckets();
}

void GradientSync::launch_ready_buckets() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].missing == 0) {
    Bucket& bucket = buckets_[next_launch_++];
    bucket.pending = reducer_.start_sum(bucket.flat);
    if (in_backward_) ++launched_during_backward_;
  }
  // Earlier all-reduces advance while the hooks run (MPI moves nonblocking
  // collectives only inside MPI calls).
  for (size_t b = 0; b < next_launch_; ++b) buckets_[b].pending->poll();
}

void GradientSync::finish_step() {
  if (buckets_.empty()) return;
  if (!in_step_) throw std::logic_error("GradientSync::finish_step called without begin_step");
  in_backward_ = false;
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    if (arrived_[i]) continue;
    Bucket& bucket = buckets_[bucket_of_[i]];
    const torch::Tensor& grad = parameters_[i].grad();
    // After-backward mode reads .grad; a parameter without one (unused) sends zeros.
    if (mode_ == GradientSyncMode::after_backward && grad.defined())
      slice_of(bucket, bucket.slots[slot_of_[i]]).copy_(grad);
    else
      slice_of(bucket, bucket.slots[slot_of_[i]]).zero_();
    arrived_[i] = true;
    --bucket.missing;
  }
  launch_ready_buckets();

  // In bucket order, as launched: each rank waits for the same collectives.
  for (Bucket& bucket : buckets_) {
    bucket.pending->wait();
    bucket.pending.reset();
    bucket.flat.div_(reducer_.size());
    for (const Slot& slot : bucket.slots) {
      torch::Tensor& grad = parameters_[slot.parameter].mutable_grad();
      if (grad.defined())
        grad.copy_(slice_of(bucket, slot));
      else
        grad = slice_of(bucket, slot).clone();
    }
  }
  in_step_ = false;
}

}  // namespace ablate
