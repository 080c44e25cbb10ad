// One copy of the data set for a whole pack; each member's rows and normalisation.
#include "trainer/packed/pack_data.hpp"

#include <map>
#include <stdexcept>
#include <tuple>

#include "trainer/dataset.hpp"
#include "trainer/train_eval_subset.hpp"

namespace ablate {
namespace {

torch::Tensor pixels_of(const LabelledImages& set, const torch::Device& device) {
  auto pixels = torch::from_blob(const_cast<uint8_t*>(set.pixels.data()), {set.count, 1, set.rows, set.cols},
                                 torch::kUInt8);
  return device.is_cpu() ? pixels : pixels.to(device);  // on the CPU a view of the loaded file: no copy
}

torch::Tensor labels_of(const LabelledImages& set, const torch::Device& device) {
  auto labels = torch::from_blob(const_cast<uint8_t*>(set.labels.data()), {set.count}, torch::kUInt8);
  return labels.to(torch::TensorOptions().dtype(torch::kInt64).device(device));
}

// Each member's rows as one int64 [K, n] tensor on the device.
torch::Tensor stack_rows(const std::vector<std::vector<int64_t>>& rows, const torch::Device& device) {
  std::vector<torch::Tensor> tensors;
  for (const auto& r : rows) tensors.push_back(torch::tensor(r, torch::kInt64));
  return torch::stack(tensors).to(device);
}

struct MemberRows {
  std::vector<int64_t> train, val, train_eval;
  Normalisation normalisation;
};

}  // namespace

PackData::PackData(const FashionMnist& data, const std::vector<TrainConfig>& configs, const torch::Device& device) {
  if (configs.empty()) throw std::invalid_argument("a pack needs at least one member");
  train_pixels_ = pixels_of(data.train, device);
  train_labels_ = labels_of(data.train, device);
  test_pixels_ = pixels_of(data.test, device);
  test_labels_ = labels_of(data.test, device);

  // Members with the same seed (and so the same rows) share the work of finding them.
  using RowsKey = std::tuple<int, std::string>;
  std::map<RowsKey, MemberRows> made;
  const ImageSums sums = image_sums(data.train);
  std::vector<std::vector<int64_t>> train, val, train_eval;
  std::vector<float> scale;
  for (const auto& config : configs) {
    const RowsKey key{config.seed, config.normalize};
    auto found = made.find(key);
    if (found == made.end()) {
      MemberRows m;
      SplitRows rows = split_rows(data, config);
      m.normalisation = normalisation_of(sums, rows.train, config.normalize);
      for (int64_t position : train_eval_subset(static_cast<uint64_t>(config.seed),
                                                static_cast<int64_t>(rows.train.size())))
        m.train_eval.push_back(rows.train[static_cast<size_t>(position)]);
      m.train = std::move(rows.train);
      m.val = std::move(rows.val);
      found = made.emplace(key, std::move(m)).first;
    }
    const MemberRows& m = found->second;
    train.push_back(m.train);
    val.push_back(m.val);
    train_eval.push_back(m.train_eval);
    // As float32: the value a float tensor times a double scalar multiplies by.
    scale.push_back(static_cast<float>(m.normalisation.scale));
    background_.push_back(static_cast<float>(m.normalisation.shift));  // the shift: a black pixel's value
  }
  train_rows_ = stack_rows(train, device);
  val_rows_ = stack_rows(val, device);
  train_eval_rows_ = stack_rows(train_eval, device);
  const auto members = static_cast<int64_t>(configs.size());
  scale_ = torch::tensor(scale, torch::kFloat32).view({members, 1, 1, 1, 1}).to(device);
  shift_ = torch::tensor(background_, torch::kFloat32).view({members, 1, 1, 1, 1}).to(device);
}

int64_t PackData::size(Split split) const {
  switch (split) {
    case Split::val: return val_rows_.size(1);
    case Split::test: return test_labels_.size(0);
    case Split::train_eval: return train_eval_rows_.size(1);
  }
  return 0;
}

torch::Tensor PackData::normalised(const torch::Tensor& pixels, const torch::Tensor& rows) const {
  const int64_t members = rows.size(0), n = rows.size(1);
  std::vector<int64_t> shape{members, n};
  for (int64_t d = 1; d < pixels.dim(); ++d) shape.push_back(pixels.size(d));
  if (!pixels.is_cpu()) {
    // Two rounded operations, as the lone run's `images * scale + shift`
    // (addcmul would be one pass, but fuses the multiply-add: other bits).
    auto images = pixels.index_select(0, rows.reshape({-1})).to(torch::kFloat32).view(shape);
    return images.mul_(scale_).add_(shift_);
  }
  // On the CPU one pass from the uint8 pixels, vectorised by the compiler:
  // convert, multiply, round, add, round (CMakeLists.txt builds this file
  // with -ffp-contract=off, so no fused multiply-add changes the bits).
  auto images = torch::empty(shape, torch::kFloat32);
  const auto row_index = rows.contiguous();
  const int64_t* row = row_index.data_ptr<int64_t>();
  const int64_t image_size = pixels.stride(0);
  const uint8_t* source = pixels.data_ptr<uint8_t>();
  const float* scale = scale_.data_ptr<float>();
  const float* shift = shift_.data_ptr<float>();
  float* target = images.data_ptr<float>();
  at::parallel_for(0, members * n, 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float member_scale = scale[i / n], member_shift = shift[i / n];
      const uint8_t* from = source + row[i] * image_size;
      float* to = target + i * image_size;
      for (int64_t p = 0; p < image_size; ++p) {
        const float scaled = static_cast<float>(from[p]) * member_scale;
        to[p] = scaled + member_shift;
      }
    }
  });
  return images;
}

PackBatch PackData::gather(const torch::Tensor& rows) const {
  const int64_t members = rows.size(0), n = rows.size(1);
  return PackBatch{normalised(train_pixels_, rows), train_labels_.index_select(0, rows.reshape({-1})).view({members, n})};
}

PackBatch PackData::train_batch(const torch::Tensor& positions) const {
  return gather(train_rows_.gather(1, positions));
}

PackBatch PackData::eval_batch(Split split, int64_t first, int64_t last) const {
  switch (split) {
    case Split::val: return gather(val_rows_.slice(1, first, last));
    case Split::train_eval: return gather(train_eval_rows_.slice(1, first, last));
    case Split::test: break;
  }
  // Every member sees the same test images, each in its own normalisation.
  const int64_t members = scale_.size(0);
  auto rows = torch::arange(first, last, train_rows_.options()).unsqueeze(0).expand({members, last - first});
  auto labels = test_labels_.slice(0, first, last).unsqueeze(0).expand({members, last - first});
  return PackBatch{normalised(test_pixels_, rows), labels};
}

void PackData::keep_members(const std::vector<int64_t>& kept) {
  const auto index = torch::tensor(kept, torch::kInt64).to(train_rows_.device());
  train_rows_ = train_rows_.index_select(0, index);
  val_rows_ = val_rows_.index_select(0, index);
  train_eval_rows_ = train_eval_rows_.index_select(0, index);
  scale_ = scale_.index_select(0, index);
  shift_ = shift_.index_select(0, index);
  std::vector<float> background;
  for (int64_t k : kept) background.push_back(background_[static_cast<size_t>(k)]);
  background_ = std::move(background);
}

}  // namespace ablate
