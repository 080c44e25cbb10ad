// Tests of trainer/dataset on the real Fashion-MNIST: the split and the normalisation.
#include "tests/trainer/torch_catch.hpp"

#include <algorithm>
#include <set>

#include "trainer/dataset.hpp"

namespace {
const ablate::FashionMnist& real_data() {
  static const ablate::FashionMnist data = ablate::load_fashion_mnist("");
  return data;
}
}  // namespace

TEST_CASE("the validation split is stratified, seeded and sorted", "[dataset]") {
  const auto& labels = real_data().train.labels;
  const auto a = ablate::stratified_validation_indices(labels, 10, 5000, 1);
  const auto b = ablate::stratified_validation_indices(labels, 10, 5000, 1);
  const auto c = ablate::stratified_validation_indices(labels, 10, 5000, 2);
  REQUIRE(a.size() == 5000);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(std::set<int64_t>(a.begin(), a.end()).size() == 5000);
  std::vector<int> per_class(10, 0);
  for (auto i : a) ++per_class[labels[i]];
  CHECK(per_class == std::vector<int>(10, 500));
  // 5003 images: the three extra go to classes 0, 1, 2.
  const auto odd = ablate::stratified_validation_indices(labels, 10, 5003, 1);
  std::vector<int> odd_counts(10, 0);
  for (auto i : odd) ++odd_counts[labels[i]];
  CHECK(odd_counts == std::vector<int>({501, 501, 501, 500, 500, 500, 500, 500, 500, 500}));
}

TEST_CASE("splits are disjoint and normalised by the training split only", "[dataset]") {
  ablate::TrainConfig config;
  config.val_size = 5000;
  config.normalize = "standard";
  const auto splits = ablate::make_splits(real_data(), config, torch::kCPU);
  CHECK(splits.train.size() == 55000);
  CHECK(splits.val.size() == 5000);
  CHECK(splits.test.size() == 10000);
  CHECK((splits.train.images.sizes() == torch::IntArrayRef({55000, 1, 28, 28})));
  CHECK(splits.train.images.mean().item<double>() == Approx(0.0).margin(1e-4));
  CHECK(splits.train.images.std().item<double>() == Approx(1.0).epsilon(1e-4));
  CHECK(splits.pixel_mean == Approx(0.286).margin(0.002));  // Fashion-MNIST's well-known mean
  CHECK(splits.background == Approx(-splits.pixel_mean / splits.pixel_std));

  config.normalize = "unit";
  auto unit = ablate::make_splits(real_data(), config, torch::kCPU);
  CHECK(unit.test.images.max().item<float>() <= 1.0f);
  CHECK(unit.test.images.min().item<float>() >= 0.0f);
  config.normalize = "none";
  config.train_limit = 1000;
  auto raw = ablate::make_splits(real_data(), config, torch::kCPU);
  CHECK(raw.train.size() == 1000);
  CHECK(raw.test.images.max().item<float>() == 255.0f);
}

TEST_CASE("pixel statistics from integer sums equal a float64 computation over the split's pixels", "[dataset]") {
  ablate::TrainConfig config;
  config.seed = 3;
  config.train_limit = 7000;
  const auto rows = ablate::split_rows(real_data(), config);
  const auto n = ablate::normalisation_of(ablate::image_sums(real_data().train), rows.train, "standard");
  const auto unit = ablate::raw_images(real_data().train, rows.train).to(torch::kFloat64) / 255.0;
  CHECK(n.pixel_mean == Approx(unit.mean().item<double>()).epsilon(1e-12));
  CHECK(n.pixel_std == Approx(unit.std().item<double>()).epsilon(1e-10));  // Welford in float64: ~1e-11
  CHECK(n.scale == Approx(1.0 / (255.0 * n.pixel_std)));
  CHECK(n.shift == Approx(-n.pixel_mean / n.pixel_std));
  // The same rows in another order: the same bits (sums are exact).
  auto reversed = rows.train;
  std::reverse(reversed.begin(), reversed.end());
  const auto again = ablate::normalisation_of(ablate::image_sums(real_data().train), reversed, "standard");
  CHECK(again.pixel_std == n.pixel_std);
  CHECK(again.pixel_mean == n.pixel_mean);
}

TEST_CASE("a validation split as large as the data is refused with the fix", "[dataset]") {
  ablate::TrainConfig config;
  config.val_size = 60000;
  CHECK_THROWS_WITH(ablate::make_splits(real_data(), config, torch::kCPU), Catch::Contains("lower val_size"));
}
