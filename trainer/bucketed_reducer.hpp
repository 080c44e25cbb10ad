// BucketedReducer: the part of a gradient all-reduce that every backend shares:
// tensors packed into flat buckets of at most ~25 MB, always in the same order on
// every rank, each bucket handed to the backend (MPI, NCCL) and unpacked again.
#pragma once

#include "trainer/reducer.hpp"

namespace ablate {

class BucketedReducer : public GradientReducer {
 public:
  explicit BucketedReducer(size_t bucket_bytes) : bucket_bytes_(bucket_bytes) {}
  void allreduce_mean(std::vector<torch::Tensor>& tensors) override { reduce_in_buckets(tensors, Op::mean); }
  void allreduce_sum(std::vector<torch::Tensor>& tensors) override { reduce_in_buckets(tensors, Op::sum); }
  void broadcast(std::vector<torch::Tensor>& tensors) override { reduce_in_buckets(tensors, Op::broadcast); }
  size_t bucket_bytes() const override { return bucket_bytes_; }

 protected:
  enum class Op { sum, mean, broadcast };
  // The backend's collective on one flat, contiguous bucket of one dtype, in
  // place: sum (mean divides afterwards) or broadcast from the group's rank 0.
  virtual void communicate(torch::Tensor& flat, Op op) = 0;

 private:
  void reduce_in_buckets(std::vector<torch::Tensor>& tensors, Op op);
  void run_bucket(std::vector<torch::Tensor>& tensors, size_t first, size_t last, Op op);

  size_t bucket_bytes_;
};

}  // namespace ablate
