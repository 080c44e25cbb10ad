// LayerPlan: a model as a torch-free list of layers. A model family turns a
// config into one (core/families/); the trainer builds torch modules from it
// (trainer/models.cpp) and sweeps/ estimates its cost from it (sweeps/cost.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ablate {

// Every plan reads one 28x28 grey image and must end in kNumClasses logits.
constexpr int64_t kPlanImageSide = 28;

enum class LayerKind {
  conv3x3,          // 3x3 convolution, padding 1
  batchnorm,        // BatchNorm2d on images, BatchNorm1d once flat
  activation,       // relu | tanh | leaky_relu | gelu | sigmoid
  max_pool2x2,      // 2x2 max-pool, stride 2 (an odd side rounds down)
  flatten,          // images [C, S, S] -> features [C*S*S]
  linear,           // fully connected, with bias
  dropout,
  residual_block,   // trainer/models.hpp's ResidualBlock: two 3x3 convs + BatchNorm, shortcut
  global_avg_pool,  // mean over each channel's image: side 1
};

// One layer with the shape it sees. `in`/`out` are channels for image layers
// and features once flat; `side` is the side of the layer's output image (0
// once flat).
struct LayerSpec {
  LayerKind kind = LayerKind::linear;
  int64_t in = 0, out = 0;
  int64_t side = 0;
  int64_t stride = 1;        // conv3x3, residual_block
  bool bias = true;          // conv3x3
  std::string activation;    // activation
  double leaky_slope = 0;    // activation == leaky_relu
  double rate = 0;           // dropout

  // A residual block whose shape changes adds its input through a strided
  // 1x1 convolution and BatchNorm.
  bool has_projection() const { return kind == LayerKind::residual_block && (stride != 1 || in != out); }
};

// Builds a plan layer by layer, keeping track of the shape; a layer that does
// not fit the shape (a convolution after flatten, a linear layer before it)
// throws std::logic_error: a bug in the family, not in the config.
class LayerPlan {
 public:
  LayerPlan& conv3x3(int64_t out, int64_t stride = 1, bool bias = true);
  LayerPlan& batchnorm();
  LayerPlan& activation(const std::string& name, double leaky_slope = 0);
  LayerPlan& max_pool2x2();
  LayerPlan& flatten();
  LayerPlan& linear(int64_t out);
  LayerPlan& dropout(double rate);
  LayerPlan& residual_block(int64_t out, int64_t stride);
  LayerPlan& global_avg_pool();

  const std::vector<LayerSpec>& layers() const { return layers_; }
  // Channels (images) or features (flat) of the current output.
  int64_t width() const { return width_; }
  // Side of the current output image; 0 once flat.
  int64_t side() const { return side_; }

 private:
  void require_image(const char* layer) const;
  void require_flat(const char* layer) const;
  // Appends a layer reading the current output and making `out` wide at `side`.
  LayerSpec& add(LayerKind kind, int64_t out, int64_t side);
  std::vector<LayerSpec> layers_;
  int64_t width_ = 1;
  int64_t side_ = kPlanImageSide;
};

// Trainable parameters, exactly as the torch modules built from the plan count them.
int64_t count_plan_parameters(const LayerPlan& plan);

}  // namespace ablate
