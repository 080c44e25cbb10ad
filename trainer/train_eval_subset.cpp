// The seeded subset of the training split that the clean train accuracy is measured on.
#include "trainer/train_eval_subset.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

namespace ablate {

std::vector<int64_t> train_eval_subset(uint64_t seed, int64_t train_size) {
  if (train_size < 0)
    throw std::invalid_argument("train_eval_subset: train_size = " + std::to_string(train_size) + " is negative");
  std::vector<int64_t> positions(static_cast<size_t>(train_size));
  std::iota(positions.begin(), positions.end(), int64_t{0});
  const int64_t count = std::min(kTrainEvalImages, train_size);
  if (count == train_size) return positions;
  // A partial Fisher-Yates shuffle written out (std::shuffle and the std
  // distributions are implementation-defined); its own stream, apart from the
  // validation split's (dataset.cpp) although both start from the point's seed.
  std::mt19937_64 rng(seed ^ 0x7ea1e7a15b5e7ull);
  for (int64_t i = 0; i < count; ++i) {
    const auto j = i + static_cast<int64_t>(rng() % static_cast<uint64_t>(train_size - i));
    std::swap(positions[static_cast<size_t>(i)], positions[static_cast<size_t>(j)]);
  }
  positions.resize(static_cast<size_t>(count));
  std::sort(positions.begin(), positions.end());
  return positions;
}

}  // namespace ablate
