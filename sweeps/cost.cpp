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

// Multiply-accumulates of one forward pass. Activations, pooling, BatchNorm and
// biases are left out: they are a few percent next to the matrix products.
double forward_macs(const json& config) {
  const std::string model = config.at("model").get<std::string>();
  if (model == "linear") return kInputPixels * kClasses;

  if (model == "mlp") {
    double macs = 0, in = kInputPixels;
    for (int width : ints(config.at("hidden"))) macs += in * width, in = width;
    return macs + in * kClasses;
  }

  if (model == "cnn") {  // 3x3 same-padded conv, then a 2x2 max-pool, per block
    double macs = 0, in = 1;
    int side = static_cast<int>(kImageSide);
    for (int channels : ints(config.at("channels"))) {
      macs += double(side) * side * in * channels * kConv3x3;
      in = channels;
      side /= 2;
    }
    const double flat = in * side * side;
    const double fc = config.at("fc_width").get<int>();
    return macs + (fc > 0 ? flat * fc + fc * kClasses : flat * kClasses);
  }

  if (model == "resnet") {  // 3x3 stem; per block two 3x3 convs; stages after the first halve the side
    const int width = config.at("resnet_width").get<int>();
    int side = static_cast<int>(kImageSide);
    double macs = double(side) * side * 1 * width * kConv3x3;
    double in = width;
    const auto blocks = ints(config.at("resnet_blocks"));
    for (size_t stage = 0; stage < blocks.size(); ++stage) {
      const double channels = double(width) * (1 << stage);
      for (int b = 0; b < blocks[stage]; ++b) {
        const bool downsample = stage > 0 && b == 0;
        if (downsample) side = (side + 1) / 2;
        const double area = double(side) * side;
        macs += area * in * channels * kConv3x3 + area * channels * channels * kConv3x3;
        if (in != channels || downsample) macs += area * in * channels;  // 1x1 projection shortcut
        in = channels;
      }
    }
    return macs + in * kClasses;  // global average pool, then the classifier
  }
  return 0;
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
  return 2 * forward_macs(config) * epochs * (3 * train + val + kTestImages);
}

}  // namespace ablate::sweeps
