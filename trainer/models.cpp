// MLP, CNN and ResNet definitions, and their initialisation.
#include "trainer/models.hpp"

#include <fmt/format.h>

namespace ablate {
namespace {

constexpr int64_t kImageSide = 28;
constexpr int64_t kPixels = kImageSide * kImageSide;

torch::nn::AnyModule activation(const TrainConfig& config) {
  if (config.activation == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (config.activation == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (config.activation == "leaky_relu")
    return torch::nn::AnyModule(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(config.leaky_slope)));
  if (config.activation == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  if (config.activation == "sigmoid") return torch::nn::AnyModule(torch::nn::Sigmoid());
  throw ConfigError("activation", fmt::format("unknown activation '{}'", config.activation));
}

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride = 1, bool bias = true) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(bias));
}

torch::nn::Sequential build_mlp(const TrainConfig& config, const std::vector<int>& hidden) {
  torch::nn::Sequential net;
  net->push_back(torch::nn::Flatten());
  int64_t width = kPixels;
  for (int out : hidden) {
    net->push_back(torch::nn::Linear(width, out));
    if (config.batchnorm) net->push_back(torch::nn::BatchNorm1d(out));
    net->push_back(activation(config));
    if (config.dropout > 0) net->push_back(torch::nn::Dropout(config.dropout));
    width = out;
  }
  net->push_back(torch::nn::Linear(width, kNumClasses));
  return net;
}


torch::nn::Sequential build_cnn(const TrainConfig& config) {
  torch::nn::Sequential net;
  int64_t in = 1, side = kImageSide;
  for (int out : config.channels) {
    net->push_back(conv3x3(in, out, 1, /*bias=*/!config.batchnorm));
    if (config.batchnorm) net->push_back(torch::nn::BatchNorm2d(out));
    net->push_back(activation(config));
    net->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
    in = out;
    side /= 2;
  }
  net->push_back(torch::nn::Flatten());
  int64_t width = in * side * side;
  if (config.dropout > 0) net->push_back(torch::nn::Dropout(config.dropout));
  if (config.fc_width > 0) {
    net->push_back(torch::nn::Linear(width, config.fc_width));
    net->push_back(activation(config));
    if (config.dropout > 0) net->push_back(torch::nn::Dropout(config.dropout));
    width = config.fc_width;
  }
  net->push_back(torch::nn::Linear(width, kNumClasses));
  return net;
}

torch::nn::Sequential build_resnet(const TrainConfig& config) {
  torch::nn::Sequential net;
  int64_t width = config.resnet_width;
  net->push_back(conv3x3(1, width, 1, /*bias=*/false));
  net->push_back(torch::nn::BatchNorm2d(width));
  net->push_back(torch::nn::ReLU());
  int64_t in = width;
  for (size_t stage = 0; stage < config.resnet_blocks.size(); ++stage) {
    const int64_t out = width << stage;
    for (int block = 0; block < config.resnet_blocks[stage]; ++block) {
      const int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
      net->push_back(ResidualBlock(in, out, stride));
      in = out;
    }
  }
  net->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)));
  net->push_back(torch::nn::Flatten());
  if (config.dropout > 0) net->push_back(torch::nn::Dropout(config.dropout));
  net->push_back(torch::nn::Linear(in, kNumClasses));
  return net;
}

void initialise(torch::nn::Module& model, const TrainConfig& config) {
  if (config.init == "default") return;
  torch::NoGradGuard no_grad;
  const bool saturating = config.activation == "tanh" || config.activation == "sigmoid";
  for (auto& module : model.modules(/*include_self=*/false)) {
    torch::Tensor weight, bias;
    if (auto* linear = module->as<torch::nn::Linear>()) {
      weight = linear->weight, bias = linear->bias;
    } else if (auto* conv = module->as<torch::nn::Conv2d>()) {
      weight = conv->weight, bias = conv->bias;
    } else {
      continue;
    }
    if (config.init == "kaiming") {
      torch::nn::init::kaiming_normal_(weight, /*a=*/0.0, torch::kFanIn, torch::kReLU);
    } else {
      // Xavier with the activation's gain: the classic remedy for tanh saturation.
      const double gain = config.activation == "tanh" ? 5.0 / 3.0 : (saturating ? 1.0 : std::sqrt(2.0));
      torch::nn::init::xavier_uniform_(weight, gain);
    }
    if (bias.defined()) bias.zero_();
  }
}

}  // namespace

ResidualBlockImpl::ResidualBlockImpl(int64_t in, int64_t out, int64_t stride)
    : conv1(register_module("conv1", conv3x3(in, out, stride, /*bias=*/false))),
      bn1(register_module("bn1", torch::nn::BatchNorm2d(out))),
      conv2(register_module("conv2", conv3x3(out, out, 1, /*bias=*/false))),
      bn2(register_module("bn2", torch::nn::BatchNorm2d(out))) {
  if (stride != 1 || in != out) {
    shortcut = register_module(
        "shortcut", torch::nn::Sequential(
                        torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
                        torch::nn::BatchNorm2d(out)));
  }
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1(conv1(x)));
  y = bn2(conv2(y));
  return torch::relu(y + (shortcut ? shortcut->forward(x) : x));
}

torch::nn::Sequential build_model(const TrainConfig& config) {
  torch::nn::Sequential model;
  if (config.model == "linear") {
    model = build_mlp(config, {});
  } else if (config.model == "mlp") {
    model = build_mlp(config, config.hidden);
  } else if (config.model == "cnn") {
    model = build_cnn(config);
  } else if (config.model == "resnet") {
    model = build_resnet(config);
  } else {
    throw ConfigError("model", fmt::format("unknown model '{}'", config.model));
  }
  initialise(*model, config);
  return model;
}

bool use_fastest_memory_format(torch::nn::Module& model, const torch::Device& device) {
  // Channels-last (NHWC) on the CPU: oneDNN's convolutions work in it natively, so
  // NCHW costs a layout reorder around every convolution. Measured with
  // bench/throughput (2 threads, 10,000 images, 2026-11-25): a CNN 32-64 epoch
  // 3.1 s -> 2.4 s, ResNet 16 (1-1-1) 6.2-6.8 s -> 4.5-5.4 s; results equal up to
  // float rounding. Left NCHW elsewhere: on GPUs it was not measured.
  if (!device.is_cpu()) return false;
  bool changed = false;
  torch::NoGradGuard no_grad;
  for (auto& parameter : model.parameters()) {
    if (parameter.dim() != 4 || parameter.suggest_memory_format() == torch::MemoryFormat::ChannelsLast) continue;
    // Not contiguous(ChannelsLast): with one input channel that returns the NCHW
    // tensor as it is (both layouts hold the same bytes), and the first
    // convolution would then stay NCHW. Explicit NHWC strides make every one NHWC.
    auto nhwc = torch::empty(parameter.sizes(), parameter.options().memory_format(torch::MemoryFormat::ChannelsLast));
    parameter.set_data(nhwc.copy_(parameter));
    changed = true;
  }
  return changed;
}

int64_t count_parameters(const torch::nn::Module& model) {
  int64_t total = 0;
  for (const auto& p : model.parameters()) total += p.numel();
  return total;
}

std::vector<torch::Tensor> penalised_weights(const torch::nn::Module& model) {
  std::vector<torch::Tensor> weights;
  for (const auto& p : model.parameters())
    if (p.dim() > 1) weights.push_back(p);
  return weights;
}

}  // namespace ablate
