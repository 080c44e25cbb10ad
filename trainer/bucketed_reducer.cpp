// Packing tensors into buckets and back; the collective itself is the backend's.
#include "trainer/bucketed_reducer.hpp"

namespace ablate {

// Consecutive tensors of one dtype share a bucket until it would pass
// bucket_bytes: few large messages instead of one per tensor.
void BucketedReducer::reduce_in_buckets(std::vector<torch::Tensor>& tensors, Op op) {
  if (size() == 1) return;
  size_t first = 0, bytes = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const size_t tensor_bytes = tensors[i].numel() * tensors[i].element_size();
    const bool type_changes = i > first && tensors[i].scalar_type() != tensors[first].scalar_type();
    if (i > first && (type_changes || bytes + tensor_bytes > bucket_bytes_)) {
      run_bucket(tensors, first, i, op);
      first = i, bytes = 0;
    }
    bytes += tensor_bytes;
  }
  if (first < tensors.size()) run_bucket(tensors, first, tensors.size(), op);
}

void BucketedReducer::run_bucket(std::vector<torch::Tensor>& tensors, size_t first, size_t last, Op op) {
  std::vector<torch::Tensor> views;
  for (size_t i = first; i < last; ++i) views.push_back(tensors[i].reshape({-1}));
  torch::Tensor flat = views.size() == 1 ? views[0].contiguous() : torch::cat(views);
  if (flat.data_ptr() == tensors[first].data_ptr()) flat = flat.clone();  // never reduce into a live tensor
  communicate(flat, op);
  if (op == Op::mean) flat.div_(size());
  torch::NoGradGuard no_grad;
  int64_t offset = 0;
  for (size_t i = first; i < last; ++i) {
    const int64_t n = tensors[i].numel();
    tensors[i].copy_(flat.slice(0, offset, offset + n).view_as(tensors[i]));
    offset += n;
  }
}

}  // namespace ablate
