// The fused CPU SGD step: one read of grad, buffer and parameter, one write of
// buffer and parameter, per element.
//
// Bit for bit torch::optim::SGD's step as ATen's vectorised CPU kernels round
// it: `a.add(b, alpha)` is one fused multiply-add (fma(b, alpha, a)), the
// momentum's `buf.mul_(m)` a rounded product before `.add_(d)`. So the loop
// is built for AVX2 with FMA, spells out each fused operation, and this file
// is compiled with -ffp-contract=off so that nothing else is fused
// (trainer/CMakeLists.txt). A CPU without FMA takes the tensor form.
#include "trainer/packed/fused_sgd.hpp"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <stdexcept>

namespace ablate {
namespace {

template <typename T>
struct MemberStep {
  T negative_lr, momentum, weight_decay;
};

// One member's block of `n` elements. A function of its own: GCC gives a
// lambda no target attribute of the function around it.
template <typename T>
__attribute__((target("avx2,fma"))) void sgd_block(T* __restrict p, const T* __restrict g, T* __restrict b, int64_t n,
                                                   MemberStep<T> s, bool nesterov, bool use_buffer) {
  const bool decay = s.weight_decay != 0;
  if (!use_buffer) {
    for (int64_t i = 0; i < n; ++i) {
      const T d = decay ? std::fma(p[i], s.weight_decay, g[i]) : g[i];
      p[i] = std::fma(d, s.negative_lr, p[i]);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const T d = decay ? std::fma(p[i], s.weight_decay, g[i]) : g[i];
    const T v = s.momentum * b[i] + d;  // two roundings, as mul_ then add_
    b[i] = v;
    p[i] = std::fma(nesterov ? std::fma(v, s.momentum, d) : v, s.negative_lr, p[i]);
  }
}

}  // namespace

bool can_fuse_sgd(const torch::Tensor& parameter, const torch::Tensor& grad, const torch::Tensor& buffer) {
  static const bool has_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!has_fma || !parameter.is_cpu() || parameter.dim() < 1 || !parameter.is_floating_point()) return false;
  if (parameter.scalar_type() != torch::kFloat32 && parameter.scalar_type() != torch::kFloat64) return false;
  for (const auto* t : {&grad, &buffer})
    if (!t->defined() || !t->is_cpu() || t->scalar_type() != parameter.scalar_type() ||
        t->strides() != parameter.strides() || t->sizes() != parameter.sizes())
      return false;
  // Dense and non-overlapping, members outermost: a stack made contiguous, or
  // with its inner dimensions permuted (PackedModel's linear weights).
  return parameter.is_non_overlapping_and_dense() && parameter.size(0) > 0 &&
         parameter.stride(0) * parameter.size(0) == parameter.numel();
}

void fused_sgd_step(torch::Tensor& parameter, const torch::Tensor& grad, torch::Tensor& buffer,
                    const std::vector<SgdMemberNumbers>& members, bool nesterov, bool use_buffer) {
  if (!can_fuse_sgd(parameter, grad, buffer) || static_cast<int64_t>(members.size()) != parameter.size(0))
    throw std::logic_error("fused_sgd_step: stacks not laid out alike, or not one set of numbers per member");
  const int64_t block = parameter.stride(0);
  AT_DISPATCH_FLOATING_TYPES(parameter.scalar_type(), "fused_sgd_step", [&] {
    scalar_t* p = parameter.data_ptr<scalar_t>();
    const scalar_t* g = grad.data_ptr<scalar_t>();
    scalar_t* b = buffer.data_ptr<scalar_t>();
    for (size_t k = 0; k < members.size(); ++k) {
      // Each number rounded to the parameter's type, as ATen rounds a scalar alpha.
      const MemberStep<scalar_t> step{static_cast<scalar_t>(-members[k].lr), static_cast<scalar_t>(members[k].momentum),
                                      static_cast<scalar_t>(members[k].weight_decay)};
      const int64_t first = static_cast<int64_t>(k) * block;
      at::parallel_for(first, first + block, 16384, [&](int64_t begin, int64_t end) {
        sgd_block<scalar_t>(p + begin, g + begin, b + begin, end - begin, step, nesterov, use_buffer);
      });
    }
  });
}

}  // namespace ablate
