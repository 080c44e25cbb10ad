// Test-time flip averaging: the mirror and the mean of two class distributions.
#include "trainer/test_time_flip.hpp"

#include <cmath>

namespace ablate {

torch::Tensor mirrored(const torch::Tensor& images) { return images.flip({-1}); }

torch::Tensor flip_averaged_log_probabilities(const torch::Tensor& logits, const torch::Tensor& mirrored_logits) {
  // log((p + q) / 2) = logaddexp(log p, log q) - log 2, without leaving log space.
  return torch::logaddexp(torch::log_softmax(logits.to(torch::kFloat32), -1),
                          torch::log_softmax(mirrored_logits.to(torch::kFloat32), -1)) -
         std::log(2.0);
}

}  // namespace ablate
