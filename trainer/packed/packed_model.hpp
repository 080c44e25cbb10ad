// PackedModel: K models of one shape trained as one (horizontal fusion, as in
// HFTA). Every parameter and buffer is the stack of the members' own tensors
// ([K, ...] of the lone model's shape), so member k's slice is exactly its lone
// model; the layers run all members at once:
//   linear      one batched matmul over K weight stacks (baddbmm), features [K, B, F]
//   convolution one grouped convolution (K groups), images [B, K*C, H, W]: each
//               member's own batch stacked along channels
//   BatchNorm   per channel of the grouped tensor: per member statistics
//   dropout     a mask per member from the member's own generator and rate
// The members' lone models are built first (build_model, each after its own
// seed), so a member starts from the very weights it starts from alone.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace ablate {

class PackedModel {
 public:
  // `members`: the members' lone models (same structure, same shapes); the
  // packed model copies their weights. `dropout`: each member's rate, used
  // where the structure has a dropout layer (build the structure's template
  // with a non-zero rate when any member has one). `dropout_generators`: the
  // generator each member's masks come from. Everything is moved to `device`.
  PackedModel(const std::vector<torch::nn::Sequential>& members, const torch::nn::Sequential& structure,
              std::vector<double> dropout, std::vector<torch::Generator> dropout_generators,
              const torch::Device& device);

  // Logits [K, B, 10] of the members' batches: `images` is [K, B, 1, 28, 28],
  // member k's batch at [k].
  torch::Tensor forward(const torch::Tensor& images);

  void train(bool on = true) { training_ = on; }
  bool is_training() const { return training_; }
  int64_t members() const { return members_; }
  // Whether the model convolves images (a CNN, a ResNet), not flat features only.
  bool convolutional() const;

  // Stacks of the members' parameters / buffers, in the lone model's
  // parameters() / buffers() order: entry i is [K, *shape of the lone one's i].
  const std::vector<torch::Tensor>& parameters() const { return parameters_; }
  const std::vector<torch::Tensor>& buffers() const { return buffers_; }
  // Parameters that L1/L2 penalties apply to (the lone models' weights of more than one dimension).
  std::vector<torch::Tensor> penalised_weights() const;
  std::vector<torch::Generator>& dropout_generators() { return dropout_generators_; }

  // Member k's weights and buffers into / from a lone model of its shape.
  void copy_member_to(int64_t k, torch::nn::Module& lone) const;
  void copy_member_from(int64_t k, const torch::nn::Module& lone);

  // Keeps only the members `kept` (indices into the current members, in order):
  // the pack shrinks when members end. The parameters become new tensors: call
  // before making the optimizer's state anew (PackedOptimizer::keep_members).
  void keep_members(const std::vector<int64_t>& kept);

 private:
  enum class Kind { flatten, linear, batchnorm, conv, dropout, relu, residual, parameterless };
  struct Layer {
    Kind kind = Kind::parameterless;
    std::string prefix;  // the lone model's name of the layer ("3.", "4.conv1.")
    torch::nn::AnyModule parameterless;                     // activations and pooling
    torch::nn::functional::Conv2dFuncOptions conv_options;  // conv
    std::vector<Layer> inner;                               // residual: conv1 bn1 conv2 bn2 [shortcut conv, bn]
  };
  Layer describe(const std::string& prefix, const std::shared_ptr<torch::nn::Module>& module,
                 const torch::nn::AnyModule* any) const;
  torch::Tensor run(Layer& layer, const torch::Tensor& x);
  torch::Tensor& parameter(const std::string& name);
  torch::Tensor& buffer(const std::string& name);

  int64_t members_ = 0;
  bool training_ = true;
  std::vector<Layer> layers_;
  std::vector<std::string> parameter_names_, buffer_names_;
  std::vector<torch::Tensor> parameters_, buffers_;
  std::vector<double> dropout_;
  std::vector<torch::Generator> dropout_generators_;
};

}  // namespace ablate
