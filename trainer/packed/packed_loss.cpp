// Each member's cross-entropy, label smoothing and L1/L2 penalty, for all at once.
#include "trainer/packed/packed_loss.hpp"

#include <algorithm>

namespace ablate {
namespace {

torch::Tensor per_member(const std::vector<double>& values, const torch::Tensor& like) {
  return torch::tensor(values, torch::kFloat64).to(like.device(), like.scalar_type());
}

bool any_positive(const std::vector<double>& values) {
  return std::any_of(values.begin(), values.end(), [](double v) { return v > 0; });
}

}  // namespace

torch::Tensor packed_loss(const torch::Tensor& logits, const torch::Tensor& labels, const PackedLossTerms& terms,
                          const std::vector<torch::Tensor>& weights, torch::Tensor* summed) {
  const int64_t members = logits.size(0), n = logits.size(1);
  // Reduced-precision logits (bf16 autocast) are taken to float32 first, as in train().
  auto full = logits.element_size() < 4 ? logits.to(torch::kFloat32) : logits;
  auto log_probability = torch::log_softmax(full, 2);
  auto nll = -log_probability.gather(2, labels.unsqueeze(2)).squeeze(2);  // [K, n]
  torch::Tensor cross_entropy;
  if (any_positive(terms.label_smoothing)) {
    auto smoothing = per_member(terms.label_smoothing, full).unsqueeze(1);
    cross_entropy = ((1 - smoothing) * nll + smoothing * -log_probability.mean(2)).sum(1);
  } else {
    cross_entropy = nll.sum(1);
  }
  if (summed) *summed = cross_entropy.detach();
  auto loss = cross_entropy * (1.0 / static_cast<double>(n));  // as train(): sum * (replicas / n)
  if (any_positive(terms.l1) || any_positive(terms.l2)) {
    auto l1 = per_member(terms.l1, full), l2 = per_member(terms.l2, full);
    for (const auto& w : weights) {
      auto flat = w.reshape({members, -1});
      loss = loss + l1 * flat.abs().sum(1) + l2 * flat.square().sum(1);
    }
  }
  return loss;
}

}  // namespace ablate
