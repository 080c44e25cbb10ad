// Torch modules from a model family's layer plan (core/families/), and their initialisation.
#include "trainer/models.hpp"

#include <fmt/format.h>

#include "core/families/families.hpp"

namespace ablate {
namespace {

torch::nn::AnyModule activation(const LayerSpec& layer) {
  const std::string& name = layer.activation;
  if (name == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (name == "leaky_relu")
    return torch::nn::AnyModule(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(layer.leaky_slope)));
  if (name == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  if (name == "sigmoid") return torch::nn::AnyModule(torch::nn::Sigmoid());
  throw ConfigError("activation", fmt::format("unknown activation '{}'", name));
}

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride = 1, bool bias = true) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(bias));
}

// One module per layer of the plan, made in the plan's order: each module's
// constructor draws its initial weights from Torch's global generator, so the
// order of the layers is the order of the draws.
void append_layer(torch::nn::Sequential& net, const LayerSpec& layer) {
  switch (layer.kind) {
    case LayerKind::conv3x3:
      net->push_back(conv3x3(layer.in, layer.out, layer.stride, layer.bias));
      return;
    case LayerKind::batchnorm:
      if (layer.side == 0)
        net->push_back(torch::nn::BatchNorm1d(layer.out));
      else
        net->push_back(torch::nn::BatchNorm2d(layer.out));
      return;
    case LayerKind::activation:
      net->push_back(activation(layer));
      return;
    case LayerKind::max_pool2x2:
      net->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
      return;
    case LayerKind::flatten:
      net->push_back(torch::nn::Flatten());
      return;
    case LayerKind::linear:
      net->push_back(torch::nn::Linear(layer.in, layer.out));
      return;
    case LayerKind::dropout:
      net->push_back(torch::nn::Dropout(layer.rate));
      return;
    case LayerKind::residual_block:
      net->push_back(ResidualBlock(layer.in, layer.out, layer.stride));
      return;
    case LayerKind::global_avg_pool:
      net->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)));
      return;
  }
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
  const LayerPlan plan = model_plan(config);
  torch::nn::Sequential model;
  for (const LayerSpec& layer : plan.layers()) append_layer(model, layer);
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
