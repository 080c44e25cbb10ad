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
