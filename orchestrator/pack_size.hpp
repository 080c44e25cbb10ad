// How many points one pack holds (--pack K | auto): --pack auto's rule, from the
// device and the model's size. The option's text is core/pack_option.hpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/pack_option.hpp"  // kPackAuto, kMaxPack, parse_pack_option

namespace ablate {

// The most --pack auto ever picks.
constexpr int kMaxAutoPack = 32;

// --pack auto's choice for a pack of points with this canonical config on
// `device` (as PointWork::prepare names it: "cpu", "cuda:0"):
//   on CUDA: as many as fit in kCudaPackBytes (4 GiB) at 16 bytes per parameter
//     (weights, gradients, two optimizer moments) plus 8 bytes per stored
//     activation value and image of a batch, at most kMaxAutoPack;
//   elsewhere (the CPU): 8 when a forward pass is at most 100k multiply-
//     accumulates per image (the linear model), 4 up to 1M (MLPs such as
//     2x256), else 1: the framework's per-operation overhead, which packing
//     shares out, only matters for small models; and 1 for any model with
//     convolutions (a grouped convolution is slower there than separate ones).
// A model the cost estimate does not know gets 1.
int auto_pack_size(const nlohmann::json& config, const std::string& device);

// What a pack led by this config may hold: `pack` (a count) or auto_pack_size.
int pack_size_for(int pack, const nlohmann::json& config, const std::string& device);

// "4" or "auto (cpu)": for the start lines.
std::string pack_option_text(int pack, const std::string& device);

}  // namespace ablate
