// The packed model: the lone model's layers, each run for K members at once.
#include "trainer/packed/packed_model.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "core/config.hpp"
#include "trainer/models.hpp"

namespace ablate {
namespace {

namespace F = torch::nn::functional;

// Images [B, K*C, H, W] -> features [K, B, C*H*W], each member's rows in the
// lone model's flatten order (channel, row, column).
torch::Tensor images_to_features(const torch::Tensor& x, int64_t members) {
  return x.reshape({x.size(0), members, -1}).transpose(0, 1);
}

// ReLU over a layer's fresh output, in place: the lone model's values without
// a second tensor of K members' activations to allocate and fault in. Every
// layer before one (linear, convolution, BatchNorm, pooling, a sum) leaves its
// output out of its own backward pass, so autograd loses nothing (and would
// stop with an error, not a wrong gradient, if it did).
torch::Tensor relu_in_place(torch::Tensor x) { return x.relu_(); }

// A linear layer's weight stack [K, out, in] (the only parameters of three
// dimensions) is kept in the memory order of its transpose [K, in, out]: the
// batched matmul's weight gradient arrives in that order, and autograd keeps a
// gradient laid out as its parameter is without copying it. A contiguous stack
// cost a copy of every weight gradient at every step (11% of a packed 2x256 MLP's time).
torch::Tensor laid_out_as_its_gradient(const torch::Tensor& stack) {
  if (stack.dim() != 3) return stack;
  return stack.transpose(1, 2).contiguous().transpose(1, 2);
}

}  // namespace

PackedModel::PackedModel(const std::vector<torch::nn::Sequential>& members, const torch::nn::Sequential& structure,
                         std::vector<double> dropout, std::vector<torch::Generator> dropout_generators,
                         const torch::Device& device)
    : members_(static_cast<int64_t>(members.size())),
      dropout_(std::move(dropout)),
      dropout_generators_(std::move(dropout_generators)) {
  if (members.empty()) throw std::invalid_argument("a pack needs at least one member");
  if (dropout_.size() != members.size() || dropout_generators_.size() != members.size())
    throw std::invalid_argument("a pack needs one dropout rate and one generator per member");
  size_t index = 0;
  for (const auto& any : *structure) {
    layers_.push_back(describe(fmt::format("{}.", index), structure->ptr(index), &any));
    ++index;
  }

  // Stacks of the members' tensors, by position: the members' parameters()
  // and buffers() orders are the structure's (a dropout layer, present in some
  // members only, has none; it moves the layer names, not the order).
  torch::NoGradGuard no_grad;
  for (const auto& named : structure->named_parameters()) parameter_names_.push_back(named.key());
  for (const auto& named : structure->named_buffers()) buffer_names_.push_back(named.key());
  auto stack = [&](size_t count, bool of_parameters) {
    std::vector<std::vector<torch::Tensor>> slices(count);
    for (const auto& member : members) {
      const auto tensors = of_parameters ? member->parameters() : member->buffers();
      if (tensors.size() != count)
        throw std::invalid_argument("pack members differ in their layers: the shapes differ");
      for (size_t i = 0; i < count; ++i) slices[i].push_back(tensors[i].detach().to(device).contiguous());
    }
    std::vector<torch::Tensor> stacks;
    for (auto& of_tensor : slices) {
      auto stacked = torch::stack(of_tensor);
      if (of_parameters) stacked = laid_out_as_its_gradient(stacked).requires_grad_(true);
      stacks.push_back(stacked);
    }
    return stacks;
  };
  parameters_ = stack(parameter_names_.size(), true);
  buffers_ = stack(buffer_names_.size(), false);
}

PackedModel::Layer PackedModel::describe(const std::string& prefix, const std::shared_ptr<torch::nn::Module>& module,
                                         const torch::nn::AnyModule* any) const {
  Layer layer;
  layer.prefix = prefix;
  if (module->as<torch::nn::Flatten>()) {
    layer.kind = Kind::flatten;
  } else if (module->as<torch::nn::Linear>()) {
    layer.kind = Kind::linear;
  } else if (module->as<torch::nn::BatchNorm1d>() || module->as<torch::nn::BatchNorm2d>()) {
    layer.kind = Kind::batchnorm;
  } else if (auto* conv = module->as<torch::nn::Conv2d>()) {
    layer.kind = Kind::conv;
    const auto& options = conv->options;
    const auto padding = std::get<torch::ExpandingArray<2>>(options.padding());
    layer.conv_options = F::Conv2dFuncOptions().stride(options.stride()).padding(padding).groups(members_);
  } else if (module->as<torch::nn::Dropout>()) {
    layer.kind = Kind::dropout;
  } else if (module->as<torch::nn::ReLU>()) {
    layer.kind = Kind::relu;
  } else if (auto* block = module->as<ResidualBlock>()) {
    layer.kind = Kind::residual;
    layer.inner.push_back(describe(prefix + "conv1.", block->conv1.ptr(), nullptr));
    layer.inner.push_back(describe(prefix + "bn1.", block->bn1.ptr(), nullptr));
    layer.inner.push_back(describe(prefix + "conv2.", block->conv2.ptr(), nullptr));
    layer.inner.push_back(describe(prefix + "bn2.", block->bn2.ptr(), nullptr));
    if (block->shortcut) {
      layer.inner.push_back(describe(prefix + "shortcut.0.", block->shortcut->ptr(0), nullptr));
      layer.inner.push_back(describe(prefix + "shortcut.1.", block->shortcut->ptr(1), nullptr));
    }
  } else if (any && module->parameters().empty() && module->buffers().empty()) {
    // Activations and pooling act per element or per channel: the same for K members.
    layer.kind = Kind::parameterless;
    layer.parameterless = *any;
  } else {
    throw ConfigError("model", fmt::format("the packed model has no packed form of layer {} ({}); train with --pack 1",
                                           prefix, module->name()));
  }
  return layer;
}

bool PackedModel::convolutional() const {
  for (const auto& layer : layers_)
    if (layer.kind == Kind::conv || layer.kind == Kind::residual) return true;
  return false;
}

torch::Tensor& PackedModel::parameter(const std::string& name) {
  for (size_t i = 0; i < parameter_names_.size(); ++i)
    if (parameter_names_[i] == name) return parameters_[i];
  throw std::logic_error("packed model: no parameter " + name);
}

torch::Tensor& PackedModel::buffer(const std::string& name) {
  for (size_t i = 0; i < buffer_names_.size(); ++i)
    if (buffer_names_[i] == name) return buffers_[i];
  throw std::logic_error("packed model: no buffer " + name);
}

torch::Tensor PackedModel::forward(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 5 && images.size(0) == members_, "packed input must be [", members_,
              ", B, C, H, W], got ", images.sizes());
  torch::Tensor x;
  if (!layers_.empty() && layers_.front().kind == Kind::flatten) {
    x = images.reshape({members_, images.size(1), -1});  // features [K, B, F]
  } else {
    // Images [B, K*C, H, W]: member k's channels at [k*C, (k+1)*C).
    x = images.transpose(0, 1).reshape({images.size(1), -1, images.size(3), images.size(4)}).contiguous();
  }
  bool made_by_a_layer = false;  // a ReLU in place never writes the caller's images
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].kind == Kind::flatten) {
      if (i > 0) x = images_to_features(x, members_);
      continue;
    }
    x = layers_[i].kind == Kind::relu && !made_by_a_layer ? torch::relu(x) : run(layers_[i], x);
    made_by_a_layer = true;
  }
  return x;
}

torch::Tensor PackedModel::run(Layer& layer, const torch::Tensor& x) {
  switch (layer.kind) {
    case Kind::linear: {  // x [K, B, in], weight [K, out, in], bias [K, out]
      const auto& weight = parameter(layer.prefix + "weight");
      const auto& bias = parameter(layer.prefix + "bias");
      return torch::baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2));
    }
    case Kind::batchnorm: {
      // Lone BatchNorm's defaults (momentum 0.1, eps 1e-5), per channel of the
      // packed tensor: member k's channel c is packed channel k*C + c.
      auto& running_mean = buffer(layer.prefix + "running_mean");
      auto& running_var = buffer(layer.prefix + "running_var");
      auto& batches = buffer(layer.prefix + "num_batches_tracked");
      const auto& weight = parameter(layer.prefix + "weight");
      const auto& bias = parameter(layer.prefix + "bias");
      if (training_) {
        torch::NoGradGuard no_grad;
        batches.add_(1);
      }
      auto options = F::BatchNormFuncOptions()
                         .weight(weight.reshape({-1}))
                         .bias(bias.reshape({-1}))
                         .training(training_)
                         .momentum(0.1)
                         .eps(1e-5);
      if (x.dim() == 3) {  // features [K, B, F] -> [B, K*F] and back
        const int64_t batch = x.size(1), features = x.size(2);
        auto flat = x.transpose(0, 1).reshape({batch, members_ * features});
        auto y = F::batch_norm(flat, running_mean.view({-1}), running_var.view({-1}), options);
        return y.view({batch, members_, features}).transpose(0, 1);
      }
      return F::batch_norm(x, running_mean.view({-1}), running_var.view({-1}), options);
    }
    case Kind::conv: {  // x [B, K*in, H, W], weight [K, out, in, kh, kw]
      const auto& weight = parameter(layer.prefix + "weight");
      auto options = layer.conv_options;
      const std::string bias_name = layer.prefix + "bias";
      for (size_t i = 0; i < parameter_names_.size(); ++i)
        if (parameter_names_[i] == bias_name) options = options.bias(parameters_[i].reshape({-1}));
      auto grouped = weight.reshape({-1, weight.size(2), weight.size(3), weight.size(4)});
      return F::conv2d(x, grouped, options);
    }
    case Kind::dropout: {  // features [K, B, F]: a mask per member, as lone dropout draws it
      if (!training_) return x;
      auto masks = torch::empty({members_, x.size(1), x.size(2)}, x.options());
      for (int64_t k = 0; k < members_; ++k) {
        const double rate = dropout_[static_cast<size_t>(k)];
        // Member k's mask is a contiguous [B, F], as lone dropout's
        // empty_like(input): the draws land where they land alone.
        auto mask = masks[k];
        if (rate <= 0) {
          mask.fill_(1);
          continue;
        }
        mask.bernoulli_(1 - rate, dropout_generators_[static_cast<size_t>(k)]).div_(1 - rate);
      }
      return x * masks;
    }
    case Kind::relu:
      return relu_in_place(x);
    case Kind::residual: {
      auto y = relu_in_place(run(layer.inner[1], run(layer.inner[0], x)));
      y = run(layer.inner[3], run(layer.inner[2], y));
      auto shortcut = layer.inner.size() > 4 ? run(layer.inner[5], run(layer.inner[4], x)) : x;
      return relu_in_place(y + shortcut);
    }
    case Kind::parameterless:
      return layer.parameterless.forward(x);
    case Kind::flatten:
      break;
  }
  throw std::logic_error("packed model: unexpected layer " + layer.prefix);
}

std::vector<torch::Tensor> PackedModel::penalised_weights() const {
  std::vector<torch::Tensor> weights;
  for (const auto& p : parameters_)
    if (p.dim() > 2) weights.push_back(p);  // lone dim > 1
  return weights;
}

void PackedModel::copy_member_to(int64_t k, torch::nn::Module& lone) const {
  torch::NoGradGuard no_grad;
  auto parameters = lone.parameters();
  for (size_t i = 0; i < parameters_.size(); ++i) parameters[i].copy_(parameters_[i][k]);
  auto buffers = lone.buffers();
  for (size_t i = 0; i < buffers_.size(); ++i) buffers[i].copy_(buffers_[i][k]);
}

void PackedModel::copy_member_from(int64_t k, const torch::nn::Module& lone) {
  torch::NoGradGuard no_grad;
  const auto parameters = lone.parameters();
  for (size_t i = 0; i < parameters_.size(); ++i) parameters_[i][k].copy_(parameters[i]);
  const auto buffers = lone.buffers();
  for (size_t i = 0; i < buffers_.size(); ++i) buffers_[i][k].copy_(buffers[i]);
}

void PackedModel::keep_members(const std::vector<int64_t>& kept) {
  torch::NoGradGuard no_grad;
  const auto index = torch::tensor(kept, torch::kInt64).to(parameters_.empty() ? torch::kCPU : parameters_[0].device());
  for (auto& p : parameters_) p = laid_out_as_its_gradient(p.index_select(0, index)).requires_grad_(true);
  for (auto& b : buffers_) b = b.index_select(0, index);
  std::vector<double> dropout;
  std::vector<torch::Generator> generators;
  for (int64_t k : kept) {
    dropout.push_back(dropout_[static_cast<size_t>(k)]);
    generators.push_back(dropout_generators_[static_cast<size_t>(k)]);
  }
  dropout_ = std::move(dropout);
  dropout_generators_ = std::move(generators);
  members_ = static_cast<int64_t>(kept.size());
  for (auto& layer : layers_)
    if (layer.kind == Kind::conv) layer.conv_options = layer.conv_options.groups(members_);
    else if (layer.kind == Kind::residual)
      for (auto& inner : layer.inner)
        if (inner.kind == Kind::conv) inner.conv_options = inner.conv_options.groups(members_);
}

}  // namespace ablate
