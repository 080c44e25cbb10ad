// Augmentation in two stages: a per-image plan (shift, flip, erased rectangle) made
// from one tensor of uniforms drawn on the device, then one pass that writes every
// output pixel. On the CPU both stages are plain loops: as whole-batch tensor ops
// (~20 small ops for the plan; index arithmetic, masked_fill and a gather over
// B x H x W int64 indices for the pixels) they cost ~2.5 us per image, more than a
// small MLP's training step; the loops cost ~0.2 us (bench/throughput/augment_bench).
#include "trainer/augment.hpp"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

namespace ablate {
namespace {

// Images per CPU task. The pass costs ~0.1 us per 28x28 image, so a training batch
// (128) is a few microseconds of work: less than waking a second OpenMP thread,
// and on a loaded machine a parallel region can wait far longer for a descheduled
// thread. Only much larger batches are split.
constexpr int64_t kImagesPerTask = 512;

// Rows of the uniforms drawn per batch ([kAugmentUniforms, B]), one per choice.
enum UniformRow : int64_t {
  kUniformShiftY, kUniformShiftX, kUniformFlip, kUniformErase, kUniformArea, kUniformAspect, kUniformTop, kUniformLeft
};
static_assert(kUniformLeft + 1 == kAugmentUniforms);

torch::TensorOptions index_options(const torch::Device& device) {
  return torch::TensorOptions().dtype(torch::kInt64).device(device);
}

// How the uniforms of one image become its plan. Shift: floor(u * (2s+1)) - s.
// Flip: u < 0.5. Random erasing (Zhong et al.): with probability `erase` a
// rectangle of area in [2%, max] of the image and aspect ratio log-uniform in
// [0.3, 3.3] (height = sqrt(area * aspect), width = sqrt(area / aspect), rounded,
// at least one pixel), placed uniformly where it fits; otherwise height and width 0.
// Both implementations below follow these steps in the same order in double.
struct PlanRule {
  PlanRule(const AugmentOptions& options, int64_t height, int64_t width)
      : shift(options.shift), flip(options.flip),
        erase(options.erase), area_span(std::max(options.erase_max_area, kAreaLow) - kAreaLow),
        pixels(static_cast<double>(height * width)), height(static_cast<double>(height)),
        width(static_cast<double>(width)) {}
  static constexpr double kAreaLow = 0.02;
  const double log_aspect_low = std::log(0.3), log_aspect_span = std::log(3.3) - std::log(0.3);
  int shift;
  bool flip;
  double erase, area_span, pixels, height, width;
};

// The CPU version: a loop over images (no tensor op per step to pay for).
torch::Tensor plan_on_host(const torch::Tensor& uniforms, const PlanRule& rule) {
  const int64_t batch = uniforms.size(1);
  auto u = uniforms.to(torch::kFloat64).contiguous();
  auto plan = torch::zeros({kAugmentPlanRows, batch}, torch::kInt64);
  const double* draw = u.data_ptr<double>();
  int64_t* out = plan.data_ptr<int64_t>();
  auto uniform = [&](int64_t row, int64_t b) { return draw[row * batch + b]; };
  auto set = [&](AugmentPlanRow row, int64_t b, double value) { out[row * batch + b] = static_cast<int64_t>(value); };
  for (int64_t b = 0; b < batch; ++b) {
    set(kShiftY, b, std::floor(uniform(kUniformShiftY, b) * (2 * rule.shift + 1)) - rule.shift);
    set(kShiftX, b, std::floor(uniform(kUniformShiftX, b) * (2 * rule.shift + 1)) - rule.shift);
    set(kFlip, b, rule.flip && uniform(kUniformFlip, b) < 0.5 ? 1 : 0);
    if (!(uniform(kUniformErase, b) < rule.erase)) continue;
    const double log_area = std::log((uniform(kUniformArea, b) * rule.area_span + PlanRule::kAreaLow) * rule.pixels);
    const double log_aspect = uniform(kUniformAspect, b) * rule.log_aspect_span + rule.log_aspect_low;
    const double height = std::clamp(std::nearbyint(std::exp((log_area + log_aspect) * 0.5)), 1.0, rule.height);
    const double width = std::clamp(std::nearbyint(std::exp((log_area - log_aspect) * 0.5)), 1.0, rule.width);
    set(kEraseTop, b, std::floor(uniform(kUniformTop, b) * (rule.height - height + 1)));
    set(kEraseLeft, b, std::floor(uniform(kUniformLeft, b) * (rule.width - width + 1)));
    set(kEraseHeight, b, height);
    set(kEraseWidth, b, width);
  }
  return plan;
}

// The device version: the same steps as whole-batch tensor ops, no host round trip.
torch::Tensor plan_by_tensor_ops(const torch::Tensor& uniforms, const PlanRule& rule) {
  auto u = uniforms.to(torch::kFloat64);
  auto shifts = (u.slice(0, kUniformShiftY, kUniformShiftX + 1) * (2 * rule.shift + 1)).floor_().sub_(rule.shift);
  auto flips = rule.flip ? (u.slice(0, kUniformFlip, kUniformFlip + 1) < 0.5).to(torch::kFloat64)
                         : torch::zeros_like(u.slice(0, kUniformFlip, kUniformFlip + 1));
  auto log_area = (u[kUniformArea] * rule.area_span + PlanRule::kAreaLow).mul_(rule.pixels).log_();
  auto log_aspect = u[kUniformAspect] * rule.log_aspect_span + rule.log_aspect_low;
  auto sides = torch::stack({log_area + log_aspect, log_area - log_aspect}).mul_(0.5).exp_().round_();
  sides[0].clamp_(1, rule.height);
  sides[1].clamp_(1, rule.width);
  auto room = sides.neg();  // positions where the rectangle fits: extent - side + 1
  room[0].add_(rule.height + 1);
  room[1].add_(rule.width + 1);
  auto corner = u.slice(0, kUniformTop, kUniformLeft + 1).mul(room).floor_();
  auto erased = u[kUniformErase] < rule.erase;
  return torch::cat({shifts, flips, corner.mul_(erased), sides.mul_(erased)}).to(torch::kInt64);
}

// Source index [B, H*W] of every output pixel into the image with a fill slot
// appended at H*W: shift and flip as index arithmetic on broadcast rows and
// columns, out-of-range and erased pixels pointed at the fill slot.
torch::Tensor source_index(const torch::Tensor& plan, int64_t height, int64_t width) {
  const int64_t batch = plan.size(1), outside = height * width;
  auto options = index_options(plan.device());
  auto per_image = [&](AugmentPlanRow row) { return plan[row].view({batch, 1, 1}); };
  auto out_rows = torch::arange(height, options).view({1, height, 1});
  auto out_cols = torch::arange(width, options).view({1, 1, width});
  auto rows = out_rows - per_image(kShiftY);
  // flip ? W-1-x : x, without a branch
  auto cols = out_cols + per_image(kFlip) * ((width - 1) - 2 * out_cols) - per_image(kShiftX);
  // A row or column out of range pushes the sum past H*W; clamp maps it to the fill slot.
  auto row_term = torch::where((rows >= 0) & (rows < height), rows * width, torch::full({}, 2 * outside, options));
  auto col_term = torch::where((cols >= 0) & (cols < width), cols, torch::full({}, 2 * outside, options));
  auto source = (row_term + col_term).clamp_max_(outside);
  auto top = per_image(kEraseTop), left = per_image(kEraseLeft);
  auto erased = (out_rows >= top) & (out_rows < top + per_image(kEraseHeight)) & (out_cols >= left) &
                (out_cols < left + per_image(kEraseWidth));
  return source.masked_fill_(erased, outside).view({batch, outside});
}

// The CPU pass: per output row, the in-range part is one contiguous (or, when
// flipped, reversed) run of a source row; the rest, and the erased rectangle, is fill.
template <typename Scalar>
void augment_on_cpu(const Scalar* in, Scalar* out, const int64_t* plan, int64_t batch, int64_t channels,
                    int64_t height, int64_t width, Scalar fill) {
  at::parallel_for(0, batch, kImagesPerTask, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      auto plan_of = [&](AugmentPlanRow row) { return plan[row * batch + b]; };
      const int64_t dy = plan_of(kShiftY), dx = plan_of(kShiftX);
      const bool flip = plan_of(kFlip) != 0;
      // Output columns [x_begin, x_end) read source column (flip ? W-1-x : x) - dx inside the image.
      const int64_t x_begin = std::clamp<int64_t>(flip ? -dx : dx, 0, width);
      const int64_t x_end = std::clamp<int64_t>(flip ? width - dx : width + dx, x_begin, width);
      const int64_t erase_top = std::clamp<int64_t>(plan_of(kEraseTop), 0, height);
      const int64_t erase_bottom = std::clamp<int64_t>(erase_top + plan_of(kEraseHeight), erase_top, height);
      const int64_t erase_left = std::clamp<int64_t>(plan_of(kEraseLeft), 0, width);
      const int64_t erase_right = std::clamp<int64_t>(erase_left + plan_of(kEraseWidth), erase_left, width);
      for (int64_t c = 0; c < channels; ++c) {
        const Scalar* image = in + (b * channels + c) * height * width;
        Scalar* result = out + (b * channels + c) * height * width;
        for (int64_t y = 0; y < height; ++y) {
          Scalar* row = result + y * width;
          const int64_t source_y = y - dy;
          if (source_y < 0 || source_y >= height) {
            std::fill(row, row + width, fill);
            continue;
          }
          const Scalar* source = image + source_y * width;
          // Plain loops, not std::copy: rows of ~28 values are too short for memmove's call.
          for (int64_t x = 0; x < x_begin; ++x) row[x] = fill;
          if (flip) {
            const Scalar* mirrored = source + (width - 1 - dx);
            for (int64_t x = x_begin; x < x_end; ++x) row[x] = mirrored[-x];
          } else {
            const Scalar* shifted = source - dx;
            for (int64_t x = x_begin; x < x_end; ++x) row[x] = shifted[x];
          }
          for (int64_t x = x_end; x < width; ++x) row[x] = fill;
        }
        for (int64_t y = erase_top; y < erase_bottom; ++y)
          std::fill(result + y * width + erase_left, result + y * width + erase_right, fill);
      }
    }
  });
}

void check_uniforms(const torch::Tensor& uniforms) {
  TORCH_CHECK(uniforms.dim() == 2 && uniforms.size(0) == kAugmentUniforms && uniforms.is_floating_point(),
              "augmentation uniforms must be floating point [", kAugmentUniforms, ", B], got ",
              uniforms.scalar_type(), " ", uniforms.sizes());
}

void check_plan(const torch::Tensor& images, const torch::Tensor& plan) {
  TORCH_CHECK(images.dim() == 4, "augmentation takes a batch [B, C, H, W], got ", images.sizes());
  TORCH_CHECK(plan.dim() == 2 && plan.size(0) == kAugmentPlanRows && plan.size(1) == images.size(0) &&
                  plan.scalar_type() == torch::kInt64,
              "augmentation plan must be int64 [", kAugmentPlanRows, ", ", images.size(0), "], got ",
              plan.scalar_type(), " ", plan.sizes());
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

torch::Tensor draw_augmentation(int64_t batch, int64_t height, int64_t width, const AugmentOptions& options,
                                torch::Generator& generator, const torch::Device& device) {
  auto uniforms =
      torch::rand({kAugmentUniforms, batch}, generator, torch::TensorOptions().dtype(torch::kFloat32).device(device));
  return plan_from_uniforms(uniforms, height, width, options);
}

torch::Tensor plan_from_uniforms(const torch::Tensor& uniforms, int64_t height, int64_t width,
                                 const AugmentOptions& options) {
  check_uniforms(uniforms);
  if (uniforms.device().is_cpu()) return plan_on_host(uniforms, PlanRule(options, height, width));
  return plan_from_uniforms_by_tensor_ops(uniforms, height, width, options);
}

torch::Tensor plan_from_uniforms_by_tensor_ops(const torch::Tensor& uniforms, int64_t height, int64_t width,
                                               const AugmentOptions& options) {
  check_uniforms(uniforms);
  return plan_by_tensor_ops(uniforms, PlanRule(options, height, width));
}

torch::Tensor apply_augmentation_by_gather(const torch::Tensor& images, const torch::Tensor& plan, float fill) {
  check_plan(images, plan);
  const int64_t batch = images.size(0), channels = images.size(1), height = images.size(2),
                width = images.size(3), pixels = height * width;
  auto source = source_index(plan.to(images.device()), height, width);
  auto padded = torch::cat({images.reshape({batch, channels, pixels}),
                            torch::full({batch, channels, 1}, fill, images.options())},
                           2);
  return padded.gather(2, source.view({batch, 1, pixels}).expand({batch, channels, pixels}))
      .view({batch, channels, height, width});
}

torch::Tensor apply_augmentation(const torch::Tensor& images, const torch::Tensor& plan, float fill) {
  if (!images.device().is_cpu() || !images.is_floating_point()) return apply_augmentation_by_gather(images, plan, fill);
  check_plan(images, plan);
  auto input = images.contiguous();
  auto host_plan = plan.to(torch::kCPU).contiguous();
  auto output = torch::empty_like(input, torch::MemoryFormat::Contiguous);
  AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "augment_on_cpu", [&] {
    augment_on_cpu<scalar_t>(input.data_ptr<scalar_t>(), output.data_ptr<scalar_t>(), host_plan.data_ptr<int64_t>(),
                             input.size(0), input.size(1), input.size(2), input.size(3),
                             static_cast<scalar_t>(fill));
  });
  return output;
}

torch::Tensor augment_batch(const torch::Tensor& images, const AugmentOptions& options,
                            torch::Generator& generator) {
  if (!options.any()) return images;
  auto plan = draw_augmentation(images.size(0), images.size(2), images.size(3), options, generator, images.device());
  return apply_augmentation(images, plan, options.fill);
}

torch::Tensor shift_images(const torch::Tensor& images, const torch::Tensor& dy, const torch::Tensor& dx,
                           float fill) {
  auto plan = torch::zeros({kAugmentPlanRows, images.size(0)}, index_options(images.device()));
  plan[kShiftY].copy_(dy);
  plan[kShiftX].copy_(dx);
  return apply_augmentation(images, plan, fill);
}

}  // namespace ablate
