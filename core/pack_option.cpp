// --pack's text and its conflict with --ranks-per-point; see pack_option.hpp.
#include "core/pack_option.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/option_error.hpp"

namespace ablate {

int parse_pack_option(const std::string& text) {
  if (text == "auto") return kPackAuto;
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1 || value > kMaxPack)
    throw OptionError(fmt::format("--pack {}: use the number of points to train together (1 = one at a time, at "
                                  "most {}) or auto (chosen from the device and the model size)",
                                  text, kMaxPack));
  return value;
}

std::string pack_option_value(int pack) { return pack == kPackAuto ? "auto" : std::to_string(pack); }

void check_pack_with_ranks_per_point(int pack, int ranks_per_point) {
  if (pack == 1 || ranks_per_point <= 1) return;
  const std::string value = pack_option_value(pack);
  throw OptionError(fmt::format(
      "--pack {} with --ranks-per-point {}: a pack trains on one rank, a data-parallel point on several; use "
      "--pack {} with --ranks-per-point 1 to train several points per rank, or --ranks-per-point {} without "
      "--pack to train each point over {} ranks",
      value, ranks_per_point, value, ranks_per_point, ranks_per_point));
}

}  // namespace ablate
