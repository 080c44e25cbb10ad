// Augmentation as whole-batch tensor ops (gather and masks), on CPU or GPU alike.
#include "trainer/augment.hpp"

#include <cmath>

namespace ablate {

AugmentOptions augment_options(const TrainConfig& config, float background) {
  AugmentOptions options;
  options.shift = config.augment_shift;
  options.flip = config.augment_flip;
  options.erase = config.augment_erase;
  options.erase_max_area = config.augment_erase_max_area;
  options.fill = background;
  return options;
}

torch::Tensor shift_images(const torch::Tensor& images, const torch::Tensor& dy, const torch::Tensor& dx,
                           float fill) {
  const int64_t batch = images.size(0), channels = images.size(1), height = images.size(2),
                width = images.size(3);
  auto index_options = torch::TensorOptions().dtype(torch::kInt64).device(images.device());
  // Output pixel (y, x) reads source pixel (y - dy, x - dx); outside the image it is `fill`.
  auto rows = torch::arange(height, index_options).view({1, height, 1}) - dy.view({batch, 1, 1});
  auto cols = torch::arange(width, index_options).view({1, 1, width}) - dx.view({batch, 1, 1});
  auto inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width);
  auto source = (rows.clamp(0, height - 1) * width + cols.clamp(0, width - 1)).view({batch, 1, height * width});
  auto gathered = images.reshape({batch, channels, height * width})
                      .gather(2, source.expand({batch, channels, height * width}))
                      .view({batch, channels, height, width});
  return torch::where(inside.unsqueeze(1), gathered, torch::full({}, fill, images.options()));
}

torch::Tensor erase_rectangles(const torch::Tensor& images, const torch::Tensor& top, const torch::Tensor& left,
                               const torch::Tensor& height, const torch::Tensor& width,
                               const torch::Tensor& apply, float fill) {
  const int64_t batch = images.size(0), rows_n = images.size(2), cols_n = images.size(3);
  auto index_options = torch::TensorOptions().dtype(torch::kInt64).device(images.device());
  auto rows = torch::arange(rows_n, index_options).view({1, rows_n, 1});
  auto cols = torch::arange(cols_n, index_options).view({1, 1, cols_n});
  auto t = top.view({batch, 1, 1}), l = left.view({batch, 1, 1});
  auto mask = (rows >= t) & (rows < t + height.view({batch, 1, 1})) & (cols >= l) &
              (cols < l + width.view({batch, 1, 1})) & apply.view({batch, 1, 1});
  return images.masked_fill(mask.unsqueeze(1), fill);
}

torch::Tensor augment_batch(const torch::Tensor& images, const AugmentOptions& options,
                            torch::Generator& generator) {
  const int64_t batch = images.size(0), height = images.size(2), width = images.size(3);
  auto index_options = torch::TensorOptions().dtype(torch::kInt64).device(images.device());
  auto float_options = images.options();
  torch::Tensor out = images;

  if (options.shift > 0) {
    auto offsets = torch::randint(-options.shift, options.shift + 1, {2, batch}, generator, index_options);
    out = shift_images(out, offsets[0], offsets[1], options.fill);
  }
  if (options.flip) {
    auto flip = torch::rand({batch}, generator, float_options) < 0.5;
    out = torch::where(flip.view({batch, 1, 1, 1}), out.flip({3}), out);
  }
  if (options.erase > 0) {
    // Random erasing (Zhong et al.): area in [2%, max] of the image, aspect
    // ratio log-uniform in [0.3, 3.3], position uniform where it fits.
    auto draws = torch::rand({5, batch}, generator, float_options);
    auto apply = draws[0] < options.erase;
    const double area_low = 0.02, area_high = std::max(options.erase_max_area, area_low);
    auto area = (area_low + draws[1] * (area_high - area_low)) * static_cast<double>(height * width);
    auto aspect = torch::exp(std::log(0.3) + draws[2] * (std::log(3.3) - std::log(0.3)));
    auto h = torch::sqrt(area * aspect).round().clamp(1, height).to(torch::kInt64);
    auto w = torch::sqrt(area / aspect).round().clamp(1, width).to(torch::kInt64);
    auto top = (draws[3] * (height - h + 1).to(float_options.dtype())).floor().to(torch::kInt64);
    auto left = (draws[4] * (width - w + 1).to(float_options.dtype())).floor().to(torch::kInt64);
    out = erase_rectangles(out, top, left, h, w, apply, options.fill);
  }
  return out;
}

}  // namespace ablate
