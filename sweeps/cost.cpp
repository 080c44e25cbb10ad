// A rough FLOP count per point, for ordering work and for `ablate plan`'s estimate.
#include <algorithm>

#include "sweeps/sweep.hpp"

namespace ablate::sweeps {
namespace {

using nlohmann::json;

constexpr double kImageSide = 28;
constexpr double kInputPixels = kImageSide * kImageSide;
constexpr double kClasses = 10;
constexpr double kTrainImages = 60000;  // Fashion-MNIST training set, before the validation split
constexpr double kTestImages = 10000;
constexpr double kConv3x3 = 9;

std::vector<int> ints(const json& list) { return list.get<std::vector<int>>(); }

// One forward pass of one image: multiply-accumulates, parameters, and the
// values a layer's output leaves for the backward pass. Activations, pooling,
// BatchNorm and biases are left out of the MACs (a few percent next to the
// matrix products); the stored values count each layer's output about three
// times (pre-activation, normalised, activated).
ModelSize forward_size(const json& config) {
  constexpr double kStoredCopies = 3;
  const std::string model = config.at("model").get<std::string>();
  ModelSize size;
  auto dense = [&](double in, double out) {
    size.forward_macs += in * out;
    size.parameters += in * out + out;
    size.activations += kStoredCopies * out;
  };
  auto conv3x3 = [&](double side, double in, double out) {
    size.forward_macs += side * side * in * out * kConv3x3;
    size.parameters += in * out * kConv3x3 + out;
    size.activations += kStoredCopies * side * side * out;
  };
  if (model == "linear") {
    dense(kInputPixels, kClasses);
    return size;
  }

  if (model == "mlp") {
    double in = kInputPixels;
    for (int width : ints(config.at("hidden"))) dense(in, width), in = width;
    dense(in, kClasses);
    return size;
  }

  if (model == "cnn") {  // 3x3 same-padded conv, then a 2x2 max-pool, per block
    double in = 1;
    int side = static_cast<int>(kImageSide);
    for (int channels : ints(config.at("channels"))) {
      conv3x3(side, in, channels);
      in = channels;
      side /= 2;
    }
    const double flat = in * side * side;
    const double fc = config.at("fc_width").get<int>();
    if (fc > 0)
      dense(flat, fc), dense(fc, kClasses);
    else
      dense(flat, kClasses);
    return size;
  }

  if (model == "resnet") {  // 3x3 stem; per block two 3x3 convs; stages after the first halve the side
    const int width = config.at("resnet_width").get<int>();
    int side = static_cast<int>(kImageSide);
    conv3x3(side, 1, width);
    double in = width;
    const auto blocks = ints(config.at("resnet_blocks"));
    for (size_t stage = 0; stage < blocks.size(); ++stage) {
      const double channels = double(width) * (1 << stage);
      for (int b = 0; b < blocks[stage]; ++b) {
        const bool downsample = stage > 0 && b == 0;
        if (downsample) side = (side + 1) / 2;
        conv3x3(side, in, channels);
        conv3x3(side, channels, channels);
        if (in != channels || downsample) {  // 1x1 projection shortcut
          size.forward_macs += double(side) * side * in * channels;
          size.parameters += in * channels;
        }
        in = channels;
      }
    }
    dense(in, kClasses);  // global average pool, then the classifier
    return size;
  }
  return size;
}

}  // namespace

// FLOPs = 2 x MACs per forward pass; training costs about 3 forward passes per
// image (forward + backward), and every epoch also evaluates the validation and
// test images once.
double estimate_point_cost(const json& config) {
  const double val = config.at("val_size").get<int>();
  const double limit = config.at("train_limit").get<int>();
  double train = std::max(0.0, kTrainImages - val);
  if (limit > 0) train = std::min(train, limit);
  const double epochs = config.at("epochs").get<int>();
  return 2 * forward_size(config).forward_macs * epochs * (3 * train + val + kTestImages);
}

ModelSize estimate_model_size(const json& config) { return forward_size(config); }

}  // namespace ablate::sweeps
