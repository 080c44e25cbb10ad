// The --pack option's text, limits and help, shared by `ablate run` and `ablate slurm`
// (which passes it on to the `ablate run` of its job). The auto rule is orchestrator/pack_size.hpp.
#pragma once

#include <string>

namespace ablate {

// --pack auto, as RunOptions::pack holds it.
constexpr int kPackAuto = 0;
// The most points a pack may hold (--pack K).
constexpr int kMaxPack = 256;

inline constexpr const char* kPackOptionHelp =
    "points trained together by one worker as one packed model: up to K points with equal shape keys "
    "(docs/packing.md); auto picks K from the device and the model size; 1: one point at a time";

// "auto" -> kPackAuto; "K" -> K (1..kMaxPack). Throws OptionError naming --pack.
int parse_pack_option(const std::string& text);

// The option's value as typed: "auto" for kPackAuto, else the count ("4").
std::string pack_option_value(int pack);

// A pack trains on one rank, so --pack other than 1 and --ranks-per-point above 1 exclude
// each other: throws OptionError naming both and the two ways out.
void check_pack_with_ranks_per_point(int pack, int ranks_per_point);

}  // namespace ablate
