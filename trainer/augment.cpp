// Augmentation as one gather per batch: every output pixel names the source pixel
// it copies (after shift and flip) or a fill slot (outside the image, erased).
// Built from per-row and per-column terms, so only a few full-size ops run.
#include "trainer/augment.hpp"

#include <cmath>

namespace ablate {
namespace {

torch::TensorOptions index_options(const torch::Tensor& like) {
  return torch::TensorOptions().dtype(torch::kInt64).device(like.device());
}

// Source index [B, H*W] of a shift by (dy, dx), optionally mirrored first:
// output (y, x) reads (y - dy, x' - dx) with x' = flip ? W-1-x : x; pixels that
// come from outside the image read slot H*W (the fill).
torch::Tensor shifted_source(const torch::Tensor& dy, const torch::Tensor& dx, const torch::Tensor& flip,
                             int64_t height, int64_t width) {
  const int64_t batch = dy.size(0), outside = height * width;
  auto options = index_options(dy);
  auto rows = torch::arange(height, options).view({1, height, 1}) - dy.view({batch, 1, 1});
  auto cols = torch::arange(width, options).view({1, 1, width});
  if (flip.defined()) cols = torch::where(flip.view({batch, 1, 1}), (width - 1) - cols, cols);
  cols = cols - dx.view({batch, 1, 1});
  // A row or column out of range pushes the sum past H*W; clamp maps it to the fill slot.
  auto row_term = torch::where((rows >= 0) & (rows < height), rows * width, torch::full({}, 2 * outside, options));
  auto col_term = torch::where((cols >= 0) & (cols < width), cols, torch::full({}, 2 * outside, options));
  return (row_term + col_term).clamp_max_(outside).view({batch, height * width});
}

// Points the pixels of one rectangle per applied image at the fill slot.
void erase_in_source(torch::Tensor& source, const torch::Tensor& top, const torch::Tensor& left,
                     const torch::Tensor& height, const torch::Tensor& width, const torch::Tensor& apply,
                     int64_t rows_n, int64_t cols_n) {
  const int64_t batch = source.size(0);
  auto options = index_options(source);
  auto rows = torch::arange(rows_n, options).view({1, rows_n, 1});
  auto cols = torch::arange(cols_n, options).view({1, 1, cols_n});
  auto t = top.view({batch, 1, 1}), l = left.view({batch, 1, 1});
  auto in_rows = (rows >= t) & (rows < t + height.view({batch, 1, 1})) & apply.view({batch, 1, 1});
  auto in_cols = (cols >= l) & (cols < l + width.view({batch, 1, 1}));
  source.masked_fill_((in_rows & in_cols).view({batch, rows_n * cols_n}), rows_n * cols_n);
}

// images [B, C, H, W] read through `source` [B, H*W]; slot H*W holds `fill`.
torch::Tensor gather_pixels(const torch::Tensor& images, const torch::Tensor& source, float fill) {
  const int64_t batch = images.size(0), channels = images.size(1), height = images.size(2),
                width = images.size(3), pixels = height * width;
  auto padded = torch::cat({images.reshape({batch, channels, pixels}),
                            torch::full({batch, channels, 1}, fill, images.options())},
                           2);
  return padded.gather(2, source.view({batch, 1, pixels}).expand({batch, channels, pixels}))
      .view({batch, channels, height, width});
}

torch::Tensor identity_source(int64_t batch, int64_t pixels, const torch::Tensor& like) {
  return torch::arange(pixels, index_options(like)).view({1, pixels}).repeat({batch, 1});
}

}  // namespace

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
  return gather_pixels(images, shifted_source(dy, dx, {}, images.size(2), images.size(3)), fill);
}

torch::Tensor erase_rectangles(const torch::Tensor& images, const torch::Tensor& top, const torch::Tensor& left,
                               const torch::Tensor& height, const torch::Tensor& width,
                               const torch::Tensor& apply, float fill) {
  auto source = identity_source(images.size(0), images.size(2) * images.size(3), images);
  erase_in_source(source, top, left, height, width, apply, images.size(2), images.size(3));
  return gather_pixels(images, source, fill);
}

torch::Tensor augment_batch(const torch::Tensor& images, const AugmentOptions& options,
                            torch::Generator& generator) {
  const int64_t batch = images.size(0), height = images.size(2), width = images.size(3);
  if (!options.any()) return images;
  auto float_options = images.options();

  // Shift and flip: where each output pixel comes from.
  torch::Tensor dy, dx, flip;
  if (options.shift > 0) {
    auto offsets = torch::randint(-options.shift, options.shift + 1, {2, batch}, generator, index_options(images));
    dy = offsets[0], dx = offsets[1];
  } else {
    dy = dx = torch::zeros({batch}, index_options(images));
  }
  if (options.flip) flip = torch::rand({batch}, generator, float_options) < 0.5;
  auto source = shifted_source(dy, dx, flip, height, width);

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
    erase_in_source(source, top, left, h, w, apply, height, width);
  }
  return gather_pixels(images, source, options.fill);
}

}  // namespace ablate
