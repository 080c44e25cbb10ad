// How many images per member one evaluation batch holds, lone or packed.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ablate {

// A lone point's 1,000 images; fewer per member in larger packs, so that a batch
// of every member stays near 4,000 images (12 MB of 28x28 float32). On the CPU a
// convolutional model gets 256 (shared by the members of a pack): its first
// activations are 32 channels or more of each image (256 images: 26 MB), and a
// block over glibc's 32 MB mmap threshold is a fresh mmap, page-faulted and zeroed
// batch after batch (at 1,000 images, half a packed CNN's evaluation time). CUDA's
// caching allocator keeps its blocks, and small batches would only add launches.
inline int64_t eval_batch_images(int64_t members, bool convolutional_on_cpu) {
  if (convolutional_on_cpu) return std::clamp<int64_t>(256 / members, 8, 1000);
  return std::clamp<int64_t>(4000 / members, 100, 1000);
}

}  // namespace ablate
