// Model family "linear": multinomial logistic regression, 784 pixels -> 10 logits.
// Reads no other key (hidden, batchnorm and dropout are ignored). Packed form:
// generic (trainer/packed/ packs any plan's layers).
#include "core/families/families.hpp"
#include "core/metrics.hpp"

namespace ablate {
namespace {

LayerPlan plan(const TrainConfig&) {
  LayerPlan plan;
  plan.flatten().linear(kNumClasses);
  return plan;
}

}  // namespace

ModelFamily linear_family() {
  return {.name = "linear", .description = "logistic regression: flatten, one linear layer", .plan = plan, .validate = nullptr};
}

}  // namespace ablate
