// Tests of trainer/augment: shift, flip and erasing move exactly the pixels they should.
#include "tests/trainer/torch_catch.hpp"

#include "trainer/augment.hpp"
#include "trainer/device.hpp"

namespace {
torch::Tensor ramp(int64_t batch) {
  // Pixel (b, y, x) = 1000 b + 28 y + x + 1: every pixel distinct and non-zero.
  return (torch::arange(batch * 784, torch::kFloat32) % 784 + 1 +
          1000 * (torch::arange(batch * 784, torch::kFloat32) / 784).floor())
      .view({batch, 1, 28, 28});
}
}  // namespace

TEST_CASE("shift moves pixels by (dy, dx) and fills what came from outside", "[augment]") {
  auto images = ramp(2);
  auto dy = torch::tensor({2, 0}, torch::kInt64), dx = torch::tensor({-3, 0}, torch::kInt64);
  auto out = ablate::shift_images(images, dy, dx, /*fill=*/-7.0f);
  CHECK(out.sizes() == images.sizes());
  // Image 0: out(y, x) = in(y - 2, x + 3).
  CHECK(out[0][0][5][4].item<float>() == images[0][0][3][7].item<float>());
  CHECK(out[0][0][1][4].item<float>() == -7.0f);   // came from row -1
  CHECK(out[0][0][10][26].item<float>() == -7.0f);  // came from column 29
  CHECK(out[0].eq(-7.0f).sum().item<int64_t>() == 28 * 28 - 26 * 25);
  // Image 1: zero shift is the identity.
  CHECK(torch::equal(out[1], images[1]));
}

TEST_CASE("flip mirrors exactly the chosen images", "[augment]") {
  auto images = ramp(64);
  ablate::AugmentOptions options;
  options.flip = true;
  auto generator = ablate::make_generator(torch::kCPU, 3);
  auto out = ablate::augment_batch(images, options, generator);
  int flipped = 0;
  for (int64_t b = 0; b < 64; ++b) {
    const bool same = torch::equal(out[b], images[b]);
    const bool mirrored = torch::equal(out[b], images[b].flip({2}));
    CHECK(same != mirrored);
    flipped += mirrored;
  }
  CHECK(flipped > 16);  // p = 0.5 over 64 images: far from 0 or 64
  CHECK(flipped < 48);
}

TEST_CASE("erasing fills one rectangle within the area bounds", "[augment]") {
  auto images = ramp(200);
  ablate::AugmentOptions options;
  options.erase = 1.0;
  options.erase_max_area = 0.25;
  options.fill = 0.0f;
  auto generator = ablate::make_generator(torch::kCPU, 5);
  auto out = ablate::augment_batch(images, options, generator);
  for (int64_t b = 0; b < 200; ++b) {
    auto erased = out[b][0].eq(0.0f);
    const int64_t area = erased.sum().item<int64_t>();
    // Area in [2%, 25%] of 784 pixels, up to rounding of the sides and clipping at the border.
    CHECK(area >= 4);
    CHECK(area <= 0.25 * 784 * 1.35 + 28);
    // One rectangle: the erased pixels fill their bounding box.
    auto rows = erased.any(1).nonzero(), cols = erased.any(0).nonzero();
    const int64_t box = rows.size(0) * cols.size(0);
    CHECK(box == area);
    // Pixels outside it are untouched.
    CHECK(torch::equal(out[b][0].masked_select(~erased), images[b][0].masked_select(~erased)));
  }
}

TEST_CASE("augmentation is a function of the generator's seed", "[augment]") {
  auto images = ramp(32);
  ablate::AugmentOptions options;
  options.shift = 2;
  options.flip = true;
  options.erase = 0.5;
  auto g1 = ablate::make_generator(torch::kCPU, 11), g2 = ablate::make_generator(torch::kCPU, 11);
  auto g3 = ablate::make_generator(torch::kCPU, 12);
  auto a = ablate::augment_batch(images, options, g1);
  auto b = ablate::augment_batch(images, options, g2);
  auto c = ablate::augment_batch(images, options, g3);
  CHECK(torch::equal(a, b));
  CHECK(!torch::equal(a, c));
  CHECK(a.sizes() == images.sizes());
}

namespace {
// Reference of one image's augmentation from independent ops: shift by padding
// with `fill` and cropping, then mirror, then erase by slicing.
torch::Tensor reference(const torch::Tensor& image, int64_t dy, int64_t dx, bool flip, int64_t top, int64_t left,
                        int64_t height, int64_t width, float fill, int64_t pad) {
  const int64_t side_y = image.size(1), side_x = image.size(2);
  auto padded = torch::constant_pad_nd(image, {pad, pad, pad, pad}, fill);
  auto out = padded.slice(1, pad - dy, pad - dy + side_y).slice(2, pad - dx, pad - dx + side_x).clone();
  if (flip) out = out.flip({2});
  out.slice(1, top, top + height).slice(2, left, left + width).fill_(fill);
  return out;
}
}  // namespace

TEST_CASE("every shift and flip, with and without erasing, matches padding and cropping", "[augment]") {
  // One image per (dy, dx, flip) with |dy|, |dx| <= 3; every other image also erased.
  constexpr int64_t kShift = 3, kSide = 2 * kShift + 1, kBatch = kSide * kSide * 2;
  auto images = ramp(kBatch).repeat({1, 2, 1, 1});  // two channels: the pass must handle C > 1
  images.select(1, 1).neg_();
  auto plan = torch::zeros({ablate::kAugmentPlanRows, kBatch}, torch::kInt64);
  for (int64_t b = 0; b < kBatch; ++b) {
    plan[ablate::kShiftY][b] = b % kSide - kShift;
    plan[ablate::kShiftX][b] = (b / kSide) % kSide - kShift;
    plan[ablate::kFlip][b] = b / (kSide * kSide);
    if (b % 2) {
      plan[ablate::kEraseTop][b] = b % 20, plan[ablate::kEraseLeft][b] = (3 * b) % 17;
      plan[ablate::kEraseHeight][b] = 1 + b % 8, plan[ablate::kEraseWidth][b] = 1 + (5 * b) % 11;
    }
  }
  const float fill = -0.5f;
  auto fast = ablate::apply_augmentation(images, plan, fill);
  auto gathered = ablate::apply_augmentation_by_gather(images, plan, fill);
  REQUIRE(fast.sizes() == images.sizes());
  CHECK(torch::equal(fast, gathered));
  for (int64_t b = 0; b < kBatch; ++b) {
    auto p = [&](ablate::AugmentPlanRow row) { return plan[row][b].item<int64_t>(); };
    auto expected = reference(images[b], p(ablate::kShiftY), p(ablate::kShiftX), p(ablate::kFlip) != 0,
                              p(ablate::kEraseTop), p(ablate::kEraseLeft), p(ablate::kEraseHeight),
                              p(ablate::kEraseWidth), fill, kShift);
    INFO("image " << b << " dy " << p(ablate::kShiftY) << " dx " << p(ablate::kShiftX) << " flip " << p(ablate::kFlip));
    CHECK(torch::equal(fast[b], expected));
  }
}

TEST_CASE("the CPU pass equals the gather on drawn plans, at any thread count", "[augment]") {
  ablate::AugmentOptions options;
  options.shift = 4;
  options.flip = true;
  options.erase = 0.7;
  options.erase_max_area = 0.4;
  auto generator = ablate::make_generator(torch::kCPU, 21);
  auto images = ramp(300);
  auto plan = ablate::draw_augmentation(300, 28, 28, options, generator, torch::kCPU);
  auto gathered = ablate::apply_augmentation_by_gather(images, plan, 3.0f);
  const int threads = torch::get_num_threads();
  for (int n : {1, 2, 3}) {
    torch::set_num_threads(n);
    CHECK(torch::equal(ablate::apply_augmentation(images, plan, 3.0f), gathered));
  }
  torch::set_num_threads(threads);
  CHECK(torch::equal(ablate::apply_augmentation(images.to(torch::kFloat64), plan, 3.0f),
                     gathered.to(torch::kFloat64)));
}

TEST_CASE("drawn plans stay within their ranges and hit every choice", "[augment]") {
  ablate::AugmentOptions options;
  options.shift = 2;
  options.flip = true;
  options.erase = 0.5;
  options.erase_max_area = 0.25;
  auto generator = ablate::make_generator(torch::kCPU, 8);
  constexpr int64_t kBatch = 4000;
  auto plan = ablate::draw_augmentation(kBatch, 28, 28, options, generator, torch::kCPU);
  REQUIRE(plan.sizes() == torch::IntArrayRef({ablate::kAugmentPlanRows, kBatch}));
  for (auto row : {ablate::kShiftY, ablate::kShiftX}) {
    CHECK(plan[row].min().item<int64_t>() == -2);
    CHECK(plan[row].max().item<int64_t>() == 2);
    CHECK(torch::bincount(plan[row] + 2).gt(0).all().item<bool>());  // every offset occurs
  }
  const double flipped = plan[ablate::kFlip].to(torch::kFloat64).mean().item<double>();
  CHECK(plan[ablate::kFlip].min().item<int64_t>() == 0);
  CHECK(plan[ablate::kFlip].max().item<int64_t>() == 1);
  CHECK(flipped > 0.45);  // 4000 draws of p = 0.5: the standard deviation is 0.008
  CHECK(flipped < 0.55);
  auto height = plan[ablate::kEraseHeight], width = plan[ablate::kEraseWidth];
  auto erased = height > 0;
  CHECK(torch::equal(erased, width > 0));
  const double erased_share = erased.to(torch::kFloat64).mean().item<double>();
  CHECK(erased_share > 0.45);
  CHECK(erased_share < 0.55);
  auto area = (height * width).masked_select(erased);
  CHECK(area.min().item<int64_t>() >= 4);                         // 2% of 784 = 15.7, minus rounding of thin sides
  CHECK(area.max().item<int64_t>() <= 0.25 * 784 * 1.35 + 28);  // 25%, plus rounding
  CHECK((plan[ablate::kEraseTop] + height).max().item<int64_t>() <= 28);
  CHECK((plan[ablate::kEraseLeft] + width).max().item<int64_t>() <= 28);
  CHECK(plan[ablate::kEraseTop].min().item<int64_t>() >= 0);
  CHECK(plan[ablate::kEraseLeft].min().item<int64_t>() >= 0);
  // Aspect ratios cover both tall and wide rectangles.
  CHECK((height > 2 * width).any().item<bool>());
  CHECK((width > 2 * height).any().item<bool>());
}

TEST_CASE("uniforms map to a plan by the documented rule", "[augment]") {
  ablate::AugmentOptions options;
  options.shift = 2;
  options.flip = true;
  options.erase = 0.5;
  options.erase_max_area = 0.25;
  // Columns: u = 0 and u -> 1 at the ends of each range; erasing u = 0.49 (yes) and 0.5 (no).
  auto uniforms = torch::tensor({{0.0f, 0.9999f, 0.5f},     // dy = floor(5u) - 2
                                 {0.9999f, 0.0f, 0.39f},    // dx
                                 {0.49f, 0.5f, 0.0f},       // flip when u < 0.5
                                 {0.49f, 0.5f, 0.0f},       // erase when u < 0.5
                                 {0.5f, 0.5f, 0.0f},        // area (0.02 + 0.23u) * 784
                                 {0.5f, 0.5f, 0.0f},        // aspect exp(log 0.3 + u log 11)
                                 {0.5f, 0.5f, 0.0f},        // top floor(u (28 - h + 1))
                                 {0.9999f, 0.5f, 0.0f}});  // left
  auto plan = ablate::plan_from_uniforms(uniforms, 28, 28, options);
  // Image 0: area 105.84 px, aspect 0.995: 10 x 10 at top floor(0.5 * 19) = 9, left floor(0.9999 * 19) = 18.
  // Image 2: area 15.68 px, aspect 0.3: height round(2.17) = 2, width round(7.23) = 7, at (0, 0).
  auto expected = torch::tensor({{-2, 2, 0}, {2, -2, -1}, {1, 0, 1}, {9, 0, 0}, {18, 0, 0}, {10, 0, 2}, {10, 0, 7}},
                                torch::kInt64);
  CHECK(torch::equal(plan, expected));
  CHECK(torch::equal(ablate::plan_from_uniforms_by_tensor_ops(uniforms, 28, 28, options), expected));
  options.flip = false;
  options.erase = 0;
  auto no_flip_no_erase = ablate::plan_from_uniforms(uniforms, 28, 28, options);
  CHECK(no_flip_no_erase.slice(0, ablate::kFlip).eq(0).all().item<bool>());
}

TEST_CASE("the CPU plan equals the tensor-op plan of the same uniforms", "[augment]") {
  ablate::AugmentOptions options;
  options.shift = 3;
  options.flip = true;
  options.erase = 0.6;
  options.erase_max_area = 0.33;
  auto generator = ablate::make_generator(torch::kCPU, 4);
  auto uniforms = torch::rand({ablate::kAugmentUniforms, 20000}, generator, torch::kFloat32);
  auto on_host = ablate::plan_from_uniforms(uniforms, 28, 20, options);
  auto by_ops = ablate::plan_from_uniforms_by_tensor_ops(uniforms, 28, 20, options);
  CHECK(torch::equal(on_host, by_ops));
}
