// A rough FLOP count per point, for ordering work and for `ablate plan`'s estimate.
#include <algorithm>

#include "core/config.hpp"
#include "core/families/families.hpp"
#include "core/metrics.hpp"
#include "sweeps/sweep.hpp"

namespace ablate::sweeps {
namespace {

using nlohmann::json;

constexpr double kTrainImages = 60000;  // Fashion-MNIST training set, before the validation split
constexpr double kTestImages = 10000;
constexpr double kConv3x3 = 9;
constexpr double kStoredCopies = 3;

// One forward pass of one image through the model's layer plan (core/families/):
// multiply-accumulates and the values a layer's output leaves for the backward
// pass; parameters exactly as torch counts them. Activations, pooling, BatchNorm
// and biases are left out of the MACs (a few percent next to the matrix
// products); the stored values count each convolution's and linear layer's
// output about three times (pre-activation, normalised, activated).
ModelSize forward_size(const json& canonical) {
  const LayerPlan plan = model_plan(config_from_json(canonical));
  ModelSize size;
  size.parameters = static_cast<double>(count_plan_parameters(plan));
  for (const LayerSpec& layer : plan.layers()) {
    const double in = layer.in, out = layer.out, pixels = double(layer.side) * layer.side;
    switch (layer.kind) {
      case LayerKind::linear:
        size.forward_macs += in * out;
        size.activations += kStoredCopies * out;
        break;
      case LayerKind::conv3x3: {
        const double macs = pixels * in * out * kConv3x3;
        size.forward_macs += macs;
        size.convolution_macs += macs;
        size.activations += kStoredCopies * pixels * out;
        break;
      }
      case LayerKind::residual_block: {  // two 3x3 convs at the output's side, and the 1x1 projection
        double macs = pixels * in * out * kConv3x3 + pixels * out * out * kConv3x3;
        if (layer.has_projection()) macs += pixels * in * out;
        size.forward_macs += macs;
        size.convolution_macs += macs;
        size.activations += 2 * kStoredCopies * pixels * out;
        break;
      }
      case LayerKind::batchnorm:
      case LayerKind::activation:
      case LayerKind::max_pool2x2:
      case LayerKind::flatten:
      case LayerKind::dropout:
      case LayerKind::global_avg_pool:
        break;
    }
  }
  return size;
}

// Training FLOPs of a point whose model does `forward_macs` per image: FLOPs = 2 x
// MACs per forward pass; training costs about 3 forward passes per image (forward +
// backward), and every epoch also evaluates the validation and test images and the
// clean-train subset once, or twice with eval_flip (each image and its mirror).
double point_cost(const json& config, double forward_macs) {
  const double val = config.at("val_size").get<int>();
  const double limit = config.at("train_limit").get<int>();
  double train = std::max(0.0, kTrainImages - val);
  if (limit > 0) train = std::min(train, limit);
  const double train_eval = std::min(train, static_cast<double>(kTrainEvalImages));
  const double evaluations = config.at("eval_flip").get<bool>() ? 2 : 1;
  const double epochs = config.at("epochs").get<int>();
  return 2 * forward_macs * epochs * (3 * train + evaluations * (val + kTestImages + train_eval));
}

}  // namespace

double estimate_point_cost(const json& config) { return point_cost(config, forward_size(config).forward_macs); }

double PointCostEstimator::operator()(const json& config) {
  // Comparing values in place is cheap where building a key (pack_key), or even
  // copying the values, costs as much as the size.
  auto same_shape = [&config](const Known& known) {
    size_t i = 0;
    for (const ConfigKey& key : config_keys())
      if (key.shape && config.at(key.name) != known.shape_values[i++]) return false;
    return true;
  };
  for (const Known& known : known_)
    if (same_shape(known)) return point_cost(config, known.forward_macs);
  std::vector<json> shape_values;
  for (const ConfigKey& key : config_keys())
    if (key.shape) shape_values.push_back(config.at(key.name));
  const double forward_macs = forward_size(config).forward_macs;
  if (known_.size() < 256) known_.push_back({std::move(shape_values), forward_macs});
  return point_cost(config, forward_macs);
}

ModelSize estimate_model_size(const json& config) { return forward_size(config); }

}  // namespace ablate::sweeps
