// LayerPlan's shape bookkeeping and parameter count.
#include "core/layer_plan.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace ablate {

void LayerPlan::require_image(const char* layer) const {
  if (side_ == 0) throw std::logic_error(fmt::format("layer plan: {} needs an image, but the plan is already flat", layer));
}

void LayerPlan::require_flat(const char* layer) const {
  if (side_ != 0) throw std::logic_error(fmt::format("layer plan: {} needs features: add flatten() first", layer));
}

LayerSpec& LayerPlan::add(LayerKind kind, int64_t out, int64_t side) {
  LayerSpec layer;
  layer.kind = kind;
  layer.in = width_;
  layer.out = out;
  layer.side = side;
  layers_.push_back(std::move(layer));
  width_ = out;
  side_ = side;
  return layers_.back();
}

LayerPlan& LayerPlan::conv3x3(int64_t out, int64_t stride, bool bias) {
  require_image("conv3x3");
  // Padding 1: floor((side + 2 - 3) / stride) + 1.
  LayerSpec& layer = add(LayerKind::conv3x3, out, (side_ - 1) / stride + 1);
  layer.stride = stride;
  layer.bias = bias;
  return *this;
}

LayerPlan& LayerPlan::batchnorm() {
  add(LayerKind::batchnorm, width_, side_);
  return *this;
}

LayerPlan& LayerPlan::activation(const std::string& name, double leaky_slope) {
  LayerSpec& layer = add(LayerKind::activation, width_, side_);
  layer.activation = name;
  layer.leaky_slope = leaky_slope;
  return *this;
}

LayerPlan& LayerPlan::max_pool2x2() {
  require_image("max_pool2x2");
  if (side_ < 2) throw std::logic_error(fmt::format("layer plan: max_pool2x2 on a {0}x{0} image", side_));
  add(LayerKind::max_pool2x2, width_, side_ / 2);
  return *this;
}

LayerPlan& LayerPlan::flatten() {
  require_image("flatten");
  add(LayerKind::flatten, width_ * side_ * side_, /*side=*/0);
  return *this;
}

LayerPlan& LayerPlan::linear(int64_t out) {
  require_flat("linear");
  add(LayerKind::linear, out, /*side=*/0);
  return *this;
}

LayerPlan& LayerPlan::dropout(double rate) {
  add(LayerKind::dropout, width_, side_).rate = rate;
  return *this;
}

LayerPlan& LayerPlan::residual_block(int64_t out, int64_t stride) {
  require_image("residual_block");
  add(LayerKind::residual_block, out, (side_ - 1) / stride + 1).stride = stride;
  return *this;
}

LayerPlan& LayerPlan::global_avg_pool() {
  require_image("global_avg_pool");
  add(LayerKind::global_avg_pool, width_, /*side=*/1);
  return *this;
}

int64_t count_plan_parameters(const LayerPlan& plan) {
  constexpr int64_t kKernel = 9;
  int64_t total = 0;
  for (const LayerSpec& layer : plan.layers()) {
    switch (layer.kind) {
      case LayerKind::conv3x3:
        total += kKernel * layer.in * layer.out + (layer.bias ? layer.out : 0);
        break;
      case LayerKind::batchnorm:  // scale and shift per channel or feature
        total += 2 * layer.out;
        break;
      case LayerKind::linear:
        total += layer.in * layer.out + layer.out;
        break;
      case LayerKind::residual_block:  // bias-free convolutions, each followed by BatchNorm
        total += kKernel * layer.in * layer.out + 2 * layer.out + kKernel * layer.out * layer.out + 2 * layer.out;
        if (layer.has_projection()) total += layer.in * layer.out + 2 * layer.out;
        break;
      case LayerKind::activation:
      case LayerKind::max_pool2x2:
      case LayerKind::flatten:
      case LayerKind::dropout:
      case LayerKind::global_avg_pool:
        break;
    }
  }
  return total;
}

}  // namespace ablate
